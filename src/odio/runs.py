"""Reading a run directory back: what ``odio train`` (or ``odio evaluate --out``) wrote.

:func:`read_run` reads ``metrics.json``, ``config.yaml``, ``oof.csv`` and, when a test set
was given, ``test_predictions.csv`` into a :class:`RunData`, and says clearly when a
directory is not a run. It sits below both training (stacking and distillation reuse
finished runs through it) and reports (``odio report``, ``odio compare``), so reports never
import training; writing a run is :meth:`odio.training.result.TrainedRun.save`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from odio.errors import OdioError


@dataclass(frozen=True)
class RunData:
    """A finished run directory, read back.

    Example:
        >>> run = read_run("runs/tfidf")  # doctest: +SKIP
        >>> run.name, run.labels[0], run.test is not None  # doctest: +SKIP
        ('tfidf', 'Odio', True)
    """

    path: Path
    metrics: dict[str, Any]
    """The contents of ``metrics.json``."""
    config: dict[str, Any]
    """The contents of ``config.yaml`` (empty when the file is missing)."""
    oof: pd.DataFrame | None = None
    """``oof.csv`` (``None`` when read with ``predictions=False``)."""
    test: pd.DataFrame | None = None
    """``test_predictions.csv``; ``None`` when the run has no test set."""

    @property
    def name(self) -> str:
        """The directory's name."""
        return self.path.resolve().name

    @property
    def labels(self) -> list[str]:
        """Label names, the main label first."""
        return list(self.metrics["labels"])

    @property
    def thresholds(self) -> np.ndarray:
        """The tuned threshold of every label (0.5 where the run has none)."""
        tuned = self.metrics.get("thresholds") or {}
        return np.array([float(tuned.get(label, 0.5)) for label in self.labels])

    def predictions(self, which: str) -> pd.DataFrame | None:
        """``oof.csv`` for ``"oof"``, ``test_predictions.csv`` for ``"test"``."""
        return self.oof if which == "oof" else self.test

    def frame(self, which: str) -> pd.DataFrame:
        """:meth:`predictions`, or an error naming the missing file."""
        frame = self.predictions(which)
        if frame is None:
            name = "oof.csv" if which == "oof" else "test_predictions.csv"
            raise OdioError(f"{self.path} has no {name} (read with predictions, or a test set)")
        return frame

    def arrays(self, which: str) -> tuple[np.ndarray, np.ndarray]:
        """``(Y, P)``: the true labels and probabilities of :meth:`frame` as float arrays,
        one column per label (``nan`` where a value was unreadable)."""
        frame = self.frame(which)
        Y = frame[[f"true_{label}" for label in self.labels]].to_numpy(dtype=float)
        P = frame[[f"prob_{label}" for label in self.labels]].to_numpy(dtype=float)
        return Y, P


def dig(data: Any, *keys: str) -> Any:
    """``data[k1][k2]...`` of nested run data, or ``None`` where a key is missing.

    >>> dig({"test": {"tuned": {"f1_custom": 0.8}}}, "test", "tuned", "f1_custom")
    0.8
    >>> dig({"oof": {}}, "test", "tuned") is None
    True
    """
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def is_run_dir(path: str | Path) -> bool:
    """Whether ``path`` holds a finished ``odio train`` run (what :func:`read_run` needs).

    >>> is_run_dir("not/a/run")
    False
    """
    path = Path(path)
    return (path / "metrics.json").is_file() and (path / "oof.csv").is_file()


def read_run(run_dir: str | Path, *, predictions: bool = True) -> RunData:
    """Read a run directory written by ``odio train`` (or an evaluation written by
    ``odio evaluate --out``: test scores and predictions only, ``"kind": "evaluation"``).

    Args:
        run_dir: the run directory.
        predictions: also read ``oof.csv`` and ``test_predictions.csv``.

    Raises:
        OdioError: ``run_dir`` is not a run directory (no ``metrics.json``, or no
            ``oof.csv`` for a training run), or one of its files cannot be read.

    Example:
        >>> read_run("not/a/run")
        Traceback (most recent call last):
        ...
        odio.errors.OdioError: not/a/run is not a run directory: not found
    """
    path = Path(run_dir)
    if not path.is_dir():
        raise OdioError(f"{run_dir} is not a run directory: not found")
    if not (path / "metrics.json").is_file():
        raise OdioError(
            f"{run_dir} is not a run directory: metrics.json is missing (odio train writes it)"
        )
    try:
        metrics = json.loads((path / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise OdioError(f"{path / 'metrics.json'}: cannot be read: {exc}") from exc
    if not isinstance(metrics, dict) or not metrics.get("labels"):
        raise OdioError(f"{path / 'metrics.json'}: no 'labels'; not written by odio train")
    evaluation = metrics.get("kind") == "evaluation"
    if "one_model" in metrics:
        raise OdioError(
            f"{run_dir} is one model trained on every row (cv.folds: 1): it has no out-of-fold "
            "predictions to report or compare; score it with odio evaluate or odio check, or "
            "start a k-fold run from it with --init"
        )
    required = "test_predictions.csv" if evaluation else "oof.csv"
    if not (path / required).is_file():
        raise OdioError(
            f"{run_dir} is not a run directory: {required} is missing "
            f"(odio {'evaluate --out' if evaluation else 'train'} writes it)"
        )
    config: dict[str, Any] = {}
    if (path / "config.yaml").is_file():
        try:
            config = yaml.safe_load((path / "config.yaml").read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise OdioError(f"{path / 'config.yaml'}: cannot be read: {exc}") from exc
    if not predictions:
        return RunData(path, metrics, config)
    labels = metrics["labels"]
    oof = None if evaluation else _read_predictions(path / "oof.csv", labels)
    test_file = path / "test_predictions.csv"
    test = _read_predictions(test_file, labels) if test_file.is_file() else None
    return RunData(path, metrics, config, oof, test)


def _read_predictions(file: Path, labels: list[str]) -> pd.DataFrame:
    """One predictions CSV, its ``true_*`` and ``prob_*`` columns numeric (NaN if unreadable)."""
    try:
        frame = pd.read_csv(file, keep_default_na=False, na_values={})
    except (OSError, ValueError) as exc:
        raise OdioError(f"{file}: cannot be read: {exc}") from exc
    needed = ["text"] + [f"{kind}_{label}" for kind in ("true", "prob") for label in labels]
    missing = [column for column in needed if column not in frame.columns]
    if missing:
        raise OdioError(f"{file}: column {missing[0]!r} not found")
    for label in labels:
        frame[f"prob_{label}"] = pd.to_numeric(frame[f"prob_{label}"], errors="coerce")
        frame[f"true_{label}"] = pd.to_numeric(frame[f"true_{label}"], errors="coerce")
    return frame
