"""Scoring a saved model on a labelled file, at 0.5 and at its tuned thresholds.

The file may be shaped differently from the training data: another text column, a label
column of another name (``HS=Odio``), text label values (``positive``), another delimiter,
or only some of the model's labels.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from odio.config import TRAINED_DATA, DataConfig, describe_error
from odio.data.labelled import LabelledData, load_labelled
from odio.errors import OdioError
from odio.files import check_replaceable, replacing
from odio.inference.detector import Detector
from odio.metrics import decide, resolve_metric, score_at_both
from odio.scores import Evaluation
from odio.versions import VERSION


def evaluate_run(
    model_path: str | Path | Detector,
    data_path: str | Path | pd.DataFrame,
    *,
    data: dict[str, Any] | None = None,
    thresholds: dict[str, float] | None = None,
    runtime: str | None = None,
    threads: int | None = None,
    out: str | Path | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Score a saved model on a labelled file at 0.5 and at its (tuned) thresholds.

    Args:
        model_path: a model directory, the run directory holding it, or a Detector.
        data_path: a labelled CSV, TSV, JSON Lines, JSON or Parquet file, or a data frame.
        data: data settings (see :class:`~odio.config.DataConfig`) overriding those the
            model was trained with: ``text_column``, ``labels`` (a subset of the model's,
            ``COLUMN=LABEL`` to read one from another column), ``label_format``,
            ``min_votes``, ``positive``, ``label_map``, ``sep``, ``encoding``.
        thresholds: label -> threshold, overriding the tuned ones.
        runtime, threads: as for :meth:`Detector.load`.
        out: also write the evaluation there, as a results directory that ``odio compare``
            reads beside training runs: ``metrics.json`` (``"kind": "evaluation"``, the test
            scores) and ``test_predictions.csv``.
        overwrite: replace an earlier evaluation at ``out``.

    Returns:
        ``{"data": load report, "labels", "thresholds", "metric", "decision_rule",
        "at_0.5": scores, "tuned": scores}`` (see :func:`odio.metrics.score`).

    Example:
        >>> evaluate_run("runs/tfidf", "hateval.tsv",
        ...              data={"labels": ["HS=Odio"]})["tuned"]["macro_f1"]  # doctest: +SKIP
        0.61
    """
    if out is not None:  # refused before any work, not after the scoring
        inputs = [p for p in (model_path, data_path) if isinstance(p, (str, Path))]
        check_replaceable(out, kind="evaluation", overwrite=overwrite, inputs=inputs)
    if isinstance(model_path, Detector):
        detector = model_path
    else:
        detector = Detector.load(model_path, runtime=runtime, threads=threads)
    if thresholds:
        detector = detector.with_thresholds(thresholds)
    trained = detector.info.get("data", {})
    # The training id column is a preference, not a requirement: another file may name its
    # ids otherwise (tweet_id / id) or have none.
    settings = {
        k: trained[k] for k in TRAINED_DATA if trained.get(k) is not None and k != "id_column"
    }
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
    loaded = load_labelled(data_path, config, training=False, preferred_id=trained.get("id_column"))
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
    result = {
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
    if out is not None:
        decisions = decide(subset, detector.thresholds[index], rule)
        if gate is not None:
            decisions &= gate[1].astype(np.int8)[:, None]
        write_evaluation(
            Path(out), _name(model_path), detector, result, loaded, Y, subset, decisions, overwrite
        )
    return result


def evaluate(
    model: str | Path | Detector,
    data: str | Path | pd.DataFrame,
    *,
    thresholds: dict[str, float] | None = None,
    **settings: Any,
) -> Evaluation:
    """Score a model on labelled tweets, at 0.5 and at its tuned thresholds: typed scores.

    Args:
        model: a :class:`Detector`, a model directory or the run directory holding it.
        data: a labelled file or a data frame.
        thresholds: label -> threshold, overriding the tuned ones.
        **settings: data settings overriding the training file's (``text_column``,
            ``labels``, ``positive``, ...; see :class:`~odio.config.DataConfig`).

    Example:
        >>> result = evaluate("runs/example", "tweets_test.csv")  # doctest: +SKIP
        >>> result.tuned.f1_custom, result.at_half.per_label["Odio"].f1  # doctest: +SKIP
        (0.80, 0.79)
    """
    return Evaluation.from_dict(evaluate_run(model, data, data=settings, thresholds=thresholds))


def _name(model: str | Path | Detector) -> str:
    """How an evaluation names its model: the folder, or the Detector's base model."""
    if isinstance(model, Detector):
        return str(model.info.get("training", {}).get("config", {}).get("model", "a Detector"))
    return str(model)


def write_evaluation(
    out: Path,
    model: str,
    detector: Detector,
    result: dict[str, Any],
    data: LabelledData,
    Y: np.ndarray,
    P: np.ndarray,
    decisions: np.ndarray,
    overwrite: bool,
) -> None:
    """Write an evaluation as a results directory (built aside, swapped in whole)."""
    check_replaceable(out, kind="evaluation", overwrite=overwrite)
    labels = result["labels"]
    metrics = {
        "kind": "evaluation",
        "odio_version": VERSION,
        "model": model,
        "backend": detector.backend,
        "labels": labels,
        "metric": result["metric"],
        "data": {"test": result["data"]},
        "thresholds": result["thresholds"],
        "decision_rule": result["decision_rule"],
        "test": {"at_0.5": result["at_0.5"], "tuned": result["tuned"]},
    }
    columns: dict[str, Any] = {"row": data.rows}
    if data.ids is not None:
        columns[data.report.id_column or "id"] = data.ids
    columns["text"] = data.tweets
    if data.contexts is not None:
        columns["context"] = data.contexts
    for j, label in enumerate(labels):
        columns[f"true_{label}"] = Y[:, j]
    for j, label in enumerate(labels):
        columns[f"prob_{label}"] = P[:, j]
    for j, label in enumerate(labels):
        columns[f"pred_{label}"] = decisions[:, j]
    with replacing(out, what="the evaluation", kind="evaluation") as staged:
        (staged / "metrics.json").write_text(
            json.dumps(metrics, indent=2, ensure_ascii=False), encoding="utf-8"
        )
        pd.DataFrame(columns).to_csv(staged / "test_predictions.csv", index=False)
