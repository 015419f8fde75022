"""Labelled tweets: texts, a 0/1 label matrix and row ids, read from a table as it is shipped.

Labels may be annotator vote counts (binarised at ``min_votes``), 0/1, or text values
mapped with ``positive`` (``sexist`` -> 1, anything else -> 0) or ``label_map``. A label can
be read from a column of another name (``HS=Odio``). Every problem a user can fix raises
:class:`~odio.errors.OdioError` naming the file, the row or the column; rows are numbered
from 0, the first data row. Rows are never lost silently: :class:`LoadReport` counts the
rows read, used and dropped.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from odio.config import DataConfig, SourceConfig
from odio.data.context import contexts_of
from odio.data.labels import positive_rule, read_labels
from odio.data.tables import Table, not_text, read_table, require_columns
from odio.errors import OdioError
from odio.text.context import join_contexts, split_context

log = logging.getLogger(__name__)

ID_COLUMNS = ("id", "tweet_id")
"""Columns taken as row ids when ``id_column`` is not set."""


@dataclass
class LoadReport:
    """How many rows a file had, what happened to them, and how its labels were read."""

    path: str
    rows_read: int
    rows_used: int
    dropped: dict[str, int] = field(default_factory=dict)
    """Reason -> number of rows dropped for it."""
    label_format: str = "votes"
    """How the labels were read: ``votes`` (binarised at ``min_votes``), ``binary`` (0/1)
    or ``text`` (values mapped with ``positive`` or ``label_map``)."""
    min_votes: int | None = None
    """The vote threshold, for ``votes`` only."""
    sha256: str = ""
    """The first 16 hex digits of the file's SHA-256 (what was trained on, for comparisons)."""
    id_column: str | None = None
    """The column of row ids, if any."""
    context: dict[str, Any] | None = None
    """How the conversation context was found (see :class:`odio.data.context.ContextReport`),
    when the run reads one."""

    @property
    def rows_dropped(self) -> int:
        return sum(self.dropped.values())

    def summary(self) -> str:
        """One line for the console.

        >>> LoadReport("train.csv", 10, 9, {"empty text": 1}, "votes", 2).summary()
        'train.csv: 10 rows read, 9 used, 1 dropped (1 empty text); labels: votes >= 2'
        """
        why = ", ".join(f"{n} {reason}" for reason, n in self.dropped.items() if n)
        how = f"votes >= {self.min_votes}" if self.label_format == "votes" else self.label_format
        return (
            f"{self.path}: {self.rows_read} rows read, {self.rows_used} used, "
            f"{self.rows_dropped} dropped" + (f" ({why})" if why else "") + f"; labels: {how}"
        )


@dataclass
class LabelledData:
    """Texts with their 0/1 label matrix, and the table rows they came from.

    Attributes:
        texts: raw tweet texts of the rows kept, each joined with its conversation context
            when the data settings read one (:func:`odio.text.context.join_context`): what
            the models read.
        Y: ``(n, n_labels)`` int8 matrix of 0/1 labels.
        labels: label names, in column order.
        rows: 0-based positions, in the file, of the rows kept.
        ids: the rows' ids (from the id column), or ``None``.
        frame: the kept rows with all their columns.
        report: counts of rows read, used and dropped.
        known: ``(n, n_labels)`` bool, which labels each row has (``None``: all of them;
            an extra training source may lack some, see :func:`load_source`).
    """

    texts: list[str]
    Y: np.ndarray
    labels: list[str]
    rows: np.ndarray
    ids: list[str] | None
    frame: pd.DataFrame
    report: LoadReport
    known: np.ndarray | None = None
    contexts: list[str | None] | None = None
    """Each row's conversation context (``None``: none), when the settings read one."""

    @property
    def tweets(self) -> list[str]:
        """The raw tweet texts, without their context."""
        if self.contexts is None:
            return self.texts
        return [split_context(text)[0] for text in self.texts]


def id_column_of(
    columns: Iterable[Any], given: str | None = None, preferred: str | None = None
) -> str | None:
    """The column of row ids: ``given`` (which the file must have), else ``preferred`` (the
    one a model was trained with) when the file has it, else the first of
    :data:`ID_COLUMNS` it has, else none.

    >>> id_column_of(["id", "text"], preferred="tweet_id"), id_column_of(["text"], None, "id")
    ('id', None)
    """
    if given:
        return given
    names = set(columns)
    return next((c for c in (preferred, *ID_COLUMNS) if c and c in names), None)


def load_labelled(
    path: str | Path | pd.DataFrame,
    config: DataConfig | None = None,
    *,
    training: bool = True,
    preferred_id: str | None = None,
) -> LabelledData:
    """Read texts and labels, make labels 0/1, drop (or reject) rows without text.

    Args:
        path: a CSV, TSV, JSON Lines, JSON or Parquet file, or a data frame (its index
            is not read: rows are numbered by position).
        config: columns, label renames and how labels become 0/1; the Datathon schema by
            default.
        training: when True, a label with no positive row is an error (nothing could be
            learned from it).
        preferred_id: the id column to take when ``config.id_column`` is not set and the
            file has it (a model's training id column); see :func:`id_column_of`.

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "t.tsv")
        >>> _ = open(p, "w").write('id\\ttext\\tHS\\n7\\t"hola"\\tno\\n8\\tchao\\tyes\\n')
        >>> d = load_labelled(p, DataConfig(labels=["HS=Odio"], positive=["yes"]))
        >>> d.texts, d.Y.ravel().tolist(), d.ids, d.labels
        (['"hola"', 'chao'], [0, 1], ['7', '8'], ['Odio'])
    """
    config = config or DataConfig()
    table: Table | None = None
    if isinstance(path, pd.DataFrame):
        frame, name, digest = path.reset_index(drop=True), FRAME_NAME, frame_digest(path)
    else:
        table = Table(path, sep=config.sep, encoding=config.encoding)
        frame, name, digest = read_table(table), table.name, file_digest(path)
    if len(frame) == 0:
        raise OdioError(f"{name} has a header but no rows")
    frame, positions = _where(name, frame, config.where)
    id_column = id_column_of(frame.columns, config.id_column, preferred_id)
    columns = [config.text_column, *config.label_columns]
    require_columns(name, frame, columns + ([id_column] if id_column else []))

    is_text_row = _text_rows(name, frame[config.text_column], config.strict)
    keep = is_text_row
    kept = frame[keep].reset_index(drop=True)
    Y, _, label_format = read_labels(name, kept, config, positions[keep])
    labels = config.label_names
    if training:
        for j, label in enumerate(labels):
            if not Y[:, j].any():
                rule = positive_rule(config, label_format)
                raise OdioError(
                    f"{name}: label {label!r} has no positive row ({rule});"
                    " nothing can be learned from it: drop it with --labels"
                    + (" or lower --min-votes" if label_format == "votes" else "")
                )
    where = ", ".join(f"{k}={v}" for k, v in (config.where or {}).items())
    report = LoadReport(
        path=f"{name} [{where}]" if where else name,
        rows_read=len(frame),
        rows_used=int(keep.sum()),
        dropped=_drop_reasons(frame[config.text_column], keep),
        label_format=label_format,
        min_votes=config.min_votes if label_format == "votes" else None,
        sha256=digest,
        id_column=id_column,
    )
    texts = join_contexts(kept[config.text_column].tolist(), None)  # no mark in a tweet
    contexts = None
    if config.context.enabled:
        found, context_report = contexts_of(
            frame, config.context, name=name, source=table, encoding=config.encoding
        )
        contexts = [found[i] for i in np.flatnonzero(keep)]
        texts = join_contexts(texts, contexts)
        report.context = context_report.as_dict()
        log.info(context_report.summary())
    return LabelledData(
        texts=texts,
        Y=Y,
        labels=labels,
        rows=positions[keep],
        ids=None if id_column is None else kept[id_column].astype(str).tolist(),
        frame=kept,
        report=report,
        contexts=contexts,
    )


def load_source(source: SourceConfig, data: DataConfig) -> LabelledData:
    """Read an extra training file: the run's labels it has, the others (and its empty or
    ``positives_only`` 0 cells) unknown.

    Args:
        source: the file and how to read it (unset settings come from ``data``).
        data: the run's data settings; their ``label_names`` are the labels.

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "extra.csv")
        >>> _ = open(p, "w").write("text,hate,women,set\\na,1,1,m\\nb,0,,m\\nc,1,,h\\n")
        >>> d = load_source(SourceConfig(path=p, labels=["hate=Odio", "women=Mujeres"],
        ...                 where={"set": "m"}), DataConfig(labels=["Odio", "Mujeres"]))
        >>> d.texts, d.Y.tolist(), d.known.tolist()
        (['a', 'b'], [[1, 1], [0, 0]], [[True, True], [True, False]])
    """
    overrides = {
        k: v
        for k, v in source.model_dump().items()
        if v is not None and k in DataConfig.model_fields and k != "labels"
    }
    config = data.model_copy(update={**overrides, "sources": []})
    table = Table(source.path, sep=config.sep, encoding=config.encoding)
    frame = read_table(table)
    name = table.name
    if len(frame) == 0:
        raise OdioError(f"{name}: no rows")
    frame, _ = _where(name, frame, source.where)
    wanted = data.label_names
    if source.labels is None:
        entries = [e for e, c in zip(data.labels, data.label_columns, strict=True) if c in frame]
    else:
        entries = source.labels
    mine = DataConfig(labels=entries) if entries else None
    for label in mine.label_names if mine else []:
        if label not in wanted:
            raise OdioError(
                f"{name}: label {label!r} is not one of the run's labels ({', '.join(wanted)})"
            )
    if mine is None:
        raise OdioError(f"{name} has none of the run's label columns; give its labels")
    require_columns(table, frame, [config.text_column, *mine.label_columns])
    keep = _text_rows(name, frame[config.text_column], config.strict)
    kept = frame[keep].reset_index(drop=True)
    rows = np.flatnonzero(keep)
    sub = config.model_copy(update={"labels": entries})
    values, cells, label_format = read_labels(name, kept, sub, rows, missing=True)
    Y = np.zeros((len(kept), len(wanted)), dtype=np.int8)
    known = np.zeros((len(kept), len(wanted)), dtype=bool)
    for j, label in enumerate(mine.label_names):
        k = wanted.index(label)
        Y[:, k] = values[:, j]
        known[:, k] = cells[:, j] & ((values[:, j] == 1) | (label not in source.positives_only))
    where = ", ".join(f"{k}={v}" for k, v in (source.where or {}).items())
    report = LoadReport(
        path=f"{name} [{where}]" if where else name,
        rows_read=len(frame),
        rows_used=int(keep.sum()),
        dropped=_drop_reasons(frame[config.text_column], keep),
        label_format=label_format,
        min_votes=config.min_votes if label_format == "votes" else None,
        sha256=file_digest(source.path),
    )
    return LabelledData(
        texts=join_contexts(kept[config.text_column].tolist(), None),
        Y=Y,
        labels=wanted,
        rows=rows,
        ids=None,
        frame=kept,
        report=report,
        known=known,
    )


FRAME_NAME = "the data frame"
"""How messages name a data frame given instead of a file."""


def frame_digest(frame: pd.DataFrame) -> str:
    """The first 16 hex digits of a SHA-256 of a frame's columns and values.

    >>> frame_digest(pd.DataFrame({"text": ["a"]})) == frame_digest(pd.DataFrame({"text": ["a"]}))
    True
    """
    digest = hashlib.sha256("\x1f".join(map(str, frame.columns)).encode())
    values = pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy()
    digest.update(values.tobytes())
    return digest.hexdigest()[:16]


def file_digest(path: str | Path) -> str:
    """The first 16 hex digits of a file's SHA-256 (empty for standard input)."""
    if str(path) == "-":
        return ""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def _text_rows(name: str, texts: pd.Series, strict: bool) -> np.ndarray:
    """Which rows hold a text; the others are named in a warning (or an error when
    ``strict``): those with an empty text, and those whose text is a list, a number..."""
    why = texts.map(not_text)
    for kind in dict.fromkeys(why.dropna()):
        bad = np.flatnonzero((why == kind).to_numpy())
        what = "with an empty text" if kind == "empty" else f"whose text is {kind}, not text"
        if strict:
            have = "have an empty text" if kind == "empty" else what
            raise OdioError(
                f"{name}: {len(bad)} rows {have} (rows {_some(bad)}); "
                "fix them or run without --strict to drop them"
            )
        log.warning("%s: dropped %d rows %s (rows %s)", name, len(bad), what, _some(bad))
    return why.isna().to_numpy()


def _drop_reasons(texts: pd.Series, keep: np.ndarray) -> dict[str, int]:
    """Reason -> rows dropped: ``empty text`` (always listed), ``text is a list``..."""
    reasons = {"empty text": 0}
    for kind in texts[~keep].map(not_text):
        reason = "empty text" if kind == "empty" else f"text is {kind}"
        reasons[reason] = reasons.get(reason, 0) + 1
    return reasons


def _some(rows: np.ndarray, limit: int = 5) -> str:
    shown = ", ".join(str(int(r)) for r in rows[:limit])
    return shown + (f", ... ({len(rows)} in all)" if len(rows) > limit else "")


def _where(
    name: str, frame: pd.DataFrame, where: dict[str, str] | None
) -> tuple[pd.DataFrame, np.ndarray]:
    """The rows whose columns hold ``where``'s values (renumbered from 0), and their
    positions in the file."""
    mask = np.ones(len(frame), dtype=bool)
    for column, value in (where or {}).items():
        require_columns(name, frame, [column])
        mask &= (frame[column].astype(str) == str(value)).to_numpy()
    if not mask.any():
        raise OdioError(f"{name}: no rows where {where}")
    return frame[mask].reset_index(drop=True), np.flatnonzero(mask)
