"""Scoring a saved model on a labelled file, at 0.5 and at its tuned thresholds.

The file may be shaped differently from the training data: another text column, a label
column of another name (``HS=Odio``), text label values (``positive``), another delimiter,
or only some of the model's labels.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from odio.config import TRAINED_DATA, DataConfig, describe_error
from odio.data.labelled import load_labelled
from odio.errors import OdioError
from odio.inference.detector import Detector
from odio.metrics import decide, resolve_metric, score_at_both


def evaluate_run(
    model_path: str | Path,
    data_path: str | Path,
    *,
    data: dict[str, Any] | None = None,
    thresholds: dict[str, float] | None = None,
    runtime: str | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Score a saved model on a labelled file at 0.5 and at its (tuned) thresholds.

    Args:
        model_path: a model directory or the run directory holding it.
        data_path: a labelled CSV, TSV, JSON Lines, JSON or Parquet file.
        data: data settings (see :class:`~odio.config.DataConfig`) overriding those the
            model was trained with: ``text_column``, ``labels`` (a subset of the model's,
            ``COLUMN=LABEL`` to read one from another column), ``label_format``,
            ``min_votes``, ``positive``, ``label_map``, ``sep``, ``encoding``.
        thresholds: label -> threshold, overriding the tuned ones.
        runtime, threads: as for :meth:`Detector.load`.

    Returns:
        ``{"data": load report, "labels", "thresholds", "metric", "decision_rule",
        "at_0.5": scores, "tuned": scores}`` (see :func:`odio.metrics.score`).

    Example:
        >>> evaluate_run("runs/tfidf", "hateval.tsv",
        ...              data={"labels": ["HS=Odio"]})["tuned"]["macro_f1"]  # doctest: +SKIP
        0.61
    """
    detector = Detector.load(model_path, runtime=runtime, threads=threads)
    if thresholds:
        detector = detector.with_thresholds(thresholds)
    trained = detector.info.get("data", {})
    settings = {k: trained[k] for k in TRAINED_DATA if trained.get(k) is not None}
    settings.setdefault("labels", detector.labels)
    settings.update({k: v for k, v in (data or {}).items() if v is not None})
    try:
        config = DataConfig.model_validate(settings)
    except ValidationError as exc:
        raise OdioError(describe_error(exc)) from None
    unknown = [label for label in config.label_names if label not in detector.labels]
    if unknown:
        raise OdioError(
            f"the model has no label {unknown[0]!r}; its labels are {', '.join(detector.labels)} "
            "(read a label from another column with --labels COLUMN=LABEL)"
        )
    loaded = load_labelled(data_path, config, training=False)
    order = np.argsort([detector.labels.index(label) for label in loaded.labels])
    labels = [loaded.labels[i] for i in order]  # in the model's order: the main label first
    Y = loaded.Y[:, order]
    index = [detector.labels.index(label) for label in labels]
    P = detector.predict_proba(loaded.texts)
    subset = P[:, index]
    rule, gate = detector.decision_rule, None
    if rule == "targets_require_main" and 0 not in index:
        # The rule needs the main label's decisions, which the file does not score.
        gate = (decide(P, 0.5, rule)[:, 0], detector.decide(P)[:, 0])
        rule = "independent"
    trained_metric = detector.info.get("metric", "auto")
    metric = resolve_metric(
        trained_metric if len(index) == len(detector.labels) else "auto", labels
    )
    return {
        "data": asdict(loaded.report),
        "labels": labels,
        "thresholds": dict(zip(labels, detector.thresholds[index].tolist(), strict=True)),
        "metric": metric,
        "decision_rule": detector.decision_rule,
        **score_at_both(
            Y,
            subset,
            labels,
            detector.thresholds[index],
            metric=metric,
            rule=rule,
            gate=gate,
        ),
    }
