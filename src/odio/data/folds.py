"""Deterministic fold assignment: shuffled KFold or (multi-label) stratified folds."""

from __future__ import annotations

import logging

import numpy as np
from iterstrat.ml_stratifiers import MultilabelStratifiedKFold
from sklearn.model_selection import KFold, StratifiedKFold

from odio.errors import OdioError

log = logging.getLogger(__name__)


def make_folds(Y: np.ndarray, n_folds: int = 5, seed: int = 42, split: str = "auto") -> np.ndarray:
    """Return the fold id (0..n_folds-1) of every row; same inputs, same folds, every time.

    Args:
        Y: ``(n, n_labels)`` 0/1 label matrix (a 1-D vector is one label).
        n_folds: number of folds.
        seed: shuffling seed (42 is what the reference work used).
        split: ``stratified`` keeps each label's positive rate in every fold (iterative
            stratification for several labels), ``kfold`` is shuffled KFold, ``auto`` is
            ``stratified``.

    Example:
        >>> Y = np.array([[1], [0], [1], [0], [1], [0]])
        >>> make_folds(Y, n_folds=3).tolist()
        [0, 1, 1, 2, 2, 0]
    """
    Y = np.asarray(Y)
    if Y.ndim == 1:
        Y = Y[:, None]
    n = len(Y)
    if n_folds > n:
        raise OdioError(f"cannot make {n_folds} folds from {n} rows")
    if split == "kfold":
        splitter = KFold(n_splits=n_folds, shuffle=True, random_state=seed)
        splits = splitter.split(np.zeros(n))
    elif split in ("auto", "stratified"):
        counts = Y.sum(axis=0)
        if (counts < n_folds).any():
            log.warning(
                "some labels have fewer positive rows (%s) than folds (%d): "
                "some folds will have none",
                counts.tolist(),
                n_folds,
            )
        if Y.shape[1] == 1 and counts[0] >= n_folds and n - counts[0] >= n_folds:
            splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
            splits = splitter.split(np.zeros(n), Y[:, 0])
        else:
            # one label with fewer positives (or negatives) than folds: iterative
            # stratification of positives and negatives as two columns (it needs two)
            target = np.hstack([Y, 1 - Y]) if Y.shape[1] == 1 else Y
            splitter = MultilabelStratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
            splits = splitter.split(np.zeros(n), target)
    else:
        raise OdioError(f"unknown split {split!r}; use auto, stratified or kfold")
    fold_ids = np.full(n, -1, dtype=np.int64)
    for fold, (_, held_out) in enumerate(splits):
        fold_ids[held_out] = fold
    assert (fold_ids >= 0).all(), "every row belongs to exactly one fold"
    return fold_ids
