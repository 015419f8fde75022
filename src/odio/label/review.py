"""Suspected label errors: the tweets whose out-of-fold probability contradicts their label.

Confident learning (Northcutt, Jiang and Chuang, *Confident Learning: Estimating
Uncertainty in Dataset Labels*, JAIR 2021), the method of ``cleanlab``, written here with
numpy for odio's binary labels (one yes/no question per label, so no new dependency):

1. Per label and per class, the *confident threshold* is the mean out-of-fold probability
   of that class over the tweets labelled with it (``t1`` = mean P(yes) of the yes tweets,
   ``t0`` = mean P(no) of the no tweets). It adapts to each label's calibration: a rare
   target's positives may average P = 0.4 where Odio's average 0.8.
2. A tweet labelled *no* is in the off-diagonal of the confident joint (a candidate error)
   when its P(yes) reaches ``t1``, and is more confidently *yes* than *no* relative to the
   thresholds; likewise for a *yes* tweet and ``t0``. odio also asks that the run's tuned
   threshold decides against the label, so that every suspect is a tweet the model gets
   wrong.
3. Candidates are ranked by their label quality, cleanlab's self-confidence with the
   confident thresholds subtracted (``adjust_pred_probs``): the probability of the given
   label after ``p - t + max(t)`` and renormalising. The lowest quality is the most
   suspect, and the scale is shared by all labels.

>>> import pandas as pd
>>> oof = pd.DataFrame({"text": ["a", "b", "c", "d"], "true_Odio": [1, 1, 0, 0],
...                     "prob_Odio": [0.9, 0.1, 0.2, 0.8]})
>>> suspects(oof, ["Odio"], {"Odio": 0.5}, top=5)[["row", "given", "prob"]]
   row  given  prob
0    1      1   0.1
1    3      0   0.8
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from odio.errors import OdioError

COLUMNS = ["row", "text", "label", "given", "prob", "threshold", "quality"]
"""What :func:`suspects` returns (an ``id`` column comes after ``row`` when the run has one)."""


def suspects(
    oof: pd.DataFrame,
    labels: Sequence[str],
    thresholds: Mapping[str, float],
    top: int,
) -> pd.DataFrame:
    """The ``top`` most likely label errors of a run, most suspect first.

    One row per (tweet, label) suspect: a tweet may appear once per label it is suspected
    on (a tweet labelled not hateful but plainly against migrants is suspect on Odio and
    on Comunidades Migrantes).

    Args:
        oof: a run's out-of-fold predictions (``oof.csv``, or ``TrainedRun.oof_predictions``):
            ``text``, ``true_LABEL`` (0/1) and ``prob_LABEL`` per label; ``row`` (the
            training file's row) and an id column are kept when present.
        labels: the labels to review (names as in the columns).
        thresholds: the run's tuned threshold per label (``metrics.json``).
        top: most suspects to return.

    Returns:
        A frame with :data:`COLUMNS`: the training row, the text, the label, the label the
        tweet has (``given``), the out-of-fold probability of yes, the tuned threshold and
        the label quality (lower = more suspect).

    Raises:
        OdioError: a column or a threshold is missing, or ``top`` is negative.

    Example:
        >>> frame = pd.DataFrame({"text": ["x", "y"], "true_Odio": [0, 0], "prob_Odio": [0.1, 0.2]})
        >>> len(suspects(frame, ["Odio"], {"Odio": 0.5}, top=10))
        0
    """
    if top < 0:
        raise OdioError(f"top must be 0 or more, not {top}")
    if "text" not in oof.columns:
        raise OdioError("the out-of-fold predictions have no text column")
    rows = oof["row"].to_numpy() if "row" in oof.columns else np.arange(len(oof))
    id_column = next((c for c in ("id", "tweet_id") if c in oof.columns), None)
    parts = []
    for label in labels:
        given, prob = _label_columns(oof, label)
        if label not in thresholds:
            raise OdioError(f"no threshold for label {label!r}")
        cut = float(thresholds[label])
        flagged, quality = label_issues(given, prob, cut)
        index = np.flatnonzero(flagged)
        part = pd.DataFrame(
            {
                "row": rows[index],
                "text": oof["text"].to_numpy()[index],
                "label": label,
                "given": given[index],
                "prob": prob[index],
                "threshold": cut,
                "quality": quality[index],
            }
        )
        if id_column is not None:
            part.insert(1, id_column, oof[id_column].to_numpy()[index])
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=COLUMNS)
    found = pd.concat(parts, ignore_index=True)
    found = found.sort_values(["quality", "row"], kind="stable").head(top)
    return found.reset_index(drop=True)


def label_issues(
    given: np.ndarray, prob: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Confident learning on one binary label: ``(flagged, quality)`` per tweet.

    Args:
        given: 0/1 labels the tweets have.
        prob: out-of-fold probability of 1.
        threshold: the run's tuned threshold; a flagged tweet is also one it decides
            against its label.

    Returns:
        A boolean mask of suspected errors and each tweet's label quality in [0, 1].

    Example:
        >>> flagged, quality = label_issues(np.array([1, 1, 0, 0]), np.array([.9, .1, .2, .8]), .5)
        >>> flagged.tolist(), quality.round(2).tolist()
        ([False, True, False, True], [0.9, 0.1, 0.8, 0.2])
    """
    given = np.asarray(given).astype(int)
    prob = np.asarray(prob, dtype=float)
    class_probs = np.column_stack([1.0 - prob, prob])  # P(no), P(yes)
    confident = confident_thresholds(given, class_probs)
    adjusted = class_probs - confident + confident.max()
    adjusted /= adjusted.sum(axis=1, keepdims=True)
    quality = adjusted[np.arange(len(given)), given]
    other = 1 - given
    above = class_probs >= confident  # per class: confidently that class
    confidently_other = above[np.arange(len(given)), other]
    # both classes above their thresholds: cleanlab keeps the larger margin over its threshold
    margin = class_probs - confident
    both = above.all(axis=1)
    prefers_other = margin[np.arange(len(given)), other] > margin[np.arange(len(given)), given]
    off_diagonal = confidently_other & (~both | prefers_other)
    decided_against = (prob >= threshold).astype(int) != given
    return off_diagonal & decided_against, quality


def confident_thresholds(given: np.ndarray, class_probs: np.ndarray) -> np.ndarray:
    """Per class, the mean probability of that class over the items labelled with it.

    A class nobody has gets threshold 1 (nothing is confidently of it... unless P = 1).

    >>> confident_thresholds(np.array([0, 1, 1]), np.array([[.8, .2], [.4, .6], [.2, .8]]))
    array([0.8, 0.7])
    """
    out = np.ones(class_probs.shape[1])
    for c in range(class_probs.shape[1]):
        mine = given == c
        if mine.any():
            out[c] = class_probs[mine, c].mean()
    return out


def _label_columns(oof: pd.DataFrame, label: str) -> tuple[np.ndarray, np.ndarray]:
    """The 0/1 labels and the probabilities of one label, checked."""
    missing = [c for c in (f"true_{label}", f"prob_{label}") if c not in oof.columns]
    if missing:
        raise OdioError(
            f"the out-of-fold predictions have no {' or '.join(missing)} column "
            f"(labels there: {', '.join(c[5:] for c in oof.columns if c.startswith('prob_'))})"
        )
    given = oof[f"true_{label}"].to_numpy()
    if not np.isin(given, (0, 1)).all():
        raise OdioError(f"true_{label} must be 0 or 1")
    prob = oof[f"prob_{label}"].to_numpy(dtype=float)
    if np.isnan(prob).any():
        raise OdioError(f"prob_{label} has empty values")
    return given.astype(int), prob
