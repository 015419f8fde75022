"""Scores: per-label precision/recall/F1, macro-F1, the Datathon ``f1_custom``, thresholds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

DEFAULT_GRID = np.round(np.arange(0.05, 0.951, 0.01), 2)


EPS = 1e-6
"""Probabilities are clipped to ``[EPS, 1 - EPS]`` before taking log-odds (:func:`logit`)."""


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


def _f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def f1_custom(Y_true: np.ndarray, Y_pred: np.ndarray) -> float:
    """``0.5 * F1(first label) + 0.5 * mean F1(other labels)``; plain F1 for one label.

    The Datathon 2022 metric: the first label is ``Odio``, the others the target groups.

    Example:
        >>> f1_custom(np.array([[1, 1], [0, 0]]), np.array([[1, 0], [0, 0]]))
        0.5
    """
    Y_true, Y_pred = np.atleast_2d(Y_true), np.atleast_2d(Y_pred)
    f1s = [_f1(*confusion(Y_true[:, j], Y_pred[:, j])[:3]) for j in range(Y_true.shape[1])]
    if len(f1s) == 1:
        return f1s[0]
    return 0.5 * f1s[0] + 0.5 * float(np.mean(f1s[1:]))


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


def score(
    Y_true: np.ndarray,
    P: np.ndarray,
    labels: Sequence[str],
    thresholds: float | Sequence[float] | np.ndarray = 0.5,
) -> dict:
    """All the scores of probabilities ``P`` against 0/1 labels at the given thresholds.

    Returns:
        ``{"f1_custom", "macro_f1", "per_label": {label: {"precision", "recall", "f1",
        "support", "predicted"}}}``.

    Example:
        >>> s = score(np.array([[1], [0]]), np.array([[0.9], [0.2]]), ["Odio"])
        >>> s["f1_custom"], s["per_label"]["Odio"]["f1"]
        (1.0, 1.0)
    """
    Y_true = np.atleast_2d(np.asarray(Y_true))
    Y_pred = binarize(P, thresholds)
    per_label = {}
    for j, label in enumerate(labels):
        tp, fp, fn, _ = confusion(Y_true[:, j], Y_pred[:, j])
        per_label[label] = {
            "precision": tp / (tp + fp) if tp + fp else 0.0,
            "recall": tp / (tp + fn) if tp + fn else 0.0,
            "f1": _f1(tp, fp, fn),
            "support": int(Y_true[:, j].sum()),
            "predicted": int(Y_pred[:, j].sum()),
        }
    return {
        "f1_custom": f1_custom(Y_true, Y_pred),
        "macro_f1": float(np.mean([m["f1"] for m in per_label.values()])),
        "per_label": per_label,
    }


def score_at_both(
    Y_true: np.ndarray, P: np.ndarray, labels: Sequence[str], thresholds: np.ndarray
) -> dict:
    """:func:`score` at 0.5 and at the tuned ``thresholds``: ``{"at_0.5": ..., "tuned": ...}``.

    Example:
        >>> both = score_at_both(np.array([[1], [0]]), np.array([[0.4], [0.2]]), ["Odio"],
        ...                      np.array([0.3]))
        >>> both["at_0.5"]["f1_custom"], both["tuned"]["f1_custom"]
        (0.0, 1.0)
    """
    return {
        "at_0.5": score(Y_true, P, labels, 0.5),
        "tuned": score(Y_true, P, labels, thresholds),
    }


def tune_thresholds(
    Y_true: np.ndarray, P: np.ndarray, grid: np.ndarray = DEFAULT_GRID
) -> np.ndarray:
    """Per label, the threshold on ``grid`` with the best F1 (ties: the one nearest 0.5).

    Tune on out-of-fold probabilities, never on the data you report a score on. Because
    ``f1_custom`` is a weighted sum of per-label F1s, per-label tuning maximises it too.

    Example:
        >>> tune_thresholds(np.array([[1], [1], [0]]), np.array([[0.3], [0.4], [0.1]])).tolist()
        [0.3]
    """
    Y_true, P = np.atleast_2d(Y_true), np.atleast_2d(P)
    best = np.empty(Y_true.shape[1])
    for j in range(Y_true.shape[1]):
        pred = P[:, j][None, :] >= grid[:, None]
        y = Y_true[:, j][None, :] == 1
        tp = (pred & y).sum(axis=1)
        fp = (pred & ~y).sum(axis=1)
        fn = (~pred & y).sum(axis=1)
        f1 = np.where(tp > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1), 0.0)
        candidates = np.flatnonzero(np.isclose(f1, f1.max()))
        best[j] = grid[candidates[np.argmin(np.abs(grid[candidates] - 0.5))]]
    return best


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
