"""Evaluating and scoring files shaped unlike the training data: other id columns or none,
lone surrogates in JSON, texts that are lists."""

from __future__ import annotations

import json
import logging

import pandas as pd
import pytest

from odio.inference.batch import predict_file
from odio.inference.detector import Detector
from odio.inference.evaluate import evaluate_run


def _with_ids(sample_frame: pd.DataFrame, column: str | None, rows: slice) -> pd.DataFrame:
    frame = sample_frame.iloc[rows].reset_index(drop=True)
    if column is not None:
        frame.insert(0, column, [f"{column}-{i}" for i in range(len(frame))])
    return frame


@pytest.fixture(scope="module")
def tweet_id_run(tmp_path_factory, sample_frame):
    """A 3-fold TF-IDF run trained on a file whose ids are in ``tweet_id`` (the Datathon's)."""
    from odio.cli import main

    folder = tmp_path_factory.mktemp("tweet_id_run")
    train = folder / "train.csv"
    _with_ids(sample_frame, "tweet_id", slice(0, 60)).to_csv(train, index=False)
    out = folder / "run"
    assert main(["train", str(train), "--folds", "3", "--out", str(out), "-q"]) == 0
    return out


@pytest.mark.parametrize("column", ["id", "tweet_id", "ref", None])
def test_a_tweet_id_model_evaluates_files_with_other_ids_or_none(
    tweet_id_run, sample_frame, tmp_path, column
):
    path = tmp_path / "test.csv"
    _with_ids(sample_frame, column, slice(60, None)).to_csv(path, index=False)
    result = evaluate_run(tweet_id_run, path, out=tmp_path / "eval")
    expected = column if column in ("id", "tweet_id") else None
    assert result["data"]["id_column"] == expected
    written = pd.read_csv(tmp_path / "eval" / "test_predictions.csv")
    if expected:
        assert written[expected].tolist() == [f"{column}-{i}" for i in range(len(written))]


@pytest.mark.parametrize("trained, other", [("id", "tweet_id"), ("tweet_id", "id")])
def test_both_directions_of_id_and_tweet_id(tmp_path, sample_frame, trained, other):
    from odio.cli import main

    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    _with_ids(sample_frame, trained, slice(0, 60)).to_csv(train, index=False)
    _with_ids(sample_frame, other, slice(60, None)).to_csv(test, index=False)
    out = tmp_path / "run"
    assert main(["train", str(train), "--folds", "3", "--out", str(out), "-q"]) == 0
    assert evaluate_run(out, test)["data"]["id_column"] == other


def test_an_id_column_given_must_exist(tweet_id_run, sample_frame, tmp_path):
    from odio.errors import OdioError

    path = tmp_path / "test.csv"
    _with_ids(sample_frame, "id", slice(60, None)).to_csv(path, index=False)
    with pytest.raises(OdioError, match="column 'ref' not found"):
        evaluate_run(tweet_id_run, path, data={"id_column": "ref"})


def _surrogate_file(sample_frame, tmp_path):
    rows = sample_frame.iloc[:6].to_dict("records")
    rows[1]["text"] = "se cortó el emoji \ud83d"
    rows[4]["text"] = "\ud83d\ude00 bien"  # a whole emoji: nothing to replace
    path = tmp_path / "cut.jsonl"
    # ensure_ascii writes the lone surrogate as the escape "\ud83d", as the API does
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    assert '"se cort\\u00f3 el emoji \\ud83d"' in path.read_text(encoding="utf-8")
    return path


@pytest.mark.parametrize("suffix", ["csv", "jsonl", "parquet"])
def test_predict_a_jsonl_with_a_lone_surrogate(tfidf_run, sample_frame, tmp_path, caplog, suffix):
    detector = Detector.load(tfidf_run)
    out = tmp_path / f"scored.{suffix}"
    report = predict_file(detector, _surrogate_file(sample_frame, tmp_path), out, progress=False)
    assert report.rows == report.scored == 6
    scored = pd.read_parquet(out) if suffix == "parquet" else None
    if scored is None:
        scored = pd.read_csv(out) if suffix == "csv" else pd.read_json(out, lines=True)
    assert scored["text"][1] == "se cortó el emoji \ufffd"
    assert scored["text"][4] == "\U0001f600 bien"
    assert scored["prob_Odio"][1] == pytest.approx(
        detector.predict_proba(["se cortó el emoji \ud83d"])[0, 0]
    )
    assert "1 cells held a lone UTF-16 surrogate" in caplog.text


def test_evaluate_a_jsonl_with_a_lone_surrogate(tfidf_run, sample_frame, tmp_path):
    result = evaluate_run(tfidf_run, _surrogate_file(sample_frame, tmp_path), out=tmp_path / "e")
    assert result["data"]["rows_used"] == 6
    written = pd.read_csv(tmp_path / "e" / "test_predictions.csv")
    assert written["text"][1] == "se cortó el emoji \ufffd"


def test_predict_names_texts_that_are_lists(tfidf_run, tmp_path, caplog):
    path = tmp_path / "in.jsonl"
    rows = [{"text": ["a", "b"]}, {"text": "hola"}, {"text": ""}, {"text": ["c"]}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        report = predict_file(Detector.load(tfidf_run), path, tmp_path / "o.csv", progress=False)
    assert (report.rows, report.scored) == (4, 1)
    assert "2 rows had a text that is a list, not text (rows 0, 3)" in caplog.text
    assert "1 rows had an empty text" in caplog.text
