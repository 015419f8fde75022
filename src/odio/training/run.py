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
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from odio.config import RunConfig
from odio.data.folds import make_folds
from odio.data.labelled import LabelledData, load_labelled, load_source
from odio.metrics import decide, score_at_both
from odio.models.modeldir import save_model
from odio.training.cv import CVResult, fit_folds
from odio.training.engines import Engine, LocalEngine
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
    engine: Engine | None = None,
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
        engine: where the folds run (default: here, one after another); see
            :mod:`odio.training.engines`. It does not change what the run writes, apart
            from ``metrics.json``'s ``engine`` and times.

    Returns:
        The contents of ``metrics.json``.

    Example:
        >>> metrics = train_run(RunConfig(), "examples/tweets_sample.csv", "runs/example",
        ...                     progress=False)  # doctest: +SKIP
        >>> metrics["oof"]["tuned"]["f1_custom"]  # doctest: +SKIP
        0.71
    """
    start = time.perf_counter()
    engine = engine or LocalEngine()
    check_out_dir(out_dir, overwrite=overwrite, inputs=[train_path, test_path])
    backend = backend_name(config.model)
    if config.preprocess is None and backend != "stack":  # each base of a stack has its own
        config = config.model_copy(update={"preprocess": default_preprocess(backend)})
    train = load_labelled(train_path, config.data, training=True)
    log.info(train.report.summary())
    test = load_labelled(test_path, config.data, training=False) if test_path else None
    if test is not None:
        log.info(test.report.summary())
    sources = [load_source(source, config.data) for source in config.data.sources]
    for source in sources:
        log.info("extra training source %s", source.report.summary())

    fold_ids = make_folds(train.Y, config.cv.folds, config.cv.seed, config.cv.split)
    if backend == "stack":
        stacked = cross_validate_stack(
            config, train, test, fold_ids, sources=sources, progress=progress, engine=engine
        )
        result, thresholds = stacked.result, stacked.thresholds
    else:
        result, blend, thresholds = fit_folds(
            config, train, test, fold_ids, sources=sources, progress=progress, engine=engine
        )
    seconds = time.perf_counter() - start

    metrics = _metrics(config, backend, train, test, result, thresholds, seconds)
    if sources:
        metrics["data"]["sources"] = [
            {**asdict(s.report), "known": dict(zip(s.labels, s.known.sum(0).tolist(), strict=True))}
            for s in sources
            if s.known is not None
        ]
    metrics["engine"] = engine.describe()
    rule = config.thresholds.decision_rule
    if backend == "stack":
        metrics["bases"] = {
            b.spec: b.metrics(train, test, metric=metrics["metric"], rule=rule)
            for b in stacked.bases
        }
    if not is_first_process():
        # DDP across nodes started by torchrun or SLURM: every process ran the folds
        log.info("this process is not rank 0: the run directory is written by rank 0")
        return metrics
    command = f"odio train {Path(train_path).name}" + (
        f" --test {Path(test_path).name}" if test_path else ""
    )
    info = {
        "data": _data_info(config, train),
        "training": {
            "command": command + " --config config.yaml  # config.yaml: the settings below",
            "config": config.to_dict(),
            "train_path": str(train_path),
            "test_path": None if test_path is None else str(test_path),
        },
        "metric": metrics["metric"],
        "metrics": {k: metrics[k] for k in ("cv", "oof", "test") if k in metrics},
    }
    with building(out_dir) as tmp:
        config.to_yaml(tmp / "config.yaml")
        _predictions_frame(train, result.oof, thresholds, rule, fold_ids).to_csv(
            tmp / "oof.csv", index=False
        )
        if test is not None and result.test is not None:
            _predictions_frame(test, result.test, thresholds, rule).to_csv(
                tmp / "test_predictions.csv", index=False
            )
        if backend == "stack":
            stacked.save_model(tmp / "model", info, rule)
        else:
            save_model(tmp / "model", blend, train.labels, thresholds, info, rule)
        metrics["seconds"] = round(time.perf_counter() - start, 2)
        (tmp / "metrics.json").write_text(
            json.dumps(metrics, indent=2, ensure_ascii=False), encoding="utf-8"
        )
    return metrics


RANK_VARIABLES = ("RANK", "NODE_RANK", "SLURM_PROCID")
"""Set by torchrun, Lightning's multi-node environment and SLURM to each process's rank."""


def is_first_process() -> bool:
    """Whether this process writes the run directory: it is not a later rank of a
    multi-process launch (``--num-nodes`` with torchrun or SLURM runs ``odio train`` once
    per process; rank 0 writes, the others only train).

    >>> is_first_process()  # a plain odio train
    True
    """
    return all(os.environ.get(name, "0").strip() in ("", "0") for name in RANK_VARIABLES)


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
    metric = config.headline(labels)
    rule = config.thresholds.decision_rule
    metrics: dict[str, Any] = {
        "odio_version": VERSION,
        "model": config.model,
        "backend": backend,
        "labels": labels,
        "metric": metric,
        "min_votes": config.data.min_votes if train.report.label_format == "votes" else None,
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
        "threshold_objectives": dict(zip(labels, config.objectives(labels), strict=True)),
        "decision_rule": rule,
        "oof": score_at_both(train.Y, result.oof, labels, thresholds, metric=metric, rule=rule),
        "train_seconds": round(seconds, 2),
    }
    if test is not None and result.test is not None:
        metrics["data"]["test"] = asdict(test.report)
        metrics["test"] = score_at_both(
            test.Y, result.test, labels, thresholds, metric=metric, rule=rule
        )
    return metrics


def _data_info(config: RunConfig, train: LabelledData) -> dict[str, Any]:
    """What scoring new files needs to know of the training data (kept in the model)."""
    return {
        "text_column": config.data.text_column,
        "labels": config.data.labels,
        "label_format": train.report.label_format,
        "min_votes": config.data.min_votes,
        "positive": config.data.positive,
        "label_map": config.data.label_map,
        "id_column": train.report.id_column,
    }


def _predictions_frame(
    data: LabelledData,
    P: np.ndarray,
    thresholds: np.ndarray,
    rule: str,
    fold_ids: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per input row: ``row`` (0-based position in the file), its id (when the
    file has an id column), fold, text, and per label the truth, probability and decision."""
    columns: dict[str, Any] = {"row": data.rows}
    if data.ids is not None:
        columns[data.report.id_column or "id"] = data.ids
    if fold_ids is not None:
        columns["fold"] = fold_ids
    columns["text"] = data.texts
    decisions = decide(P, thresholds, rule)
    for j, label in enumerate(data.labels):
        columns[f"true_{label}"] = data.Y[:, j]
    for j, label in enumerate(data.labels):
        columns[f"prob_{label}"] = P[:, j]
    for j, label in enumerate(data.labels):
        columns[f"pred_{label}"] = decisions[:, j]
    return pd.DataFrame(columns)
