"""Shared fixtures: the shipped example tweets, split into small train and test files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "tweets_sample.csv"


@pytest.fixture(scope="session")
def sample_frame() -> pd.DataFrame:
    return pd.read_csv(SAMPLE)


@pytest.fixture(scope="session")
def split_files(tmp_path_factory, sample_frame) -> tuple[Path, Path]:
    """(train.csv, test.csv): 2/3 of the sample to train on (with a leading index column,
    like the Datathon files), the rest as a test set."""
    folder = tmp_path_factory.mktemp("data")
    shuffled = sample_frame.sample(frac=1.0, random_state=0).reset_index(drop=True)
    cut = int(len(shuffled) * 2 / 3)
    train, test = folder / "train.csv", folder / "test.csv"
    shuffled.iloc[:cut].to_csv(train)  # index column, as in the Datathon files
    shuffled.iloc[cut:].to_csv(test, index=False)
    return train, test


@pytest.fixture(scope="session")
def tfidf_run(tmp_path_factory, split_files) -> Path:
    """A finished 3-fold TF-IDF run on the sample (trained once per session)."""
    from odio.cli import main

    train, test = split_files
    out = tmp_path_factory.mktemp("runs") / "tfidf"
    assert (
        main(
            ["train", str(train), "--test", str(test), "--folds", "3", "--out", str(out), "--quiet"]
        )
        == 0
    )
    return out
