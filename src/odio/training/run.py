"""A training run end to end: read data, cross-validate, tune thresholds, write the run directory.

A run directory holds::

    config.yaml            the run's settings (RunConfig): odio train --config reproduces it
    metrics.json           per-fold, mean ± std, out-of-fold and test scores; the data files
    oof.csv                every training row's out-of-fold probabilities and fold id
    test_predictions.csv   blended test probabilities (when a test set was given)
    model/                 the model directory (see :mod:`odio.models.modeldir`)

It is built aside and swapped in whole (:func:`odio.training.rundir.building`).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from odio.config import RunConfig
from odio.data.folds import make_folds
from odio.data.labelled import LabelledData, load_labelled
from odio.metrics import binarize, score_at_both
from odio.models.modeldir import save_model
from odio.training.cv import CVResult, fit_folds
from odio.training.rundir import building, check_out_dir
from odio.training.stacking import cross_validate_stack
from odio.training.trainers import backend_name, default_preprocess
from odio.versions import VERSION

log = logging.getLogger(__name__)


def train_run(
    config: RunConfig,
    train_path: str | Path,
    out_dir: str | Path,
    *,
    test_path: str | Path | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Cross-validate ``config.model`` on ``train_path``, score ``test_path``, save everything.

    Args:
        config: the run's settings.
        train_path: labelled training tweets.
        out_dir: the run directory to write (see :func:`~odio.training.rundir.check_out_dir`
            for what it may replace).
        test_path: labelled test tweets, scored by the blended fold models.
        overwrite: replace an earlier run at ``out_dir``.
        progress: show progress bars.

    Returns:
        The contents of ``metrics.json``.

    Example:
        >>> metrics = train_run(RunConfig(), "examples/tweets_sample.csv", "runs/example",
        ...                     progress=False)  # doctest: +SKIP
        >>> metrics["oof"]["tuned"]["f1_custom"]  # doctest: +SKIP
        0.71
    """
    start = time.perf_counter()
    check_out_dir(out_dir, overwrite=overwrite, inputs=[train_path, test_path])
    backend = backend_name(config.model)
    if config.preprocess is None and backend != "stack":  # each base of a stack has its own
        config = config.model_copy(update={"preprocess": default_preprocess(backend)})
    train = load_labelled(train_path, config.data, training=True)
    log.info(train.report.summary())
    test = load_labelled(test_path, config.data, training=False) if test_path else None
    if test is not None:
        log.info(test.report.summary())

    fold_ids = make_folds(train.Y, config.cv.folds, config.cv.seed, config.cv.split)
    if backend == "stack":
        stacked = cross_validate_stack(config, train, test, fold_ids, progress=progress)
        result, thresholds = stacked.result, stacked.thresholds
    else:
        result, blend, thresholds = fit_folds(config, train, test, fold_ids, progress=progress)
    seconds = time.perf_counter() - start

    metrics = _metrics(config, backend, train, test, result, thresholds, seconds)
    if backend == "stack":
        metrics["bases"] = {b.spec: b.metrics(train, test) for b in stacked.bases}
    info = {
        "data": {"min_votes": config.data.min_votes, "text_column": config.data.text_column},
        "metrics": {k: metrics[k] for k in ("cv", "oof", "test") if k in metrics},
    }
    with building(out_dir) as tmp:
        config.to_yaml(tmp / "config.yaml")
        _predictions_frame(train, result.oof, thresholds, fold_ids).to_csv(
            tmp / "oof.csv", index=False
        )
        if test is not None and result.test is not None:
            _predictions_frame(test, result.test, thresholds).to_csv(
                tmp / "test_predictions.csv", index=False
            )
        if backend == "stack":
            stacked.save_model(tmp / "model", info)
        else:
            save_model(tmp / "model", blend, train.labels, thresholds, info)
        metrics["seconds"] = round(time.perf_counter() - start, 2)
        (tmp / "metrics.json").write_text(
            json.dumps(metrics, indent=2, ensure_ascii=False), encoding="utf-8"
        )
    return metrics


def _metrics(
    config: RunConfig,
    backend: str,
    train: LabelledData,
    test: LabelledData | None,
    result: CVResult,
    thresholds: np.ndarray,
    seconds: float,
) -> dict[str, Any]:
    labels = train.labels
    metrics: dict[str, Any] = {
        "odio_version": VERSION,
        "model": config.model,
        "backend": backend,
        "labels": labels,
        "min_votes": config.data.min_votes,
        "data": {"train": asdict(train.report)},
        "folds": [
            {
                "fold": f.fold,
                "train_rows": f.train_rows,
                "val_rows": f.val_rows,
                "seconds": round(f.seconds, 2),
                "scores": f.scores,
                "history": f.history,
            }
            for f in result.folds
        ],
        "cv": result.fold_summary(),
        "thresholds": dict(zip(labels, thresholds.tolist(), strict=True)),
        "oof": score_at_both(train.Y, result.oof, labels, thresholds),
        "train_seconds": round(seconds, 2),
    }
    if test is not None and result.test is not None:
        metrics["data"]["test"] = asdict(test.report)
        metrics["test"] = score_at_both(test.Y, result.test, labels, thresholds)
    return metrics


def _predictions_frame(
    data: LabelledData,
    P: np.ndarray,
    thresholds: np.ndarray,
    fold_ids: np.ndarray | None = None,
) -> pd.DataFrame:
    columns: dict[str, Any] = {"row": data.rows}
    if fold_ids is not None:
        columns["fold"] = fold_ids
    columns["text"] = data.texts
    decisions = binarize(P, thresholds)
    for j, label in enumerate(data.labels):
        columns[f"true_{label}"] = data.Y[:, j]
    for j, label in enumerate(data.labels):
        columns[f"prob_{label}"] = P[:, j]
    for j, label in enumerate(data.labels):
        columns[f"pred_{label}"] = decisions[:, j]
    return pd.DataFrame(columns)
