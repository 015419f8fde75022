"""Fixtures of the reliability tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def writer_argv(request: pytest.FixtureRequest) -> Callable[[str, Path], list[str]]:
    """``(command, out) -> argv``: the command line of each odio command that writes an
    output folder (train, distill, evaluate, export), writing to ``out``. Its fixtures
    (runs to distil, evaluate or export) are trained when the function is called."""

    def argv(command: str, out: Path) -> list[str]:
        train, test = request.getfixturevalue("split_files")
        if command == "train":
            return ["train", str(train), "--folds", "2", "--out", str(out), "-q"]
        run = request.getfixturevalue("tiny_run" if command == "export" else "tfidf_run")
        if command == "distill":
            return ["distill", str(run), "--out", str(out)]
        if command == "evaluate":
            return ["evaluate", str(run), str(test), "--out", str(out)]
        return ["export", str(run), "-o", str(out), "-q"]

    return argv
