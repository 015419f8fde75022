"""Scores, decisions and thresholds: the metrics the field reports, computed with scikit-learn.

Per label: precision, recall and F1 of the positive class, the two-class macro-F1 (mean of
the F1 of class 0 and class 1, what binary shared tasks report), accuracy, average
precision and ROC-AUC. Over labels: ``macro_f1`` is scikit-learn's
``f1_score(average="macro")`` of the decisions (for one label the two-class macro-F1, for
several the mean over labels of each label's F1), ``accuracy`` its ``accuracy_score``
(every label right, for several), ``main_f1`` the F1 of the first label, and ``f1_custom``
the Datathon 2022 metric, reported only for the Datathon schema.

A run's **headline metric** (:func:`resolve_metric`) is the one it is ranked and summarised
by. Thresholds are tuned per label on out-of-fold probabilities for an objective
(:func:`tune_thresholds`); a decision rule can require the main label for the others.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

DATATHON_LABELS: tuple[str, ...] = (
    "Odio",
    "Mujeres",
    "Comunidad LGBTQ+",
    "Comunidades Migrantes",
    "Pueblos Originarios",
)
"""The Datathon 2022 label columns: hate first, then the four target groups."""

METRICS = ("f1_custom", "macro_f1", "main_f1", "accuracy")
"""Headline metrics a run can be ranked by."""
OBJECTIVES = ("f1", "macro_f1", "accuracy", "precision>=X", "recall>=X")
"""Per-label threshold objectives (``X`` a number in (0, 1], e.g. ``precision>=0.8``)."""
DECISION_RULES = ("independent", "targets_require_main")
"""``targets_require_main``: a label other than the first is decided positive only when the
first (main) label is."""
DEFAULT_GRID = np.round(np.arange(0.05, 0.951, 0.01), 2)
EPS = 1e-6
"""Probabilities are clipped to ``[EPS, 1 - EPS]`` before taking log-odds (:func:`logit`)."""


def is_datathon_schema(labels: Sequence[str]) -> bool:
    """Whether labels are the Datathon 2022 ones: ``Odio`` first, then target groups.

    >>> is_datathon_schema(["Odio", "Mujeres"]), is_datathon_schema(["HS"])
    (True, False)
    """
    return (
        len(labels) > 1
        and labels[0] == DATATHON_LABELS[0]
        and set(labels[1:]) <= set(DATATHON_LABELS[1:])
    )


def resolve_metric(metric: str, labels: Sequence[str]) -> str:
    """The headline metric for ``labels``: ``auto`` is ``f1_custom`` for the Datathon schema
    and ``macro_f1`` otherwise.

    >>> resolve_metric("auto", ["Odio", "Mujeres"]), resolve_metric("auto", ["HS"])
    ('f1_custom', 'macro_f1')
    """
    if metric == "auto":
        return "f1_custom" if is_datathon_schema(labels) else "macro_f1"
    if metric not in METRICS:
        raise ValueError(f"metric must be auto or one of {', '.join(METRICS)}, got {metric!r}")
    if metric == "f1_custom" and len(labels) < 2:
        raise ValueError("f1_custom needs a main label and at least one target label")
    return metric


def confusion(y: np.ndarray, pred: np.ndarray) -> tuple[int, int, int, int]:
    """``(tp, fp, fn, tn)`` of 0/1 decisions ``pred`` against 0/1 labels ``y``.

    >>> confusion(np.array([1, 1, 0, 0]), np.array([1, 0, 1, 0]))
    (1, 1, 1, 1)
    """
    y, pred = np.asarray(y) == 1, np.asarray(pred) == 1
    tp = int(np.sum(y & pred))
    fp = int(np.sum(~y & pred))
    fn = int(np.sum(y & ~pred))
    return tp, fp, fn, len(y) - tp - fp - fn


def f1_custom(Y_true: np.ndarray, Y_pred: np.ndarray) -> float:
    """``0.5 * F1(first label) + 0.5 * mean F1(other labels)``; plain F1 for one label.

    The Datathon 2022 metric: the first label is ``Odio``, the others the target groups.

    Example:
        >>> f1_custom(np.array([[1, 1], [0, 0]]), np.array([[1, 0], [0, 0]]))
        0.5
    """
    from sklearn.metrics import f1_score  # imported on use: scikit-learn is slow to import

    Y_true, Y_pred = np.atleast_2d(Y_true), np.atleast_2d(Y_pred)
    f1s = [
        f1_score(Y_true[:, j], Y_pred[:, j], average="binary", pos_label=1, zero_division=0)
        for j in range(Y_true.shape[1])
    ]
    if len(f1s) == 1:
        return float(f1s[0])
    return float(0.5 * f1s[0] + 0.5 * np.mean(f1s[1:]))


def macro_f1(Y_true: np.ndarray, Y_pred: np.ndarray) -> float:
    """scikit-learn's ``f1_score(average="macro")``: for one label the mean of the F1 of
    class 0 and class 1, for several the mean over labels of each label's F1.

    >>> macro_f1(np.array([[1], [0], [0]]), np.array([[1], [1], [0]]))
    0.6666666666666666
    """
    from sklearn.metrics import f1_score

    Y_true, Y_pred = np.atleast_2d(Y_true), np.atleast_2d(Y_pred)
    if Y_true.shape[1] == 1:
        return float(
            f1_score(Y_true[:, 0], Y_pred[:, 0], average="macro", labels=[0, 1], zero_division=0)
        )
    return float(f1_score(Y_true, Y_pred, average="macro", zero_division=0))


def logit(p: np.ndarray | float, eps: float = EPS) -> np.ndarray:
    """Log-odds of probabilities clipped to ``[eps, 1 - eps]``.

    >>> logit(np.array([0.5, 0.75])).round(4).tolist()
    [0.0, 1.0986]
    """
    p = np.clip(np.asarray(p, dtype=np.float64), eps, 1 - eps)
    return np.log(p) - np.log1p(-p)


def binarize(P: np.ndarray, thresholds: float | Sequence[float] | np.ndarray = 0.5) -> np.ndarray:
    """0/1 decisions: probability >= threshold (one threshold, or one per label).

    >>> binarize(np.array([[0.2, 0.7]]), [0.1, 0.8]).tolist()
    [[1, 0]]
    """
    return (np.asarray(P) >= np.asarray(thresholds, dtype=float)).astype(np.int8)


def decide(
    P: np.ndarray,
    thresholds: float | Sequence[float] | np.ndarray = 0.5,
    rule: str = "independent",
) -> np.ndarray:
    """0/1 decisions of ``(n, n_labels)`` probabilities under a decision rule.

    >>> P = np.array([[0.3, 0.9], [0.8, 0.9]])
    >>> decide(P, 0.5).tolist(), decide(P, 0.5, "targets_require_main").tolist()
    ([[0, 1], [1, 1]], [[0, 0], [1, 1]])
    """
    D = binarize(P, thresholds)
    if rule == "targets_require_main":
        D = np.atleast_2d(D)
        D[:, 1:] &= D[:, :1]
    elif rule != "independent":
        raise ValueError(f"decision rule must be one of {', '.join(DECISION_RULES)}, got {rule!r}")
    return D


def score(
    Y_true: np.ndarray,
    P: np.ndarray,
    labels: Sequence[str],
    thresholds: float | Sequence[float] | np.ndarray = 0.5,
    *,
    metric: str = "auto",
    rule: str = "independent",
    gate: np.ndarray | None = None,
) -> dict[str, Any]:
    """Every score of probabilities ``P`` against 0/1 labels at the given thresholds.

    ``rule`` is the decision rule (:func:`decide`); ``gate``, when given, is a 0/1 vector
    that every decision is ANDed with (the main label's decisions, when scoring target
    labels without it).

    Returns:
        ``{"metric": headline name, "macro_f1", "main_f1", "accuracy", ["f1_custom"],
        "per_label": {label: {"precision", "recall", "f1", "macro_f1", "accuracy",
        "average_precision", "roc_auc", "support", "predicted"}}}``; ``average_precision``
        and ``roc_auc`` are ``None`` for a label with one class only.

    Example:
        >>> s = score(np.array([[1], [0], [0]]), np.array([[0.9], [0.2], [0.6]]), ["HS"])
        >>> s["metric"], round(s["macro_f1"], 4), s["per_label"]["HS"]["f1"]
        ('macro_f1', 0.6667, 0.6666666666666666)
    """
    from sklearn.metrics import (
        accuracy_score,
        average_precision_score,
        precision_recall_fscore_support,
        roc_auc_score,
    )

    Y_true = np.atleast_2d(np.asarray(Y_true)).astype(int)
    P = np.atleast_2d(np.asarray(P, dtype=float))
    Y_pred = decide(P, thresholds, rule)
    if gate is not None:
        Y_pred &= np.asarray(gate, dtype=np.int8)[:, None]
    headline = resolve_metric(metric, labels)
    per_label = {}
    for j, label in enumerate(labels):
        y, d, p = Y_true[:, j], Y_pred[:, j], P[:, j]
        both = len(np.unique(y)) == 2
        # 1-D per label: scikit-learn reads an (n, 1) matrix as binary, and would score class 0
        precision, recall, f1, _ = precision_recall_fscore_support(
            y, d, average="binary", pos_label=1, zero_division=0
        )
        per_label[label] = {
            "precision": float(precision),
            "recall": float(recall),
            "f1": float(f1),
            "macro_f1": macro_f1(y[:, None], d[:, None]),
            "accuracy": float(accuracy_score(y, d)),
            "average_precision": float(average_precision_score(y, p)) if both else None,
            "roc_auc": float(roc_auc_score(y, p)) if both else None,
            "support": int(y.sum()),
            "predicted": int(d.sum()),
        }
    single = Y_true.shape[1] == 1
    scores: dict[str, Any] = {
        "metric": headline,
        "macro_f1": macro_f1(Y_true, Y_pred),
        "main_f1": per_label[labels[0]]["f1"],
        "accuracy": float(accuracy_score(Y_true[:, 0], Y_pred[:, 0]))
        if single
        else float(accuracy_score(Y_true, Y_pred)),
    }
    if headline == "f1_custom":
        scores["f1_custom"] = f1_custom(Y_true, Y_pred)
    scores["per_label"] = per_label
    return scores


def score_at_both(
    Y_true: np.ndarray,
    P: np.ndarray,
    labels: Sequence[str],
    thresholds: np.ndarray,
    *,
    metric: str = "auto",
    rule: str = "independent",
    gate: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict[str, Any]:
    """:func:`score` at 0.5 and at the tuned ``thresholds``: ``{"at_0.5": ..., "tuned": ...}``
    (a ``gate`` is a pair of vectors: the main label's decisions at 0.5 and tuned).

    Example:
        >>> both = score_at_both(np.array([[1], [0]]), np.array([[0.4], [0.2]]), ["HS"],
        ...                      np.array([0.3]))
        >>> both["at_0.5"]["macro_f1"], both["tuned"]["macro_f1"]
        (0.3333333333333333, 1.0)
    """
    gates = (None, None) if gate is None else gate
    return {
        "at_0.5": score(Y_true, P, labels, 0.5, metric=metric, rule=rule, gate=gates[0]),
        "tuned": score(Y_true, P, labels, thresholds, metric=metric, rule=rule, gate=gates[1]),
    }


def headline(scores: dict[str, Any]) -> float:
    """The headline value of a :func:`score` result (its ``metric`` entry).

    >>> headline({"metric": "macro_f1", "macro_f1": 0.7})
    0.7
    """
    return float(scores[scores["metric"]])


def default_objective(metric: str, n_labels: int) -> str:
    """The per-label objective that serves a headline metric: F1 for ``f1_custom``,
    ``main_f1`` and a multi-label ``macro_f1`` (they are means of per-label F1), the
    two-class macro-F1 for a single-label ``macro_f1``, accuracy for ``accuracy``.

    >>> default_objective("macro_f1", 1), default_objective("f1_custom", 5)
    ('macro_f1', 'f1')
    """
    if metric == "accuracy":
        return "accuracy"
    return "macro_f1" if metric == "macro_f1" and n_labels == 1 else "f1"


def check_objective(objective: str) -> str:
    """``objective`` if it is one of :data:`OBJECTIVES` (``X`` a number in (0, 1]).

    >>> check_objective("precision>=0.8")
    'precision>=0.8'
    """
    if objective in ("f1", "macro_f1", "accuracy"):
        return objective
    match = re.fullmatch(r"(precision|recall)>=(\d*\.?\d+)", objective.replace(" ", ""))
    if not match or not 0 < float(match.group(2)) <= 1:
        raise ValueError(
            f"threshold objective must be f1, macro_f1, accuracy, precision>=X or recall>=X "
            f"(X in (0, 1]), got {objective!r}"
        )
    return objective.replace(" ", "")


def tune_thresholds(
    Y_true: np.ndarray,
    P: np.ndarray,
    objectives: str | Sequence[str] = "f1",
    *,
    rule: str = "independent",
    grid: np.ndarray = DEFAULT_GRID,
) -> np.ndarray:
    """Per label, the threshold on ``grid`` that maximises its objective.

    Objectives: ``f1`` (positive class), ``macro_f1`` (two-class), ``accuracy``,
    ``precision>=X`` (the most recall with at least that precision) and ``recall>=X`` (the
    most precision with at least that recall); ties go to the threshold nearest 0.5. With
    ``rule="targets_require_main"`` the main label is tuned first and the others on the
    decisions that rule gives. Tune on out-of-fold probabilities, never on the data you
    report a score on.

    Example:
        >>> tune_thresholds(np.array([[1], [1], [0]]), np.array([[0.3], [0.4], [0.1]])).tolist()
        [0.3]
    """
    Y_true, P = np.atleast_2d(Y_true), np.atleast_2d(P)
    n_labels = Y_true.shape[1]
    per_label = [objectives] * n_labels if isinstance(objectives, str) else list(objectives)
    if len(per_label) != n_labels:
        raise ValueError(f"{len(per_label)} objectives for {n_labels} labels")
    best = np.empty(n_labels)
    gate = np.ones(len(Y_true), dtype=bool)
    for j in range(n_labels):
        objective = check_objective(per_label[j])
        pred = (P[:, j][None, :] >= grid[:, None]) & gate[None, :]
        y = Y_true[:, j][None, :] == 1
        tp = (pred & y).sum(axis=1)
        fp = (pred & ~y).sum(axis=1)
        fn = (~pred & y).sum(axis=1)
        tn = len(y[0]) - tp - fp - fn
        values = _objective_values(objective, tp, fp, fn, tn, per_label[j], j)
        candidates = np.flatnonzero(np.isclose(values, values.max()))
        best[j] = grid[candidates[np.argmin(np.abs(grid[candidates] - 0.5))]]
        if j == 0 and rule == "targets_require_main":
            gate = P[:, 0] >= best[0]
    return best


def _objective_values(
    objective: str,
    tp: np.ndarray,
    fp: np.ndarray,
    fn: np.ndarray,
    tn: np.ndarray,
    name: str,
    label: int,
) -> np.ndarray:
    """The objective's value at every grid threshold (higher is better)."""

    def f1_of(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
        return np.where(tp > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1), 0.0)

    if objective == "f1":
        return f1_of(tp, fp, fn)
    if objective == "macro_f1":
        return (f1_of(tp, fp, fn) + f1_of(tn, fn, fp)) / 2
    if objective == "accuracy":
        return (tp + tn) / np.maximum(tp + fp + fn + tn, 1)
    kind, bound = objective.split(">=")
    precision = np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1), 0.0)
    recall = np.where(tp + fn > 0, tp / np.maximum(tp + fn, 1), 0.0)
    constrained, other = (precision, recall) if kind == "precision" else (recall, precision)
    meets = constrained >= float(bound) - 1e-12
    if not meets.any():
        log.warning(
            "label %d: no threshold reaches %s out-of-fold; taking the one with the best %s",
            label,
            name,
            kind,
        )
        return constrained
    return np.where(meets, other, -1.0)


def best_epoch(history: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The entry of a training history with the lowest validation loss (the epoch kept by
    early stopping and checkpointing), or ``None`` when no entry has one.

    >>> best_epoch([{"epoch": 1, "val_loss": 0.3}, {"epoch": 2, "val_loss": 0.2}])["epoch"]
    2
    >>> best_epoch([]) is None
    True
    """
    scored = [h for h in history if "val_loss" in h]
    return min(scored, key=lambda h: h["val_loss"]) if scored else None
