"""Conversation context: the tweets a tweet replies to or quotes, joined to it from a file.

The Datathon ships them as ``referenced_tweets_data.csv`` (keyed by ``tweet_id``), and its
train and test files name, in ``conversation_id``, the ids each tweet refers to as a tuple
string: ``(1079883904318930944, 1079878275118350336)``, ``(1540796165968433152,)`` or
``()``. :func:`parse_references` reads that, a plain id, or a JSON list; ids are compared as
text (19-digit ids do not survive a float). A row's references are looked up in order and
their texts joined with ``separator``; a reference not in the file is counted, named in one
warning and recorded in the :class:`ContextReport`, never an error. A context can also be
given as text in a column of the data itself (``column``).

The context then travels with its tweet as one text (:mod:`odio.text.context`).

Example:
    >>> parse_references("(1079883904318930944, 1079878275118350336)")
    ['1079883904318930944', '1079878275118350336']
    >>> lookup = {"1": "llegan migrantes", "2": "al norte"}
    >>> contexts, report = join_references(["(1, 2)", "()", "(3,)"], lookup, " | ")
    >>> contexts, report.missing
    (['llegan migrantes | al norte', None, None], 1)
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from odio.config import ContextConfig
from odio.data.tables import Table, is_text, iter_table, read_table, require_columns
from odio.errors import OdioError

log = logging.getLogger(__name__)

__all__ = [
    "ContextReport",
    "contexts_of",
    "join_references",
    "parse_references",
    "read_context_file",
]

_INTEGER_FLOAT = re.compile(r"[+-]?\d+\.0+")
EXACT_FLOAT = 2**53
"""Integers above this lose digits as floats: a 19-digit id read as a number is not an id."""


@dataclass
class ContextReport:
    """How the context of a table's rows was found."""

    source: str
    """The context file, or ``column NAME`` for a context column."""
    rows: int = 0
    """Rows of the table."""
    rows_with_references: int = 0
    """Rows that name at least one referenced tweet (file) or have a context cell (column)."""
    rows_with_context: int = 0
    """Rows that got a context."""
    references: int = 0
    """References named, in all."""
    missing: int = 0
    """References not found in the context file (left out of their row's context)."""

    def summary(self) -> str:
        """One line for the console.

        >>> ContextReport("refs.csv", 10, 4, 3, 5, 1).summary()
        'context from refs.csv: 3 of 10 rows have context; 1 of 5 references not found'
        """
        line = (
            f"context from {self.source}: {self.rows_with_context} of {self.rows} rows have context"
        )
        if self.references:
            line += f"; {self.missing} of {self.references} references not found"
        return line

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``metrics.json``."""
        return asdict(self)


def parse_references(cell: Any) -> list[str]:
    """The ids a cell refers to, in order: a tuple string ``(a, b)`` or ``(a,)``, a list
    ``[a, b]`` (text or JSON), a plain id, or nothing (empty, ``()``, missing).

    >>> parse_references("(1540796165968433152,)"), parse_references("()")
    (['1540796165968433152'], [])
    >>> parse_references(1540796165968433152), parse_references("12.0"), parse_references(None)
    (['1540796165968433152'], ['12'], [])
    """
    if isinstance(cell, list | tuple | np.ndarray):
        return [r for item in cell for r in parse_references(item)]
    if cell is None or cell is pd.NA or isinstance(cell, bool | np.bool_):
        return []
    if isinstance(cell, float | np.floating):
        if cell != cell or not float(cell).is_integer():
            return []
        if abs(float(cell)) > EXACT_FLOAT:
            raise OdioError(
                f"reference id {cell!r} was read as a number and lost digits; "
                "store ids as text (quoted) or read the file as CSV"
            )
        return [str(int(cell))]
    if isinstance(cell, int | np.integer):
        return [str(int(cell))]
    text = str(cell).strip().strip("()[]")
    ids = [part.strip().strip("'\"").strip() for part in text.split(",")]
    return [_as_id(i) for i in ids if i]


def _as_id(text: str) -> str:
    """``12.0`` (an id written from a float column) -> ``12``; other text as it is."""
    return text.split(".")[0] if _INTEGER_FLOAT.fullmatch(text) else text


def read_context_file(config: ContextConfig, encoding: str = "utf-8") -> dict[str, str]:
    """Id -> text of the context file (``config.path``), every cell read as text.

    Raises:
        OdioError: the file cannot be read, or lacks the id or the text column.
    """
    if not config.path:
        raise ValueError("no context file is set")
    table = Table(config.path, encoding=encoding)
    frame = _as_text(table)
    require_columns(table, frame, [config.id_column, config.text_column])
    lookup: dict[str, str] = {}
    for key, text in zip(frame[config.id_column], frame[config.text_column], strict=True):
        ids = parse_references(key)
        if len(ids) == 1 and is_text(text):
            lookup.setdefault(ids[0], str(text))
    return lookup


def join_references(
    cells: Sequence[Any],
    lookup: Mapping[str, str],
    separator: str,
    source: str = "the context file",
) -> tuple[list[str | None], ContextReport]:
    """Each row's context: the texts of the ids its cell names, in order, joined with
    ``separator`` (``None`` where none is found), and the report of what was found."""
    report = ContextReport(source=source, rows=len(cells))
    out: list[str | None] = []
    for cell in cells:
        ids = parse_references(cell)
        texts = [lookup[i] for i in ids if i in lookup]
        report.references += len(ids)
        report.missing += len(ids) - len(texts)
        report.rows_with_references += bool(ids)
        report.rows_with_context += bool(texts)
        out.append(separator.join(texts) if texts else None)
    return out, report


def contexts_of(
    frame: pd.DataFrame,
    config: ContextConfig,
    *,
    name: str,
    source: Table | str | Path | None = None,
    encoding: str = "utf-8",
    lookup: Mapping[str, str] | None = None,
) -> tuple[list[str | None], ContextReport]:
    """The context of every row of ``frame`` (``None``: none) as ``config`` says: the
    referenced tweets of ``config.ref_column`` looked up in the context file (or
    ``lookup``, that file already read), or the text of ``config.column``. Missing
    references are named in one warning.

    Args:
        frame: the table's rows.
        config: where the context is.
        name: how messages name the table.
        source: the table's file: a CSV or TSV is read again with every cell as text, so
            that ids read as numbers keep their digits.
        encoding: the encoding of the files.
        lookup: the context file as :func:`read_context_file` returns it.
    """
    if config.column:
        require_columns(name, frame, [config.column])
        cells = [str(c) if is_text(c) else None for c in frame[config.column]]
        report = ContextReport(source=f"column {config.column}", rows=len(cells))
        report.rows_with_references = report.rows_with_context = sum(c is not None for c in cells)
        return cells, report
    require_columns(name, frame, [config.ref_column])
    column = frame[config.ref_column]
    if source is not None and len(frame) and _rereadable(source):
        column = _as_text(source)[config.ref_column]
        if len(column) != len(frame):
            raise ValueError(f"{name}: read again as text, it has {len(column)} rows")
    if lookup is None:
        lookup = read_context_file(config, encoding)
    contexts, report = join_references(list(column), lookup, config.separator, str(config.path))
    if report.missing:
        log.warning(
            "%s: %d of %d references in %r are not in %s (left out of their rows' context)",
            name,
            report.missing,
            report.references,
            config.ref_column,
            config.path,
        )
    return contexts, report


def _rereadable(source: Table | str | Path) -> bool:
    table = source if isinstance(source, Table) else Table(source)
    return not table.is_stdin and table.kind in ("csv", "tsv")


def _as_text(source: Table | str | Path) -> pd.DataFrame:
    """A table with CSV and TSV cells read as text (other formats keep their JSON or
    Parquet types), without its leading unnamed index column."""
    table = source if isinstance(source, Table) else Table(source)
    if table.kind not in ("csv", "tsv") or table.is_stdin:
        return read_table(table)
    frames = list(iter_table(table, as_text=True))
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if len(frame.columns) and frame.columns[0] == "":
        frame = frame.drop(columns=[""])
    return frame.reset_index(drop=True)
