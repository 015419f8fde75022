"""How far annotators agree: Krippendorff's alpha, and the tweets they disagree on most.

Votes are a table of items (tweets) by annotators, one value per cell: ``1`` (marked the
label), ``0`` (did not) or ``None`` (did not see the tweet). Alpha is computed per label
by the caller, one table per label.

Krippendorff's alpha (nominal) is ``1 - D_o / D_e``: the disagreement observed among the
votes given to the same tweet, over the disagreement expected were the same votes paired
at random. 1 is perfect agreement, 0 is chance, below 0 is systematic disagreement. Unlike
Cohen's or Fleiss' kappa it takes any number of annotators and missing votes, which is
what a labelling project has (each tweet gets ``--votes`` annotators out of many).
Reference: K. Krippendorff, *Computing Krippendorff's Alpha-Reliability* (2011).

>>> krippendorff_alpha([[1, 1], [0, 0], [1, 0], [0, 0]])
0.533...
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from numbers import Real

from odio.errors import OdioError

Votes = Sequence[Sequence["int | None"]]
"""Items x annotators; ``None`` where an annotator gave no vote."""


def krippendorff_alpha(votes: Votes) -> float:
    """Krippendorff's alpha for nominal values (0/1 labels, or any integer categories).

    Only items with at least two votes are pairable and count. Alpha is undefined (NaN)
    when no item has two votes or when every vote has the same value (no disagreement is
    expected, so none can be measured).

    Args:
        votes: items x annotators; rows may differ in length, ``None`` is a missing vote.

    Returns:
        Alpha in [-1, 1], or ``nan`` when undefined.

    Raises:
        OdioError: a vote is neither an integer nor ``None``.

    Example:
        >>> krippendorff_alpha([[1, 1, None], [0, 0, 0], [1, None, None]])
        1.0
        >>> math.isnan(krippendorff_alpha([[1], [0]]))
        True
    """
    coincidences: dict[tuple[int, int], float] = defaultdict(float)
    for counts in _item_counts(votes):
        m = sum(counts.values())
        if m < 2:
            continue
        for c, n_c in counts.items():
            for k, n_k in counts.items():
                pairs = n_c * (n_k - 1) if c == k else n_c * n_k
                coincidences[(c, k)] += pairs / (m - 1)
    marginals: dict[int, float] = defaultdict(float)
    for (c, _), value in coincidences.items():
        marginals[c] += value
    n = sum(marginals.values())
    if n == 0:
        return math.nan
    observed = sum(v for (c, k), v in coincidences.items() if c != k)
    expected = sum(marginals[c] * marginals[k] for c in marginals for k in marginals if c != k)
    if expected == 0:
        return math.nan
    return float(1.0 - (n - 1) * observed / expected)


def disagreements(votes: Votes, top: int) -> list[int]:
    """Indices of the items annotators disagree on most, most disputed first.

    An item's disagreement is the share of its pairs of votes that differ (0 when all its
    votes agree, 2/3 for a 2-1 split on three votes, the most for an even split). Only
    items with some disagreement are listed; ties go to the lower index.

    Args:
        votes: items x annotators, as for :func:`krippendorff_alpha`.
        top: most items to return.

    Example:
        >>> disagreements([[1, 1, 1], [1, 0, 0], [1, 0, None], [0, 0, None]], top=5)
        [2, 1]
    """
    if top < 0:
        raise OdioError(f"top must be 0 or more, not {top}")
    scored = []
    for index, counts in enumerate(_item_counts(votes)):
        m = sum(counts.values())
        if m < 2:
            continue
        agreeing = sum(n * (n - 1) for n in counts.values())
        share = 1.0 - agreeing / (m * (m - 1))
        if share > 0:
            scored.append((-share, index))
    return [index for _, index in sorted(scored)[:top]]


def _item_counts(votes: Votes) -> list[Counter[int]]:
    """Per item, how many annotators gave each value."""
    items = []
    for row, item in enumerate(votes):
        counts: Counter[int] = Counter()
        for vote in item:
            if vote is None or (isinstance(vote, Real) and math.isnan(vote)):
                continue  # None, or NaN as pandas writes a missing vote
            if not isinstance(vote, Real) or vote != int(vote):
                raise OdioError(f"item {row}: a vote must be an integer or None, not {vote!r}")
            counts[int(vote)] += 1
        items.append(counts)
    return items
