"""Which unlabelled tweet to show next: the active-learning strategies of ``odio label``.

Every strategy ranks the whole pool, best candidate first, from what a TF-IDF or encoder
run already has: its fold models (the *members*, whose probabilities are
``member_probs[m, i, j]`` for member ``m``, tweet ``i``, label ``j``) and its tuned
thresholds.

- ``random``: a seeded shuffle (the baseline every other strategy must beat).
- ``uncertainty``: the tweets whose blended probability (the members' mean) is closest to
  a label's tuned threshold, measured on the scale of that side of the threshold so that
  rare labels with low thresholds count as much as the main one.
- ``committee``: query by committee, the fold models being the committee: the tweets whose
  members vote most evenly on a label (vote entropy at the tuned threshold), ties broken by
  the spread of their probabilities.
- ``diverse``: uncertainty with diversity: maximal marginal relevance over TF-IDF vectors
  of the texts picks the first ``k`` among the most uncertain tweets, each one far from
  those picked before it, so that one batch is not ten copies of the same chain tweet.

>>> import numpy as np
>>> probs = np.array([[[0.9], [0.52], [0.1]], [[0.8], [0.40], [0.2]]])  # 2 members, 3 tweets
>>> rank("uncertainty", probs, np.array([0.5])).tolist()
[1, 2, 0]
>>> rank("committee", probs, np.array([0.5])).tolist()[0]
1
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from odio.errors import OdioError

STRATEGIES = ("random", "uncertainty", "committee", "diverse")
"""The strategy names ``rank`` accepts, in the order the CLI lists them."""

DIVERSE_POOL = 10
"""``diverse`` picks its ``k`` tweets among the ``DIVERSE_POOL * k`` most uncertain."""

DIVERSE_WEIGHT = 0.5
"""``diverse``: weight of uncertainty against novelty in maximal marginal relevance."""

DIVERSE_K = 100
"""``diverse``: how many tweets are picked for diversity when ``k`` is not given."""


def rank(
    strategy: str,
    member_probs: np.ndarray | None,
    thresholds: np.ndarray | None,
    *,
    seed: int = 0,
    texts: Sequence[str] | None = None,
    k: int | None = None,
) -> np.ndarray:
    """Indices of the pool's tweets, the one worth labelling first first.

    Args:
        strategy: one of :data:`STRATEGIES`.
        member_probs: ``(n_members, n_items, n_labels)`` probabilities of the run's fold
            models over the pool (``None`` allowed for ``random``).
        thresholds: ``(n_labels,)`` tuned thresholds of the run (``None`` allowed for
            ``random``).
        seed: seed of ``random`` (and of nothing else: the other strategies are
            deterministic, ties going to the lower index).
        texts: the pool's texts; needed by ``diverse`` (and by ``random`` when
            ``member_probs`` is ``None``, for the pool size).
        k: ``diverse`` only: how many tweets to choose for diversity (the next batch); the
            rest follow in uncertainty order. Default: :data:`DIVERSE_K`.

    Returns:
        A permutation of ``range(n_items)`` as an integer array.

    Raises:
        OdioError: an unknown strategy, or an input the strategy needs is missing or has
            the wrong shape.

    Example:
        >>> rank("random", None, None, texts=["a", "b", "c"], seed=1).shape
        (3,)
    """
    if strategy not in STRATEGIES:
        raise OdioError(f"unknown strategy {strategy!r}: choose one of {', '.join(STRATEGIES)}")
    if strategy == "random":
        n = _pool_size(member_probs, texts)
        return np.random.default_rng(seed).permutation(n)
    probs, cuts = _checked(strategy, member_probs, thresholds)
    if strategy == "uncertainty":
        return _order(uncertainty_scores(probs, cuts))
    if strategy == "committee":
        entropy, spread = committee_scores(probs, cuts)
        return np.lexsort((np.arange(len(entropy)), -spread, -entropy))
    if texts is None:
        raise OdioError("the diverse strategy needs the pool's texts")
    if len(texts) != probs.shape[1]:
        raise OdioError(f"{len(texts)} texts for {probs.shape[1]} scored tweets")
    return _diverse(uncertainty_scores(probs, cuts), texts, DIVERSE_K if k is None else k)


def uncertainty_scores(member_probs: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """``(n_items,)`` uncertainty in [0, 1]: 1 on a label's threshold, 0 at 0 or 1.

    The blended probability ``p`` (members' mean) is compared with each label's threshold
    ``t``: ``1 - (t - p) / t`` below it, ``1 - (p - t) / (1 - t)`` above it, so a rare
    label (threshold 0.2) and the main label (0.45) are on one scale; a tweet counts by
    its most uncertain label.

    >>> uncertainty_scores(np.array([[[0.2, 0.5]]]), np.array([0.2, 0.25])).tolist()
    [1.0]
    """
    blend = member_probs.mean(axis=0)
    below = blend < thresholds
    side = np.where(below, thresholds, 1.0 - thresholds)
    distance = np.abs(blend - thresholds) / np.maximum(side, 1e-12)
    return np.asarray(1.0 - np.clip(distance, 0.0, 1.0).min(axis=1))


def committee_scores(
    member_probs: np.ndarray, thresholds: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Disagreement of the members: ``(vote entropy, probability spread)`` per tweet.

    Vote entropy (bits) is that of the members' 0/1 decisions at the tuned threshold,
    the largest over the labels; the spread is the members' standard deviation of the
    probability, summed over the labels (it orders the tweets whose votes tie).

    >>> entropy, spread = committee_scores(np.array([[[0.9]], [[0.1]]]), np.array([0.5]))
    >>> entropy.tolist(), spread.round(2).tolist()
    ([1.0], [0.4])
    """
    votes = (member_probs >= thresholds).mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        bits = -(votes * np.log2(votes) + (1 - votes) * np.log2(1 - votes))
    entropy = np.nan_to_num(bits).max(axis=1)
    spread = member_probs.std(axis=0).sum(axis=1)
    return entropy, spread


def tfidf_vectors(texts: Sequence[str]) -> Any:
    """Unit-length TF-IDF vectors (sparse, character 2-4 grams inside words) of ``texts``.

    >>> tfidf_vectors(["hola", "chao"]).shape[0]
    2
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
    try:
        return vectorizer.fit_transform([str(t).lower() for t in texts])
    except ValueError:  # only empty texts: no vocabulary, every tweet equally far
        from scipy.sparse import csr_matrix

        return csr_matrix((len(texts), 1))


def _diverse(scores: np.ndarray, texts: Sequence[str], k: int) -> np.ndarray:
    """Maximal marginal relevance among the most uncertain, then uncertainty order."""
    if k < 0:
        raise OdioError(f"k must be 0 or more, not {k}")
    order = _order(scores)
    k = min(k, len(order))
    if k <= 1:
        return order
    candidates = order[: min(len(order), DIVERSE_POOL * k)]
    vectors = tfidf_vectors([texts[i] for i in candidates])
    relevance = scores[candidates]
    closest = np.zeros(len(candidates))  # similarity to the nearest tweet already chosen
    chosen: list[int] = []
    free = np.ones(len(candidates), dtype=bool)
    for _ in range(k):
        value = DIVERSE_WEIGHT * relevance - (1 - DIVERSE_WEIGHT) * closest
        value[~free] = -np.inf
        pick = int(np.argmax(value))  # the first maximum: ties go to the more uncertain
        chosen.append(pick)
        free[pick] = False
        similarity = np.asarray((vectors @ vectors[pick].T).todense()).ravel()
        closest = np.maximum(closest, similarity)
    picked = candidates[chosen]
    rest = order[~np.isin(order, picked)]
    return np.concatenate([picked, rest]).astype(np.intp)


def _order(scores: np.ndarray) -> np.ndarray:
    """Indices by descending score, ties to the lower index."""
    return np.lexsort((np.arange(len(scores)), -scores)).astype(np.intp)


def _pool_size(member_probs: np.ndarray | None, texts: Sequence[str] | None) -> int:
    if member_probs is not None:
        return int(np.asarray(member_probs).shape[1])
    if texts is not None:
        return len(texts)
    raise OdioError("the random strategy needs the pool: member probabilities or texts")


def _checked(
    strategy: str, member_probs: np.ndarray | None, thresholds: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """The inputs as float arrays of matching shapes, or one line saying what is wrong."""
    if member_probs is None or thresholds is None:
        raise OdioError(
            f"the {strategy} strategy needs a model's probabilities and thresholds "
            "(label with --model RUN, or retrain first)"
        )
    probs = np.asarray(member_probs, dtype=float)
    cuts = np.asarray(thresholds, dtype=float).reshape(-1)
    if probs.ndim != 3:
        raise OdioError(
            f"member probabilities must be (members, tweets, labels), not {probs.shape}"
        )
    if probs.shape[2] != len(cuts):
        raise OdioError(f"{len(cuts)} thresholds for {probs.shape[2]} labels")
    return probs, cuts
