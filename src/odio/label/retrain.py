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
        folds: cross-validation folds (one member per fold); fewer when a label has fewer
            positives (or negatives) than ``folds`` (see :func:`usable_folds`), so the
            first axis of the probabilities may be shorter.
        seed: seed of the fold split and of training.

    Returns:
        ``(member_probs, thresholds)``: ``(members, len(pool_texts), len(labels))`` fold
        probabilities and the ``(len(labels),)`` thresholds tuned on the out-of-fold
        predictions, in the order of ``labels``.

    Raises:
        OdioError: too few labelled tweets, a label with fewer than 2 positives or
            negatives, or a column is missing (one line).

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
    folds = usable_folds(Y, labels, folds)
    config: dict[str, Any] = {
        "model": "tfidf",
        "data": {"labels": labels},
        "cv": {"folds": folds, "seed": seed},
    }
    run = fit(labelled, config, progress=False)
    return member_probabilities(run.model(), pool_texts), thresholds_of(run.thresholds, labels)


def usable_folds(Y: np.ndarray, labels: Sequence[str], folds: int) -> int:
    """``folds``, or fewer when a label has fewer positives (or negatives) than folds.

    Early in a project a label may have two positives: five stratified folds would leave
    folds without one (and fold models that never saw one), so the folds shrink to the
    rarest class's count; below two, nothing can be cross-validated.

    >>> usable_folds(np.array([[1], [1], [1], [0], [0], [0], [0]]), ["Odio"], 5)
    3
    """
    positives = Y.sum(axis=0)
    rarest = np.minimum(positives, len(Y) - positives)
    worst = int(np.argmin(rarest))
    if rarest[worst] < 2:
        kind = "positive" if positives[worst] < 2 else "negative"
        raise OdioError(
            f"label {labels[worst]!r} has {int(rarest[worst])} {kind} tweet(s) among the "
            f"{len(Y)} labelled: at least 2 are needed to retrain (label more, or leave it out)"
        )
    return int(min(folds, rarest.min()))


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
