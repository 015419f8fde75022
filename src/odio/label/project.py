"""A labelling project: one SQLite file holding the tweets to label, the annotators, their
votes and the order tweets are served in.

Every click is one committed transaction (WAL journal, ``synchronous=FULL``), so a crashed
server or a closed tab loses nothing that was answered. The tables:

- ``meta``: the labels, the project's kind (``label``, or ``review`` of a run's labels),
  the source file and its id and text columns;
- ``tweets``: ``id`` (0-based position in the source), ``key`` (the source's id, if any),
  ``text``, ``context`` (the source's other columns, JSON), ``probs`` (the model's
  probabilities, JSON) and ``current`` (a review project's current labels, JSON);
- ``annotators``: names;
- ``votes``: one row per tweet and annotator: the labels marked (JSON list; empty is "not
  hate") or a skip;
- ``queue``: the position of every tweet in the serving order (best first);
- ``model``: the fold models' probabilities of every tweet (for re-ranking) and thresholds.

:mod:`odio.label.export` writes the Datathon vote format that ``odio train`` reads.

Example:
    >>> import tempfile, os
    >>> db = os.path.join(tempfile.mkdtemp(), "p.db")
    >>> p = Project.create(db, [Tweet(0, "hola")], labels=["Odio"])
    >>> p.vote(p.annotator("ana"), 0, ["Odio"]); p.votes()
    [(0, 'ana', ['Odio'])]
"""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from odio.errors import OdioError

if TYPE_CHECKING:
    import numpy as np

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tweets (
    id INTEGER PRIMARY KEY, key TEXT, text TEXT NOT NULL, context TEXT NOT NULL DEFAULT '{}',
    probs TEXT, current TEXT);
CREATE TABLE IF NOT EXISTS annotators (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE IF NOT EXISTS votes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tweet INTEGER NOT NULL REFERENCES tweets(id),
    annotator INTEGER NOT NULL REFERENCES annotators(id),
    labels TEXT NOT NULL, skipped INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (tweet, annotator));
CREATE TABLE IF NOT EXISTS queue (position INTEGER PRIMARY KEY, tweet INTEGER NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS model (
    id INTEGER PRIMARY KEY, run TEXT NOT NULL, thresholds TEXT NOT NULL, probs BLOB NOT NULL,
    created TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
"""
MAX_NAME = 40
"""Most characters in an annotator's name."""


@dataclass(frozen=True)
class Tweet:
    """A tweet of a project: its row ``id``, text, source id, context and model scores."""

    id: int
    text: str
    key: str | None = None
    """The id the source file gave it (``None`` when it had no id column)."""
    context: dict[str, Any] = field(default_factory=dict)
    """The source's other columns (shown beside the tweet, written back by the export)."""
    probs: dict[str, float] | None = None
    """The model's probability of every label, when the project was made with a model."""
    current: list[str] | None = None
    """A review project's current labels of the tweet (an empty list: none)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "key": self.key,
            "context": self.context,
            "probs": self.probs,
            "current": self.current,
        }


def connect(path: str | Path) -> sqlite3.Connection:
    """A connection to a project file: WAL journal, each commit on disk before it returns,
    a wait of up to 10 s for a writer in another thread or process."""
    connection = sqlite3.connect(str(path), timeout=10.0, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("PRAGMA foreign_keys=ON")
    return connection


class Project:
    """An open labelling project (see the module's docstring for its tables).

    Args:
        path: the project file, made by :meth:`create` (``odio label init``).

    Raises:
        OdioError: the file is missing or is not a labelling project.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise OdioError(f"{path}: no such labelling project (make one with odio label init)")
        try:
            self.db = connect(self.path)
            meta = dict(self.db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            raise OdioError(f"{path} is not a labelling project: {exc}") from None
        if "labels" not in meta:
            raise OdioError(f"{path} is not a labelling project: it has no labels")
        self.meta: dict[str, Any] = {k: json.loads(v) for k, v in meta.items()}
        self.labels: list[str] = list(self.meta["labels"])

    @classmethod
    def create(
        cls,
        path: str | Path,
        tweets: Iterable[Tweet],
        *,
        labels: Sequence[str],
        kind: str = "label",
        **meta: Any,
    ) -> Project:
        """Write a new project file holding ``tweets`` (served in the given order).

        Raises:
            OdioError: ``path`` exists, or no tweet is given.
        """
        path = Path(path)
        if path.exists():
            raise OdioError(f"{path} exists; choose another name or remove it first")
        if not labels or len(set(labels)) != len(labels):
            raise OdioError(f"labels must be distinct and at least one, got {list(labels)}")
        rows = [
            (
                t.id,
                t.key,
                t.text,
                json.dumps(t.context, ensure_ascii=False),
                None if t.probs is None else json.dumps(t.probs),
                None if t.current is None else json.dumps(t.current, ensure_ascii=False),
            )
            for t in tweets
        ]
        if not rows:
            raise OdioError("no tweet to label")
        db = connect(path)
        try:
            db.executescript(SCHEMA)
            with _transaction(db):
                db.executemany("INSERT INTO tweets VALUES (?, ?, ?, ?, ?, ?)", rows)
                db.executemany("INSERT INTO queue VALUES (?, ?)", enumerate(r[0] for r in rows))
                entries = {**meta, "labels": list(labels), "kind": kind}
                db.executemany(
                    "INSERT INTO meta VALUES (?, ?)",
                    [(k, json.dumps(v, ensure_ascii=False)) for k, v in entries.items()],
                )
        except BaseException:
            db.close()
            path.unlink(missing_ok=True)
            raise
        db.close()
        return cls(path)

    def close(self) -> None:
        self.db.close()

    @property
    def kind(self) -> str:
        """``label``, or ``review`` (tweets shown with the labels they have)."""
        return str(self.meta.get("kind", "label"))

    @property
    def size(self) -> int:
        """The number of tweets."""
        return int(self.db.execute("SELECT COUNT(*) FROM tweets").fetchone()[0])

    @property
    def has_probs(self) -> bool:
        """Whether the tweets carry a model's probabilities (shown behind a toggle)."""
        row = self.db.execute("SELECT 1 FROM tweets WHERE probs IS NOT NULL LIMIT 1").fetchone()
        return row is not None

    def annotator(self, name: str) -> int:
        """The id of the annotator called ``name`` (added on first use).

        Raises:
            OdioError: the name is empty, too long or holds control characters.
        """
        name = name.strip()
        if not name or len(name) > MAX_NAME or not name.isprintable():
            raise OdioError(f"an annotator's name is 1 to {MAX_NAME} printable characters")
        self.db.execute("INSERT OR IGNORE INTO annotators (name) VALUES (?)", (name,))
        row = self.db.execute("SELECT id FROM annotators WHERE name = ?", (name,)).fetchone()
        return int(row[0])

    def tweet(self, tweet_id: int) -> Tweet:
        """One tweet by its id."""
        row = self.db.execute(
            "SELECT id, text, key, context, probs, current FROM tweets WHERE id = ?", (tweet_id,)
        ).fetchone()
        if row is None:
            raise OdioError(f"no tweet {tweet_id} in {self.path}")
        return Tweet(
            row[0],
            row[1],
            row[2],
            json.loads(row[3]),
            None if row[4] is None else json.loads(row[4]),
            None if row[5] is None else json.loads(row[5]),
        )

    def next_tweet(self, annotator: int, votes: int = 1) -> Tweet | None:
        """The first tweet in the queue this annotator has not answered that has fewer than
        ``votes`` votes (skips do not count), or ``None`` when there is none."""
        row = self.db.execute(
            """SELECT q.tweet FROM queue q
               WHERE NOT EXISTS (SELECT 1 FROM votes v
                                 WHERE v.tweet = q.tweet AND v.annotator = ?)
                 AND (SELECT COUNT(*) FROM votes v
                      WHERE v.tweet = q.tweet AND v.skipped = 0) < ?
               ORDER BY q.position LIMIT 1""",
            (annotator, votes),
        ).fetchone()
        return None if row is None else self.tweet(int(row[0]))

    def vote(
        self, annotator: int, tweet_id: int, labels: Sequence[str], *, skip: bool = False
    ) -> None:
        """Record (and commit) an annotator's answer on a tweet: the labels they marked (none
        is "not hate"), or a skip; a second answer on the same tweet replaces the first.

        Raises:
            OdioError: an unknown label or tweet.
        """
        unknown = [label for label in labels if label not in self.labels]
        if unknown:
            raise OdioError(f"unknown label {unknown[0]!r}; the labels are {self.labels}")
        self.tweet(tweet_id)
        marked = [label for label in self.labels if label in labels and not skip]
        with _transaction(self.db):
            self.db.execute(
                "DELETE FROM votes WHERE tweet = ? AND annotator = ?", (tweet_id, annotator)
            )
            self.db.execute(
                "INSERT INTO votes (tweet, annotator, labels, skipped) VALUES (?, ?, ?, ?)",
                (tweet_id, annotator, json.dumps(marked, ensure_ascii=False), int(skip)),
            )

    def undo(self, annotator: int) -> int | None:
        """Remove the annotator's last answer; the id of its tweet, ``None`` if none."""
        with _transaction(self.db):
            row = self.db.execute(
                "SELECT id, tweet FROM votes WHERE annotator = ? ORDER BY id DESC LIMIT 1",
                (annotator,),
            ).fetchone()
            if row is None:
                return None
            self.db.execute("DELETE FROM votes WHERE id = ?", (row[0],))
        return int(row[1])

    def progress(self, votes: int = 1) -> dict[str, Any]:
        """Tweets in all, tweets with at least one vote and with ``votes`` votes, and the
        answers of every annotator (votes and skips)."""
        counts = dict(
            self.db.execute(
                "SELECT tweet, COUNT(*) FROM votes WHERE skipped = 0 GROUP BY tweet"
            ).fetchall()
        )
        per = self.db.execute(
            """SELECT a.name, COALESCE(SUM(1 - v.skipped), 0), COALESCE(SUM(v.skipped), 0)
               FROM annotators a LEFT JOIN votes v ON v.annotator = a.id
               GROUP BY a.id ORDER BY a.name"""
        ).fetchall()
        return {
            "total": self.size,
            "labelled": len(counts),
            "complete": sum(1 for n in counts.values() if n >= votes),
            "votes_needed": votes,
            "annotators": {name: {"votes": n, "skips": s} for name, n, s in per},
        }

    def votes(self) -> list[tuple[int, str, list[str]]]:
        """Every vote (skips left out) as ``(tweet, annotator name, labels marked)``."""
        rows = self.db.execute(
            """SELECT v.tweet, a.name, v.labels FROM votes v JOIN annotators a
               ON a.id = v.annotator WHERE v.skipped = 0 ORDER BY v.tweet, a.name"""
        ).fetchall()
        return [(int(t), str(name), json.loads(marked)) for t, name, marked in rows]

    def unlabelled(self) -> list[int]:
        """Ids of the tweets with no vote yet, in queue order."""
        rows = self.db.execute(
            """SELECT q.tweet FROM queue q WHERE NOT EXISTS
               (SELECT 1 FROM votes v WHERE v.tweet = q.tweet AND v.skipped = 0)
               ORDER BY q.position"""
        ).fetchall()
        return [int(r[0]) for r in rows]

    def texts(self, ids: Sequence[int] | None = None) -> list[str]:
        """The texts of ``ids`` (every tweet, by id, when ``None``)."""
        if ids is None:
            return [r[0] for r in self.db.execute("SELECT text FROM tweets ORDER BY id")]
        return [self.tweet(i).text for i in ids]

    def reorder(self, first: Sequence[int]) -> None:
        """Serve the tweets of ``first`` in that order, ahead of every other tweet (which keep
        their relative order)."""
        old = [int(r[0]) for r in self.db.execute("SELECT tweet FROM queue ORDER BY position")]
        chosen = list(dict.fromkeys(int(i) for i in first))
        rest = [i for i in old if i not in set(chosen)]
        with _transaction(self.db):
            self.db.execute("DELETE FROM queue")
            self.db.executemany("INSERT INTO queue VALUES (?, ?)", enumerate(chosen + rest))

    def set_model(
        self,
        run: str,
        thresholds: Sequence[float],
        member_probs: np.ndarray,
        ids: Sequence[int] | None = None,
    ) -> None:
        """Keep a model's fold probabilities, ``(members, tweets, labels)``, of the tweets
        ``ids`` (every tweet, by id, when ``None``; the others' are NaN), for ranking; their
        mean is shown on the page."""
        import numpy as np

        ids = list(range(self.size)) if ids is None else [int(i) for i in ids]
        if member_probs.ndim != 3 or member_probs.shape[1:] != (len(ids), len(self.labels)):
            raise OdioError(
                f"model probabilities of shape {member_probs.shape}; expected (members, "
                f"{len(ids)} tweets, {len(self.labels)} labels)"
            )
        full = np.full((len(member_probs), self.size, len(self.labels)), np.nan, np.float32)
        full[:, ids, :] = member_probs
        buffer = io.BytesIO()
        np.save(buffer, full, allow_pickle=False)
        mean = member_probs.mean(axis=0)
        with _transaction(self.db):
            self.db.execute("DELETE FROM model")
            self.db.execute(
                "INSERT INTO model (run, thresholds, probs) VALUES (?, ?, ?)",
                (run, json.dumps([float(t) for t in thresholds]), buffer.getvalue()),
            )
            self.db.executemany(
                "UPDATE tweets SET probs = ? WHERE id = ?",
                [
                    (json.dumps(dict(zip(self.labels, map(float, row), strict=True))), i)
                    for i, row in zip(ids, mean, strict=True)
                ],
            )

    def model(self) -> tuple[str, np.ndarray, np.ndarray] | None:
        """``(run, thresholds, member probabilities)`` of the model kept, if any."""
        row = self.db.execute("SELECT run, thresholds, probs FROM model").fetchone()
        if row is None:
            return None
        import numpy as np

        probs = np.load(io.BytesIO(row[2]), allow_pickle=False)
        return str(row[0]), np.asarray(json.loads(row[1]), dtype=float), probs


class _transaction:
    """``with _transaction(db):`` one ``BEGIN IMMEDIATE`` ... ``COMMIT`` (rolled back on
    an error), on a connection in autocommit mode."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: Any, value: Any, traceback: Any) -> None:
        self.db.execute("ROLLBACK" if kind else "COMMIT")
