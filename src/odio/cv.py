"""The k-fold harness: one model per fold, out-of-fold predictions, blended test predictions.

For each fold the backend is fitted on the other folds (the held-out fold is passed as
``validation`` for backends that stop early on it), then predicts the held-out rows (each
training row gets exactly one out-of-fold probability) and the test rows. The test
probabilities of the fold models are averaged ("blending").
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from odio.backend import Backend
from odio.metrics import score

log = logging.getLogger(__name__)


@dataclass
class FoldResult:
    """What one fold produced: sizes, held-out scores at threshold 0.5, time, history."""

    fold: int
    train_rows: int
    val_rows: int
    scores: dict
    seconds: float
    history: list[dict] = field(default_factory=list)
    """Per-epoch losses, for backends that train in epochs."""


@dataclass
class CVResult:
    """Out-of-fold and blended test probabilities, per-fold results and the fold models."""

    labels: list[str]
    fold_ids: np.ndarray
    oof: np.ndarray
    folds: list[FoldResult]
    members: list[Backend]
    test: np.ndarray | None = None

    def fold_summary(self) -> dict[str, dict[str, float]]:
        """Mean and standard deviation over folds of f1_custom, macro-F1 and F1(first label)."""
        first = self.labels[0]
        columns = {
            "f1_custom": [f.scores["f1_custom"] for f in self.folds],
            "macro_f1": [f.scores["macro_f1"] for f in self.folds],
            f"f1_{first}": [f.scores["per_label"][first]["f1"] for f in self.folds],
        }
        return {k: {"mean": float(np.mean(v)), "std": float(np.std(v))} for k, v in columns.items()}


def cross_validate(
    make_backend: Callable[[], Backend],
    texts: Sequence[str],
    Y: np.ndarray,
    labels: Sequence[str],
    fold_ids: np.ndarray,
    *,
    test_texts: Sequence[str] | None = None,
    progress: bool = True,
) -> CVResult:
    """Train one backend per fold and collect out-of-fold and blended test probabilities.

    Args:
        make_backend: returns a new unfitted backend (called once per fold).
        texts: normalised training texts.
        Y: ``(n, n_labels)`` 0/1 labels.
        labels: label names.
        fold_ids: fold of every row (from :func:`odio.folds.make_folds`).
        test_texts: normalised test texts, predicted by every fold model and averaged.
        progress: show a progress bar over folds.

    Example:
        >>> from odio.tfidf import TfidfBackend
        >>> from odio.config import TfidfConfig
        >>> texts = ["odio a todos", "que lindo dia", "los odio", "buen dia"] * 5
        >>> Y = np.array([[1], [0], [1], [0]] * 5)
        >>> res = cross_validate(lambda: TfidfBackend(TfidfConfig(min_df=1)), texts, Y,
        ...                      ["Odio"], np.arange(20) % 2, progress=False)
        >>> res.oof.shape, len(res.members)
        ((20, 1), 2)
    """
    texts = list(texts)
    Y = np.atleast_2d(np.asarray(Y))
    fold_ids = np.asarray(fold_ids)
    n_folds = int(fold_ids.max()) + 1
    oof = np.full(Y.shape, np.nan)
    test_sum = None if test_texts is None else np.zeros((len(test_texts), Y.shape[1]))
    folds: list[FoldResult] = []
    members: list[Backend] = []
    bar = tqdm(range(n_folds), desc="folds", unit="fold", disable=not progress)
    for fold in bar:
        bar.set_description(f"fold {fold + 1}/{n_folds}")
        val = fold_ids == fold
        train_idx, val_idx = np.flatnonzero(~val), np.flatnonzero(val)
        start = time.perf_counter()
        model = make_backend()
        if hasattr(model, "progress_desc"):  # backends with their own per-epoch bars
            model.progress_desc = f"fold {fold + 1}/{n_folds}"
            model.progress = progress
        model.fit(
            [texts[i] for i in train_idx],
            Y[train_idx],
            validation=([texts[i] for i in val_idx], Y[val_idx]),
        )
        oof[val_idx] = model.predict_proba([texts[i] for i in val_idx])
        if test_sum is not None:
            test_sum += model.predict_proba(test_texts)
        seconds = time.perf_counter() - start
        result = FoldResult(
            fold=fold,
            train_rows=len(train_idx),
            val_rows=len(val_idx),
            scores=score(Y[val_idx], oof[val_idx], labels),
            seconds=seconds,
            history=list(getattr(model, "history_", [])),
        )
        log.debug("fold %d: f1_custom %.4f (%.1fs)", fold, result.scores["f1_custom"], seconds)
        bar.set_postfix(f1_custom=f"{result.scores['f1_custom']:.3f}")
        folds.append(result)
        members.append(model)
    if np.isnan(oof).any():
        raise AssertionError("some training rows got no out-of-fold prediction")
    return CVResult(
        labels=list(labels),
        fold_ids=fold_ids,
        oof=oof,
        folds=folds,
        members=members,
        test=None if test_sum is None else test_sum / n_folds,
    )
