"""A training run end to end: read data, cross-validate, tune thresholds, write the run directory.

A run directory holds::

    config.yaml            the full RunConfig (min_votes included) and the data paths
    metrics.json           per-fold, mean ± std, out-of-fold and test scores
    oof.csv                every training row's out-of-fold probabilities and fold id
    test_predictions.csv   blended test probabilities (when a test set was given)
    model/                 the Detector (see :mod:`odio.detector`)
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from odio import __version__
from odio.backend import backend_name, create_backend, default_preprocess
from odio.config import DataConfig, RunConfig
from odio.cv import CVResult, cross_validate
from odio.data import LabelledData, load_labelled
from odio.detector import Detector
from odio.errors import OdioError
from odio.folds import make_folds
from odio.metrics import binarize, score_at_both, tune_thresholds
from odio.preprocess import preprocess_many

log = logging.getLogger(__name__)


def train_run(
    config: RunConfig,
    train_path: str | Path,
    out_dir: str | Path,
    *,
    test_path: str | Path | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Cross-validate ``config.model`` on ``train_path``, score ``test_path``, save everything.

    Returns the contents of ``metrics.json``.

    Example:
        >>> metrics = train_run(RunConfig(), "examples/tweets_sample.csv", "runs/example",
        ...                     progress=False)  # doctest: +SKIP
        >>> metrics["oof"]["tuned"]["f1_custom"]  # doctest: +SKIP
        0.71
    """
    start = time.perf_counter()
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise OdioError(f"--out {out_dir} exists and is not a directory")
    backend = backend_name(config.model)
    if config.preprocess is None and backend != "stack":  # each base of a stack has its own
        config = replace(config, preprocess=default_preprocess(backend))
    train = load_labelled(train_path, config.data, training=True)
    log.info(train.report.summary())
    test = load_labelled(test_path, config.data, training=False) if test_path else None
    if test is not None:
        log.info(test.report.summary())

    fold_ids = make_folds(train.Y, config.cv.folds, config.cv.seed, config.cv.split)
    if backend == "stack":
        from odio.stack import cross_validate_stack

        stacked = cross_validate_stack(config, train, test, fold_ids, progress=progress)
        result, thresholds = stacked.result, stacked.thresholds
    else:
        result, detector = fit_folds(config, train, test, fold_ids, progress=progress)
        thresholds = detector.thresholds
    seconds = time.perf_counter() - start

    metrics = _metrics(config, backend, train, test, result, thresholds, seconds)
    if backend == "stack":
        metrics["bases"] = {b.spec: b.metrics(train, test) for b in stacked.bases}
    info = {
        "data": _data_info(config),
        "metrics": {k: metrics[k] for k in ("cv", "oof", "test") if k in metrics},
    }

    out_dir.mkdir(parents=True, exist_ok=True)
    run_config = {
        **config.to_dict(),
        "train_path": str(train_path),
        "test_path": str(test_path) if test_path else None,
    }
    (out_dir / "config.yaml").write_text(
        yaml.safe_dump(run_config, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    _predictions_frame(train, result.oof, thresholds, fold_ids).to_csv(
        out_dir / "oof.csv", index=False
    )
    if test is not None:
        _predictions_frame(test, result.test, thresholds).to_csv(
            out_dir / "test_predictions.csv", index=False
        )
    if backend == "stack":
        stacked.save_model(out_dir / "model", info)
    else:
        detector.info.update(info)
        detector.save(out_dir / "model")
    metrics["seconds"] = round(time.perf_counter() - start, 2)
    (out_dir / "metrics.json").write_text(
        json.dumps(metrics, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    return metrics


def fit_folds(
    config: RunConfig,
    train: LabelledData,
    test: LabelledData | None,
    fold_ids: np.ndarray,
    *,
    progress: bool = True,
) -> tuple[CVResult, Detector]:
    """Cross-validate one backend (``config.model``) in ``fold_ids``.

    Returns the fold results and the fold members as a Detector whose thresholds are tuned
    on the out-of-fold probabilities.

    Example:
        >>> result, detector = fit_folds(RunConfig(), train, None, fold_ids)  # doctest: +SKIP
        >>> len(detector.members) == len(result.folds)  # doctest: +SKIP
        True
    """
    backend = backend_name(config.model)
    preprocess = config.preprocess or default_preprocess(backend)
    config = replace(config, preprocess=preprocess)
    train_texts = preprocess_many(train.texts, preprocess)
    test_texts = preprocess_many(test.texts, preprocess) if test is not None else None
    result = cross_validate(
        lambda: create_backend(config),
        train_texts,
        train.Y,
        train.labels,
        fold_ids,
        test_texts=test_texts,
        progress=progress,
    )
    detector = Detector(
        result.members,
        train.labels,
        backend=backend,
        thresholds=tune_thresholds(train.Y, result.oof),
        preprocess=preprocess,
        base_model=None if backend == "tfidf" else config.model,
        info={"data": _data_info(config)},
    )
    return result, detector


def _data_info(config: RunConfig) -> dict[str, Any]:
    """What prediction needs to know of the training data (kept in the model's config)."""
    return {"min_votes": config.data.min_votes, "text_column": config.data.text_column}


def evaluate_run(
    model_path: str | Path,
    data_path: str | Path,
    *,
    min_votes: int | None = None,
    runtime: str | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Score a saved model on a labelled file at 0.5 and at its tuned thresholds.

    The text column, labels and ``min_votes`` are those the model was trained with
    (``min_votes`` can be overridden); ``runtime`` and ``threads`` are those of
    :meth:`Detector.load`.
    """
    detector = Detector.load(model_path, runtime=runtime, threads=threads)
    data_info = detector.info.get("data", {})
    config = DataConfig(
        text_column=data_info.get("text_column", "text"),
        labels=detector.labels,
        min_votes=min_votes or data_info.get("min_votes", 2),
    )
    data = load_labelled(data_path, config, training=False)
    P = detector.predict_proba(data.texts)
    return {
        "data": asdict(data.report),
        "labels": detector.labels,
        "thresholds": dict(zip(detector.labels, detector.thresholds.tolist(), strict=True)),
        **score_at_both(data.Y, P, detector.labels, detector.thresholds),
    }


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
        "odio_version": __version__,
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
    if test is not None:
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


def format_summary(metrics: dict[str, Any]) -> str:
    """The console table of a run: per fold, mean ± std, out-of-fold, test.

    Example:
        >>> s = {"f1_custom": 0.8, "macro_f1": 0.7, "per_label": {"Odio": {"f1": 0.9}}}
        >>> m = {"labels": ["Odio"], "folds": [{"fold": 0, "scores": s}],
        ...      "cv": {k: {"mean": 0.8, "std": 0.0} for k in ("f1_custom", "macro_f1",
        ...             "f1_Odio")}, "oof": {"at_0.5": s, "tuned": s}}
        >>> print(format_summary(m).splitlines()[0])
        evaluation                  f1_custom  macro_f1   F1(Odio)
    """
    first = metrics["labels"][0]
    head = f"{'evaluation':<26} {'f1_custom':>10} {'macro_f1':>9} {'F1(' + first + ')':>10}"
    lines = [head, "-" * len(head)]

    def row(name: str, s: dict[str, Any]) -> str:
        return (
            f"{name:<26} {s['f1_custom']:>10.4f} {s['macro_f1']:>9.4f} "
            f"{s['per_label'][first]['f1']:>10.4f}"
        )

    for fold in metrics["folds"]:
        lines.append(row(f"fold {fold['fold']} (0.5)", fold["scores"]))
    cv = metrics["cv"]
    lines.append(
        f"{'mean ± std over folds':<26} "
        f"{cv['f1_custom']['mean']:.4f}±{cv['f1_custom']['std']:.3f} "
        f"{cv['macro_f1']['mean']:.4f} {cv['f1_' + first]['mean']:>10.4f}"
    )
    lines.append(row("out-of-fold (0.5)", metrics["oof"]["at_0.5"]))
    lines.append(row("out-of-fold (tuned)*", metrics["oof"]["tuned"]))
    if "test" in metrics:
        lines.append(row("test (0.5)", metrics["test"]["at_0.5"]))
        lines.append(row("test (tuned)", metrics["test"]["tuned"]))
    lines.append("* thresholds tuned on these out-of-fold predictions: optimistic")
    if "bases" in metrics:
        lines += ["", _format_bases(metrics)]
    return "\n".join(lines)


def _format_bases(metrics: dict[str, Any]) -> str:
    """One row per stacked base: its own CV, out-of-fold and test f1_custom (same folds)."""
    first = metrics["labels"][0]
    head = (
        f"{'stack base (same folds)':<34} {'CV f1_custom':>14} {'OOF tuned':>9} "
        f"{'test 0.5':>8} {'test tuned':>10} {'F1(' + first + ')':>9}"
    )
    lines = [head, "-" * len(head)]
    for name, base in {**metrics["bases"], "stack": metrics}.items():
        cv = base["cv"]["f1_custom"]
        test = base.get("test")
        tail = (
            f"{test['at_0.5']['f1_custom']:>8.4f} {test['tuned']['f1_custom']:>10.4f} "
            f"{test['tuned']['per_label'][first]['f1']:>9.4f}"
            if test
            else f"{'-':>8} {'-':>10} {'-':>9}"
        )
        label = name if len(name) <= 34 else "..." + name[-31:]
        lines.append(
            f"{label:<34} {cv['mean']:>8.4f}±{cv['std']:.3f} "
            f"{base['oof']['tuned']['f1_custom']:>9.4f} {tail}"
        )
    return "\n".join(lines)


def format_scores(scores: dict[str, Any]) -> str:
    """Per-label precision / recall / F1 table of one :func:`odio.metrics.score` result."""
    lines = [f"{'label':<24} {'precision':>9} {'recall':>7} {'F1':>7} {'support':>8}"]
    for label, m in scores["per_label"].items():
        lines.append(
            f"{label:<24} {m['precision']:>9.4f} {m['recall']:>7.4f} {m['f1']:>7.4f} "
            f"{m['support']:>8d}"
        )
    lines.append(f"macro-F1 {scores['macro_f1']:.4f}   f1_custom {scores['f1_custom']:.4f}")
    return "\n".join(lines)
