"""Training from Python: :func:`fit` cross-validates a model and returns a :class:`TrainedRun`.

``odio train`` is this function followed by :meth:`TrainedRun.save`, so a run trained from
Python and one trained from the command line with the same settings write the same run
directory.

>>> import odio
>>> run = odio.fit("examples/tweets_sample.csv", {"cv": {"folds": 3}}, progress=False)
>>> run.labels[0], len(run.folds), 0 <= run.oof.tuned.macro_f1 <= 1
('Odio', 3, True)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeAlias

import pandas as pd

from odio.config import TRAINED_DATA, RunConfig
from odio.data.folds import make_folds
from odio.data.labelled import LabelledData, load_labelled, load_source
from odio.errors import OdioError
from odio.metrics import score_at_both
from odio.models.modeldir import save_model
from odio.training.cv import CVResult, fit_folds
from odio.training.engines import Engine, LocalEngine
from odio.training.plan import RunPlan, plan_run
from odio.training.result import TrainedRun, predictions_frame
from odio.training.resume import fingerprint, open_partial
from odio.training.single import fit_single
from odio.training.stacking import cross_validate_stack
from odio.training.trainers import backend_name
from odio.training.warmstart import refuse_init_trained_on
from odio.versions import VERSION

log = logging.getLogger(__name__)

Data: TypeAlias = "str | Path | pd.DataFrame"
"""Labelled tweets: a file (CSV, TSV, JSON Lines, JSON, Parquet) or a data frame."""


def fit(
    data: Data,
    config: RunConfig | Mapping[str, Any] | str | Path | None = None,
    *,
    test: Data | None = None,
    progress: bool = True,
    engine: Engine | None = None,
    checkpoints: str | Path | None = None,
) -> TrainedRun:
    """Cross-validate ``config.model`` on ``data``, tune thresholds, score ``test``.

    One model is fitted per fold; every training row is scored by the model that did not
    see it (out-of-fold); the thresholds are tuned on those scores; the fold models are
    blended (mean probability) into the returned detector, which scores ``test``.

    Args:
        data: labelled training tweets, a file or a data frame (columns as in
            ``config.data``: ``text`` and the Datathon's five vote columns by default).
        config: the run's settings: a :class:`~odio.config.RunConfig`, the same as a
            nested mapping (``{"model": "tfidf", "cv": {"folds": 3}}``), or a YAML file
            (``config.yaml`` of an earlier run); ``None`` for the defaults.
        test: labelled test tweets, scored by the blended model (never used to choose
            anything).
        progress: show progress bars.
        engine: where the folds run (default: here, one after another); see
            :mod:`odio.training.engines`.
        checkpoints: a directory where an encoder run keeps its resume points (each fold's,
            and each finished fold's output), and continues from those that a stopped call
            with the same settings and data left there (:mod:`odio.training.resume`).

    Returns:
        The fitted detector, its typed scores and its predictions; ``.save(dir)`` writes
        the run directory.

    Raises:
        OdioError: a setting or the data is wrong (one line naming what to fix).

    Example:
        >>> import pandas as pd
        >>> frame = pd.read_csv("examples/tweets_sample.csv")
        >>> run = fit(frame, RunConfig(data={"labels": ["Odio"]}), progress=False)
        >>> run.detector.labels, sorted(run.thresholds)
        (['Odio'], ['Odio'])
    """
    start = time.perf_counter()
    config = as_config(config)
    engine = engine or LocalEngine()
    backend_name(config.model)  # a mistyped model fails before any data is read
    train = load_labelled(data, config.data, training=True)
    log.info(train.report.summary())
    test_data = None if test is None else load_labelled(test, config.data, training=False)
    if test_data is not None:
        log.info(test_data.report.summary())
    sources = [load_source(source, config.data) for source in config.data.sources]
    for source in sources:
        log.info("extra training source %s", source.report.summary())
    if config.transformer.init is not None and backend_name(config.model) != "tfidf":
        refuse_init_trained_on(config.transformer.init, train.report.sha256)
    plan = plan_run(config, train.labels)
    if plan.preprocess is not None:  # config.yaml records every step the texts went through
        config = config.model_copy(update={"preprocess": plan.preprocess})

    kwargs: dict[str, Any] = {"sources": sources, "progress": progress, "engine": engine}
    fold_ids = None
    if checkpoints is not None:
        if plan.backend != "transformer" or engine.remote:
            raise OdioError("resume points are kept by encoder runs whose folds train here")
        checkpoints = Path(checkpoints)
        data_sha = [d.report.sha256 for d in (train, *sources)]
        if open_partial(checkpoints, fingerprint(config, data_sha)):
            log.info("resuming the unfinished run in %s", checkpoints)
        kwargs["checkpoints"] = checkpoints
    if config.cv.folds == 1:
        if engine.remote:
            name = engine.describe()["name"]
            log.warning("cv.folds is 1: the one model trains here, not on %s", name)
        result, blend, thresholds = fit_single(
            config,
            plan,
            train,
            test_data,
            sources=sources,
            progress=progress,
            checkpoints=kwargs.get("checkpoints"),
        )

        def model() -> Any:
            return blend

    elif plan.backend == "stack":
        fold_ids = make_folds(train.Y, config.cv.folds, config.cv.seed, config.cv.split)
        stacked = cross_validate_stack(config, plan, train, test_data, fold_ids, **kwargs)
        result, thresholds, model = stacked.result, stacked.thresholds, stacked.model
    else:
        fold_ids = make_folds(train.Y, config.cv.folds, config.cv.seed, config.cv.split)
        result, blend, thresholds = fit_folds(config, plan, train, test_data, fold_ids, **kwargs)

        def model() -> Any:
            return blend

    seconds = time.perf_counter() - start
    metrics = _metrics(plan, config, train, test_data, result, thresholds, seconds)
    if sources:
        metrics["data"]["sources"] = [
            {
                **asdict(s.report),
                "head": given.head,
                "known": dict(zip(s.labels, s.known.sum(0).tolist(), strict=True)),
            }
            for s, given in zip(sources, config.data.sources, strict=True)
            if s.known is not None
        ]
    metrics["engine"] = engine.describe()
    if plan.backend == "stack":
        metrics["bases"] = {
            b.spec: b.metrics(train, test_data, metric=plan.metric, rule=plan.decision_rule)
            for b in stacked.bases
        }
    info = _model_info(config, train, data, test, metrics)
    rule = plan.decision_rule

    def write_model(directory: Path) -> None:
        if plan.backend == "stack":
            stacked.save_model(directory, info, rule)
        else:
            save_model(directory, blend, train.labels, thresholds, info, rule)

    test_frame = None
    if test_data is not None and result.test is not None:
        test_frame = predictions_frame(test_data, result.test, thresholds, rule)
    return TrainedRun(
        config=config,
        plan=plan,
        metrics=metrics,
        oof_predictions=None
        if result.oof is None
        else predictions_frame(train, result.oof, thresholds, rule, fold_ids),
        test_predictions=test_frame,
        info=info,
        model=model,
        write_model=write_model,
    )


def as_config(config: RunConfig | Mapping[str, Any] | str | Path | None) -> RunConfig:
    """A :class:`RunConfig` from what :func:`fit` accepts.

    >>> as_config({"cv": {"folds": 3}}).cv.folds, as_config(None).model
    (3, 'tfidf')
    """
    if isinstance(config, RunConfig):
        return config
    if isinstance(config, str | Path):
        return RunConfig.from_yaml(config)
    return RunConfig.from_dict(dict(config or {}))


def _metrics(
    plan: RunPlan,
    config: RunConfig,
    train: LabelledData,
    test: LabelledData | None,
    result: CVResult,
    thresholds: Any,
    seconds: float,
) -> dict[str, Any]:
    """``metrics.json``: every score of the run, in its nested form."""
    labels, metric, rule = train.labels, plan.metric, plan.decision_rule
    one_model = result.oof is None  # cv.folds: 1
    metrics: dict[str, Any] = {
        "odio_version": VERSION,
        "model": config.model,
        "backend": plan.backend,
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
            if not one_model
        ],
        "thresholds": dict(zip(labels, thresholds.tolist(), strict=True)),
        "threshold_objectives": dict(
            zip(labels, ["fixed"] * len(labels) if one_model else plan.objectives, strict=True)
        ),
        "decision_rule": rule,
        "train_seconds": round(seconds, 2),
    }
    if one_model:  # no held-out rows: no fold or out-of-fold scores, thresholds 0.5
        (only,) = result.folds
        metrics["one_model"] = {
            "train_rows": only.train_rows,
            "seconds": round(only.seconds, 2),
            "history": only.history,
        }
    elif result.oof is not None:
        metrics["cv"] = result.fold_summary()
        metrics["oof"] = score_at_both(
            train.Y, result.oof, labels, thresholds, metric=metric, rule=rule
        )
    if test is not None and result.test is not None:
        metrics["data"]["test"] = asdict(test.report)
        metrics["test"] = score_at_both(
            test.Y, result.test, labels, thresholds, metric=metric, rule=rule
        )
    return metrics


def _model_info(
    config: RunConfig,
    train: LabelledData,
    data: Data,
    test: Data | None,
    metrics: dict[str, Any],
) -> dict[str, Any]:
    """What the model directory keeps of its run: how to read new files like the training
    data, how it was trained, and its scores."""
    paths = [None if isinstance(d, pd.DataFrame) or d is None else str(d) for d in (data, test)]
    command = None
    if paths[0] is not None:
        command = f"odio train {Path(paths[0]).name}"
        if paths[1] is not None:
            command += f" --test {Path(paths[1]).name}"
        command += " --config config.yaml  # config.yaml: the settings below"
    return {
        "data": {  # what odio evaluate reads back: TRAINED_DATA, as the training file had it
            **{key: config.data.model_dump(mode="json")[key] for key in TRAINED_DATA},
            "id_column": train.report.id_column,
            "label_format": train.report.label_format,
        },
        "training": {
            "command": command,
            "config": config.to_dict(),
            "train_path": paths[0],
            "test_path": paths[1],
            "train_sha256": train.report.sha256,
        },
        "metric": metrics["metric"],
        "metrics": {k: metrics[k] for k in ("cv", "oof", "test") if k in metrics},
    }
