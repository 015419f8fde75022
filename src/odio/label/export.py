"""A project's votes in the Datathon vote format: one column per label holding the number of
annotators who marked it, and :data:`ANNOTATORS`, the number who voted, which ``odio train
--min-votes N`` reads as it is.

Example:
    >>> import tempfile, os
    >>> from odio.label.project import Tweet
    >>> p = Project.create(os.path.join(tempfile.mkdtemp(), "p.db"), [Tweet(0, "hola")],
    ...                    labels=["Odio"])
    >>> p.vote(p.annotator("ana"), 0, ["Odio"])
    >>> export_frame(p)[["Odio", "annotators"]].values.tolist()
    [[1, 1]]
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from odio.label.project import Project

if TYPE_CHECKING:
    import pandas as pd

ANNOTATORS = "annotators"
"""The export's column holding the number of annotators who voted on a tweet."""


def export_frame(project: Project, *, everything: bool = False) -> pd.DataFrame:
    """The tweets with at least one vote (every tweet with ``everything``) in the
    Datathon vote format: the source's id column, ``text``, one column per label holding
    how many annotators marked it, :data:`ANNOTATORS` and the source's other columns."""
    import pandas as pd

    tally: dict[int, dict[str, int]] = {}
    for voted, _, marked in project.votes():
        counts = tally.setdefault(voted, {ANNOTATORS: 0})
        counts[ANNOTATORS] += 1
        for label in marked:
            counts[label] = counts.get(label, 0) + 1
    id_column = project.meta.get("id_column")
    rows = []
    ids = range(project.size) if everything else sorted(tally)
    for i in ids:
        tweet = project.tweet(i)
        counts = tally.get(i, {})
        row: dict[str, Any] = {id_column: tweet.key} if id_column else {}
        row["text"] = tweet.text
        row.update({label: counts.get(label, 0) for label in project.labels})
        row[ANNOTATORS] = counts.get(ANNOTATORS, 0)
        row.update({k: v for k, v in tweet.context.items() if k not in row})
        rows.append(row)
    columns = ([id_column] if id_column else []) + ["text", *project.labels, ANNOTATORS]
    return pd.DataFrame(rows, columns=None if rows else columns)


def write_export(project: Project, output: str | Path, *, everything: bool = False) -> int:
    """Write :meth:`export_frame` to a CSV (a TSV for ``.tsv``), whole or not at all;
    the number of tweets written."""
    from odio.files import staging_file, swap_in

    frame = export_frame(project, everything=everything)
    final = Path(output)
    built = staging_file(final)
    try:
        frame.to_csv(built, index=False, sep="\t" if final.suffix == ".tsv" else ",")
        swap_in(built, final)
    except BaseException:
        built.unlink(missing_ok=True)
        raise
    return len(frame)


def majority_frame(project: Project) -> pd.DataFrame:
    """``text`` and a 0/1 column per label: 1 where most of the tweet's annotators marked it
    (two of three, one of one; a tie is 0), for the tweets with a vote (what ``odio label
    retrain`` trains on).

    Example:
        >>> import tempfile, os
        >>> from odio.label.project import Tweet
        >>> p = Project.create(os.path.join(tempfile.mkdtemp(), "p.db"), [Tweet(0, "x")],
        ...                    labels=["Odio"])
        >>> p.vote(p.annotator("ana"), 0, ["Odio"]); p.vote(p.annotator("bea"), 0, [])
        >>> majority_frame(p)["Odio"].tolist()
        [0]
    """
    frame = export_frame(project)
    out = frame[["text"]].copy()
    for label in project.labels:
        out[label] = (frame[label] * 2 > frame[ANNOTATORS]).astype(int)
    return out
