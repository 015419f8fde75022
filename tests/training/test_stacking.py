"""Stacking: base models in the same folds, a nested meta-model, save/load, reuse of runs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from odio.cli import main
from odio.config import StackConfig
from odio.errors import OdioError
from odio.inference.detector import Detector
from odio.models.stack import Stack, StackMeta, parse_stack
from odio.training.stacking import nested_oof


def _probs(path, labels):
    frame = pd.read_csv(path)
    return frame[[f"prob_{label}" for label in labels]].to_numpy()


@pytest.fixture(scope="module")
def stack_run(tmp_path_factory, split_files, tiny_run):
    """TF-IDF trained in the stack, the tiny transformer reused from its 2-fold run."""
    train, test = split_files
    out = tmp_path_factory.mktemp("runs") / "stack"
    argv = ["train", str(train), "--test", str(test), "--folds", "2", "--out", str(out), "-q"]
    assert main(argv + ["--model", f"stack:tfidf+{tiny_run}"]) == 0
    return out


def test_parse_stack_rejects_bad_specs():
    assert parse_stack("stack:tfidf+a/b") == ["tfidf", "a/b"]
    for bad in ("stack:tfidf", "stack:tfidf+", "stack:tfidf+tfidf", "stack:tfidf+stack:x"):
        with pytest.raises(OdioError):
            parse_stack(bad)


def test_nested_oof_never_sees_its_own_fold_labels():
    rng = np.random.default_rng(0)
    Y = rng.integers(0, 2, (90, 2))
    bases = [np.clip(Y * 0.5 + rng.random((90, 2)) * 0.5, 0, 1), rng.random((90, 2))]
    folds = np.arange(90) % 3
    oof = nested_oof(bases, Y, folds, StackConfig())
    flipped = Y.copy()
    flipped[folds == 1] = 1 - flipped[folds == 1]
    oof_flipped = nested_oof(bases, flipped, folds, StackConfig())
    # fold 1's stacked predictions do not depend on fold 1's labels ...
    np.testing.assert_array_equal(oof[folds == 1], oof_flipped[folds == 1])
    # ... but the other folds' do, since fold 1 trains their meta-model
    assert not np.allclose(oof[folds != 1], oof_flipped[folds != 1])


def test_meta_model_with_one_class_predicts_its_rate():
    Y = np.zeros((10, 1), dtype=int)
    meta = StackMeta.fit([np.random.default_rng(0).random((10, 1))] * 2, Y, StackConfig())
    assert meta.predict_proba([np.full((3, 1), 0.9)] * 2).max() < 1e-3


def test_stack_run_is_nested_over_its_bases(stack_run, tiny_run):
    metrics = json.loads((stack_run / "metrics.json").read_text())
    labels = metrics["labels"]
    assert metrics["backend"] == "stack"
    assert set(metrics["bases"]) == {"tfidf", str(tiny_run)}
    for base in metrics["bases"].values():
        assert {"cv", "oof", "test"} <= set(base)

    oof = pd.read_csv(stack_run / "oof.csv")
    tiny_oof = pd.read_csv(tiny_run / "oof.csv")
    np.testing.assert_array_equal(oof["fold"], tiny_oof["fold"])
    # the reused base's probabilities are its run's own out-of-fold predictions
    tiny = _probs(tiny_run / "oof.csv", labels)
    assert metrics["bases"][str(tiny_run)]["oof"]["at_0.5"]["f1_custom"] == pytest.approx(
        json.loads((tiny_run / "metrics.json").read_text())["oof"]["at_0.5"]["f1_custom"]
    )
    # the stack's OOF is the nested meta-model over the bases' OOF (TF-IDF refitted here)
    config = json.loads((stack_run / "model" / "config.json").read_text())
    assert [b["backend"] for b in config["bases"]] == ["tfidf", "transformer"]
    tfidf_oof = _rebuild_tfidf_oof(stack_run, labels)
    Y = oof[[f"true_{label}" for label in labels]].to_numpy()
    expected = nested_oof([tfidf_oof, tiny], Y, oof["fold"].to_numpy(), StackConfig())
    np.testing.assert_allclose(_probs(stack_run / "oof.csv", labels), expected, atol=1e-12)


def _rebuild_tfidf_oof(stack_run, labels):
    """The TF-IDF base's out-of-fold probabilities, recomputed from its saved fold members."""
    base = Detector.load(stack_run / "model" / "base_0").model
    frame = pd.read_csv(stack_run / "oof.csv")
    out = np.zeros((len(frame), len(labels)))
    for fold, member in enumerate(base.members):
        rows = frame["fold"].to_numpy() == fold
        out[rows] = member.predict_proba(base.prepare(frame["text"][rows].tolist()))
    return out


def test_stacked_model_saves_loads_and_predicts_like_the_run(stack_run, tmp_path):
    detector = Detector.load(stack_run)
    assert isinstance(detector.model, Stack)
    test = pd.read_csv(stack_run / "test_predictions.csv")
    P = detector.predict_proba(test["text"].tolist())
    np.testing.assert_allclose(P, _probs(stack_run / "test_predictions.csv", detector.labels))
    detector.save(tmp_path / "copy")
    again = Detector.load(tmp_path / "copy")
    np.testing.assert_array_equal(again.predict_proba(test["text"].tolist()), P)
    np.testing.assert_array_equal(again.thresholds, detector.thresholds)
    assert "stacked" in (tmp_path / "copy" / "README.md").read_text()


def test_reusing_a_run_with_other_folds_is_refused(split_files, tiny_run, tmp_path, capsys):
    train, test = split_files
    argv = ["train", str(train), "--test", str(test), "--folds", "3", "--out", str(tmp_path)]
    assert main(argv + ["-q", "--model", f"stack:tfidf+{tiny_run}"]) == 2
    assert "folds" in capsys.readouterr().err


def test_cli_rejects_a_one_base_stack(split_files, tmp_path, capsys):
    train, _ = split_files
    assert main(["train", str(train), "--out", str(tmp_path), "--model", "stack:tfidf"]) == 2
    assert "two or more bases" in capsys.readouterr().err


def test_a_stack_base_must_stay_inside_the_model(stack_run, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(stack_run / "model", copy)
    config = json.loads((copy / "config.json").read_text())
    for bad in (".", "..", "/etc", "../model"):
        config["bases"][0]["dir"] = bad
        (copy / "config.json").write_text(json.dumps(config))
        with pytest.raises(OdioError, match="a part must be a folder name inside"):
            Detector.load(copy)


def test_stacked_model_is_explained_by_occlusion(stack_run):
    detector = Detector.load(stack_run)
    explanation = detector.explain("los inmigrantes son flojos")
    assert explanation.method == "occlusion"
    assert explanation.words == ["los", "inmigrantes", "son", "flojos"]
    assert all(len(s) == 4 and np.isfinite(s).all() for s in explanation.scores.values())


def test_report_and_compare_read_a_stacked_run(stack_run, tfidf_run, tmp_path):
    from odio.reports.compare import compare_runs
    from odio.reports.report import write_report

    files = write_report(stack_run, tmp_path)
    markdown = files.markdown.read_text()
    assert "Stacked bases on their own" in markdown and "tfidf" in markdown
    table = compare_runs([stack_run, tfidf_run])
    assert table["backend"].tolist() == ["stack", "tfidf"]
