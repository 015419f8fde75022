"""Scoring files: row order, rows without text, atomic output, progress."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from odio.inference.batch import predict_file
from odio.inference.detector import Detector


class Failing:
    """A detector that fails on its second call, like a crash half-way through a file."""

    def __init__(self, detector: Detector) -> None:
        self.detector = detector
        self.labels = detector.labels
        self.calls = 0

    def predict_proba(self, texts):
        self.calls += 1
        if self.calls == 2:
            raise RuntimeError("out of memory")
        return self.detector.predict_proba(texts)

    def decide(self, P):
        return self.detector.decide(P)


@pytest.fixture(scope="module")
def detector(tfidf_run) -> Detector:
    return Detector.load(tfidf_run)


def test_rows_keep_their_order_and_bad_rows_are_counted(detector, sample_frame, tmp_path):
    texts = sample_frame["text"].tolist()[:23]
    rows = [{"id": 100 - i, "text": t} for i, t in enumerate(texts)]
    bad = {3: "", 7: "   ", 11: None, 15: 12345}  # empty, blank, null, not a string
    for i, value in bad.items():
        rows[i]["text"] = value
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    out = tmp_path / "out.jsonl"
    report = predict_file(detector, src, out, chunksize=4, progress=False)
    assert (report.rows, report.scored, report.empty) == (23, 19, 4)
    scored = pd.read_json(out, lines=True)
    assert scored["id"].tolist() == [r["id"] for r in rows]
    assert scored["prob_Odio"].isna().to_numpy().nonzero()[0].tolist() == sorted(bad)
    good = [i for i in range(23) if i not in bad]
    expected = detector.predict_proba([texts[i] for i in good])
    assert np.allclose(scored.loc[good, [f"prob_{x}" for x in detector.labels]], expected)
    assert "19 scored, 4 with an empty text" in report.summary()


def test_output_appears_only_when_complete(detector, sample_frame, tmp_path):
    src = tmp_path / "in.csv"
    sample_frame.head(30).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    out.write_text("an earlier result\n")
    failing = Failing(detector)
    with pytest.raises(RuntimeError, match="out of memory"):
        predict_file(failing, src, out, chunksize=10, progress=False)
    assert failing.calls == 2
    assert out.read_text() == "an earlier result\n"  # untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]  # no temp file


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_chunks_give_the_same_output_as_one_pass(detector, sample_frame, tmp_path, suffix):
    src = tmp_path / f"in{suffix}"
    frame = sample_frame.head(50)
    frame.to_csv(src, index=False) if suffix == ".csv" else frame.to_parquet(src)
    read = pd.read_csv if suffix == ".csv" else pd.read_parquet
    outputs = []
    for chunksize in (7, 4096):
        out = tmp_path / f"out{chunksize}{suffix}"
        predict_file(detector, src, out, chunksize=chunksize, progress=False)
        outputs.append(read(out))
    pd.testing.assert_frame_equal(outputs[0], outputs[1])
    assert outputs[0]["text"].tolist() == frame["text"].tolist()


def test_progress_bar_shows_the_rate(detector, sample_frame, tmp_path, capsys):
    src = tmp_path / "in.csv"
    sample_frame.head(20).to_csv(src, index=False)
    predict_file(detector, src, tmp_path / "out.csv", chunksize=5, progress=True)
    assert "tweets/s" in capsys.readouterr().err
