"""A new model from the labels so far, to re-rank the queue (``odio label retrain``).

A TF-IDF run (seconds on a laptop) is cross-validated on the labelled tweets with
:func:`odio.fit`; its fold models score the unlabelled pool one by one, which is what the
``committee`` strategy needs (their disagreement), and their mean and the run's tuned
thresholds are what ``uncertainty`` needs.

>>> import pandas as pd
>>> frame = pd.read_csv("examples/tweets_sample.csv")
>>> probs, cuts = retrain(frame, ["te odio", "buen dia"], ["Odio"], folds=3)
>>> probs.shape, cuts.shape
((3, 2, 1), (1,))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from odio.errors import OdioError


def retrain(
    labelled: pd.DataFrame,
    pool_texts: Sequence[str],
    labels: Sequence[str],
    *,
    folds: int = 5,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Fit a TF-IDF run on ``labelled`` and score ``pool_texts`` with each fold model.

    Args:
        labelled: the labelled tweets: a ``text`` column and one column per label, either
            0/1 or annotator votes with the Datathon's rule (positive from 2 votes; a file
            whose values are all 0 or 1 is read as 0/1), as ``odio label export`` writes.
        pool_texts: the tweets still to label.
        labels: the label columns, the main label first.
        folds: cross-validation folds (one member per fold); fewer when the only label
            has fewer positives (or negatives) than ``folds`` (see :func:`usable_folds`),
            so the first axis of the probabilities may be shorter.
        seed: seed of the fold split and of training.

    Returns:
        ``(member_probs, thresholds)``: ``(members, len(pool_texts), len(labels))`` fold
        probabilities and the ``(len(labels),)`` thresholds tuned on the out-of-fold
        predictions, in the order of ``labels``.

    Raises:
        OdioError: too few labelled tweets, a label nobody has marked yet, or a column
            is missing (one line).

    Example:
        >>> frame = pd.DataFrame({"text": ["odio a todos", "buen dia"] * 4, "Odio": [1, 0] * 4})
        >>> retrain(frame, ["hola"], ["Odio"], folds=2)[0].shape
        (2, 1, 1)
    """
    from odio.config import DataConfig
    from odio.data.labelled import load_labelled
    from odio.training.fit import fit

    labels = list(labels)
    try:
        Y = load_labelled(labelled, DataConfig(labels=labels), training=True).Y
    except OdioError as error:
        raise OdioError(f"cannot retrain yet: {error}") from None
    folds, split = usable_folds(Y, folds)
    config: dict[str, Any] = {
        "model": "tfidf",
        "data": {"labels": labels},
        "cv": {"folds": folds, "seed": seed, "split": split},
    }
    run = fit(labelled, config, progress=False)
    return member_probabilities(run.model(), pool_texts), thresholds_of(run.thresholds, labels)


def usable_folds(Y: np.ndarray, folds: int) -> tuple[int, str]:
    """``(folds, split)`` for ``odio.fit``: fewer folds when one label is too rare for them.

    Early in a project the one label may have two positives: a stratified split cannot
    make five folds of them (``odio.fit``'s splitter fails), so the folds shrink to the
    rarer class's count, and with a single positive (or negative) the split is a plain
    shuffled one. Several labels keep ``folds``: their iterative stratification copies
    with a rare label (it warns, as ``odio train`` does).

    >>> usable_folds(np.array([[1], [1], [1], [0], [0], [0], [0]]), 5)
    (3, 'auto')
    >>> usable_folds(np.array([[1], [0], [0], [0]]), 5)
    (2, 'kfold')
    """
    if Y.shape[1] > 1:
        return folds, "auto"
    positives = int(Y[:, 0].sum())
    rarest = min(positives, len(Y) - positives)
    if rarest >= folds:
        return folds, "auto"
    return max(2, rarest), "auto" if rarest >= 2 else "kfold"


def member_probabilities(model: Any, texts: Sequence[str]) -> np.ndarray:
    """``(members, len(texts), labels)``: each fold member's probabilities of ``texts``.

    ``model`` is a :class:`~odio.models.blend.Blend` (what a single-backend run ships);
    the texts are normalised once, as the members were trained.
    """
    members = getattr(model, "members", None)
    if not members:
        raise OdioError("only a run of one backend has fold members to score with (not a stack)")
    if not texts:
        return np.zeros((len(members), 0, model.n_labels))
    prepared = model.prepare(list(texts))
    return np.stack([np.asarray(m.predict_proba(prepared), dtype=float) for m in members])


def thresholds_of(thresholds: dict[str, float], labels: Sequence[str]) -> np.ndarray:
    """The run's tuned thresholds as an array in the order of ``labels``.

    >>> thresholds_of({"b": 0.3, "a": 0.6}, ["a", "b"]).tolist()
    [0.6, 0.3]
    """
    return np.array([float(thresholds[label]) for label in labels])
