"""How a project's annotators agree: Krippendorff's alpha of every label (computed by
:mod:`odio.label.agreement`) and the tweets they disagree on most, for the page and ``odio
label status``.

Example:
    >>> import tempfile, os
    >>> from odio.label.project import Tweet
    >>> p = Project.create(os.path.join(tempfile.mkdtemp(), "p.db"), [Tweet(0, "x")],
    ...                    labels=["Odio"])
    >>> p.vote(p.annotator("ana"), 0, ["Odio"]); p.vote(p.annotator("bea"), 0, [])
    >>> vote_table(p, "Odio"), disputed(p)[0]["disagreement"]
    ([[1, 0]], 0.5)
"""

from __future__ import annotations

from typing import Any

from odio.label.project import Project


def vote_table(project: Project, label: str) -> list[list[int | None]]:
    """Items x annotators: 1 where the annotator marked ``label``, 0 where they voted
    without it, ``None`` where they did not vote (tweets with a vote only), the input
    of :func:`odio.label.agreement.krippendorff_alpha`."""
    votes = project.votes()
    names = sorted({name for _, name, _ in votes})
    table: dict[int, list[int | None]] = {}
    for tweet, name, marked in votes:
        row = table.setdefault(tweet, [None] * len(names))
        row[names.index(name)] = int(label in marked)
    return list(table.values())


def alphas(project: Project) -> dict[str, float | None]:
    """Krippendorff's alpha of every label (``None`` where it is undefined: too few
    tweets with two votes, or a label nobody marked)."""
    out: dict[str, float | None] = {}
    for label in project.labels:
        table = [row for row in vote_table(project, label) if sum(v is not None for v in row) > 1]
        value = None
        if table:
            from odio.label.agreement import krippendorff_alpha

            value = krippendorff_alpha(table)
        out[label] = None if value is None or value != value else float(value)
    return out


def disputed(project: Project, top: int = 10) -> list[dict[str, Any]]:
    """The tweets annotators disagree on most: per label, the share of the minority
    side of its votes, summed over labels (two voters split 1-1 on Odio: 0.5)."""
    tally: dict[int, dict[str, int]] = {}
    voters: dict[int, int] = {}
    for tweet, _, marked in project.votes():
        voters[tweet] = voters.get(tweet, 0) + 1
        counts = tally.setdefault(tweet, {})
        for label in marked:
            counts[label] = counts.get(label, 0) + 1
    scored = []
    for tweet, n in voters.items():
        if n < 2:
            continue
        counts = tally[tweet]
        split = sum(min(k, n - k) / n for k in counts.values())
        if split > 0:
            scored.append((split, tweet, n, counts))
    scored.sort(key=lambda s: (-s[0], s[1]))
    return [
        {"tweet": t, "text": project.tweet(t).text, "disagreement": s, "annotators": n, **c}
        for s, t, n, c in scored[:top]
    ]
