"""The Python training API: odio.fit returns a fitted Detector with typed scores, and saving
it writes the run directory that odio train writes for the same settings."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import odio
from odio.cli import main
from odio.errors import OdioError
from odio.scores import ScorePair, Scores

TIMES = {"seconds", "train_seconds"}


def _without_times(data):
    """A metrics.json or config.json with its wall times left out (they differ run to run)."""
    if isinstance(data, dict):
        return {k: _without_times(v) for k, v in data.items() if k not in TIMES}
    if isinstance(data, list):
        return [_without_times(v) for v in data]
    return data


@pytest.fixture(scope="module")
def fitted(split_files):
    train, test = split_files
    return odio.fit(train, {"cv": {"folds": 3}}, test=test, progress=False)


def test_fit_returns_a_detector_and_typed_scores(fitted, split_files):
    assert isinstance(fitted.detector, odio.Detector)
    assert fitted.labels == fitted.detector.labels
    assert fitted.labels[0] == "Odio" and len(fitted.folds) == 3
    assert isinstance(fitted.oof, ScorePair) and isinstance(fitted.test, ScorePair)
    assert isinstance(fitted.oof.tuned, Scores)
    assert fitted.oof.tuned.metric == "f1_custom"
    assert fitted.oof.tuned.headline == fitted.metrics["oof"]["tuned"]["f1_custom"]
    assert (
        fitted.test.at_half.per_label["Odio"].f1
        == (fitted.metrics["test"]["at_0.5"]["per_label"]["Odio"]["f1"])
    )
    assert [f.fold for f in fitted.folds] == [0, 1, 2]
    assert fitted.cv["f1_custom"].mean == pytest.approx(
        np.mean([f.scores.f1_custom for f in fitted.folds])
    )
    assert list(fitted.detector.thresholds) == [fitted.thresholds[lab] for lab in fitted.labels]
    # the out-of-fold frame holds one prediction per training row, each from the fold
    # model that did not see it
    train, _ = split_files
    assert len(fitted.oof_predictions) == len(pd.read_csv(train))
    # the blended detector gives the test predictions that were scored
    _, test = split_files
    texts = pd.read_csv(test)["text"].tolist()
    probs = fitted.detector.predict_proba(texts)
    columns = [f"prob_{label}" for label in fitted.labels]
    np.testing.assert_allclose(probs, fitted.test_predictions[columns].to_numpy(), atol=1e-9)


def test_a_data_frame_trains_as_its_file_does(fitted, split_files):
    train, test = split_files
    frame = pd.read_csv(train, index_col=0)
    run = odio.fit(frame, {"cv": {"folds": 3}}, test=pd.read_csv(test), progress=False)
    np.testing.assert_allclose(
        run.oof_predictions.filter(like="prob_").to_numpy(),
        fitted.oof_predictions.filter(like="prob_").to_numpy(),
    )
    assert run.thresholds == fitted.thresholds
    assert run.metrics["data"]["train"]["path"] == "the data frame"
    assert run.info["training"]["train_path"] is None


def test_python_and_cli_write_the_same_run_folder(fitted, split_files, tmp_path):
    train, test = split_files
    from_python = fitted.save(tmp_path / "python")
    from_cli = tmp_path / "cli"
    argv = ["train", str(train), "--test", str(test), "--folds", "3", "--out", str(from_cli)]
    assert main([*argv, "-q"]) == 0
    for name in ("config.yaml", "oof.csv", "test_predictions.csv"):
        assert (from_python / name).read_bytes() == (from_cli / name).read_bytes(), name
    for name in ("metrics.json", "model/config.json"):
        python_json = json.loads((from_python / name).read_text())
        cli_json = json.loads((from_cli / name).read_text())
        assert _without_times(python_json) == _without_times(cli_json), name
    a, b = odio.Detector.load(from_python), odio.Detector.load(from_cli)
    texts = ["los odio a todos", "que lindo dia"]
    np.testing.assert_array_equal(a.predict_proba(texts), b.predict_proba(texts))


def test_save_refuses_a_folder_of_the_users(fitted, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(OdioError, match="not an odio run"):
        fitted.save(mine, overwrite=True)
    assert (mine / "notes.txt").read_text() == "keep me"


def test_evaluate_gives_typed_scores_equal_to_the_cli(tfidf_run, split_files, capsys):
    _, test = split_files
    result = odio.evaluate(tfidf_run, test)
    assert main(["evaluate", str(tfidf_run), str(test), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert result.tuned.to_dict() == printed["tuned"]
    assert result.at_half.to_dict() == printed["at_0.5"]
    detector = odio.Detector.load(tfidf_run)
    assert odio.evaluate(detector, pd.read_csv(test)).tuned == result.tuned


def test_config_as_mapping_yaml_or_object(fitted, tmp_path):
    path = tmp_path / "config.yaml"
    fitted.config.to_yaml(path)
    assert odio.fit.__module__ == "odio.training.fit"
    from odio.training.fit import as_config

    assert as_config(path) == fitted.config == as_config(fitted.config.to_dict())
    with pytest.raises(OdioError, match="cv.fold"):
        as_config({"cv": {"fold": 3}})
