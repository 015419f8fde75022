"""Slow checks on the real Datathon 2022 data (run with ``python -m pytest -m slow``).

The data is read by path, never copied into the repo: ``$ODIO_DATATHON`` or
``../shared/data/datathon2022`` beside the checkout.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from odio.cli import main

DATA = Path(os.environ.get("ODIO_DATATHON", Path(__file__).parents[2] / "shared/data/datathon2022"))

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (DATA / "tweets_train.csv").exists(), reason=f"no data at {DATA}"),
]


def test_tfidf_reaches_the_datathon_reference(tmp_path):
    out = tmp_path / "tfidf"
    argv = [
        "train",
        str(DATA / "tweets_train.csv"),
        "--test",
        str(DATA / "tweets_test.csv"),
        "--model",
        "tfidf",
        "--out",
        str(out),
        "-q",
    ]
    assert main(argv) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["data"]["train"]["rows_used"] == 2256
    assert metrics["data"]["test"]["rows_used"] == 2291
    assert metrics["test"]["tuned"]["f1_custom"] >= 0.80
    assert metrics["test"]["at_0.5"]["per_label"]["Odio"]["f1"] >= 0.80
