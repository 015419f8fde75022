"""Labelled tweets: texts and a 0/1 label matrix read from a table, with errors a user can act on.

Every problem a user can fix (missing file or column, bad label value, bad encoding) raises
:class:`~odio.errors.OdioError` naming the file, the row or the column. Rows are never lost
silently: :class:`LoadReport` counts the rows read, used and dropped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from odio.config import DataConfig
from odio.data.tables import is_text, read_table, require_columns
from odio.errors import OdioError

log = logging.getLogger(__name__)


@dataclass
class LoadReport:
    """How many rows a file had and what happened to them."""

    path: str
    rows_read: int
    rows_used: int
    dropped: dict[str, int] = field(default_factory=dict)
    """Reason -> number of rows dropped for it."""
    label_format: str = "votes"
    """How the labels were read: ``votes`` (binarised at ``min_votes``) or ``binary``."""

    @property
    def rows_dropped(self) -> int:
        return sum(self.dropped.values())

    def summary(self) -> str:
        """One line for the console, e.g. ``train.csv: 2256 rows read, 2256 used, 0 dropped``."""
        why = ", ".join(f"{n} {reason}" for reason, n in self.dropped.items() if n)
        return (
            f"{self.path}: {self.rows_read} rows read, {self.rows_used} used, "
            f"{self.rows_dropped} dropped" + (f" ({why})" if why else "")
        )


@dataclass
class LabelledData:
    """Texts with their 0/1 label matrix, and the table rows they came from.

    Attributes:
        texts: raw tweet texts of the rows kept.
        Y: ``(n, n_labels)`` int8 matrix of 0/1 labels.
        labels: label names, in column order.
        rows: 1-based data-row numbers in the file of the rows kept.
        frame: the kept rows with all their columns (ids, metadata).
        report: counts of rows read, used and dropped.
    """

    texts: list[str]
    Y: np.ndarray
    labels: list[str]
    rows: np.ndarray
    frame: pd.DataFrame
    report: LoadReport


def load_labelled(
    path: str | Path, config: DataConfig | None = None, *, training: bool = True
) -> LabelledData:
    """Read texts and labels, binarise votes, drop (or reject) rows without text.

    Args:
        path: a CSV, JSONL or Parquet file.
        config: column names and vote threshold; the Datathon schema by default.
        training: when True, a label column with no positive row is an error (nothing
            could be learned from it).

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "t.csv")
        >>> _ = open(p, "w").write("text,Odio\\nhola,0\\nchao,3\\n,2\\n")
        >>> d = load_labelled(p, DataConfig(labels=["Odio"]))
        >>> d.Y.ravel().tolist(), d.report.rows_dropped
        ([0, 1], 1)
    """
    config = config or DataConfig()
    frame = read_table(path, encoding=config.encoding)
    rows_read = len(frame)
    if rows_read == 0:
        raise OdioError(f"{path} has a header but no rows")
    require_columns(path, frame, [config.text_column, *config.labels])

    texts = frame[config.text_column]
    is_text_row = texts.map(is_text)
    if not is_text_row.all():
        bad = np.flatnonzero(~is_text_row.to_numpy()) + 1
        if config.strict:
            raise OdioError(
                f"{path}: {len(bad)} rows have an empty text (rows {_some(bad)}); "
                "fix them or run without --strict to drop them"
            )
        log.warning("%s: dropped %d rows with an empty text (rows %s)", path, len(bad), _some(bad))

    votes = np.column_stack([_numeric_labels(path, frame, col) for col in config.labels])
    label_format = config.label_format
    if label_format == "auto":
        label_format = "binary" if np.isin(votes, (0, 1)).all() else "votes"
    if label_format == "binary":
        outside = ~np.isin(votes, (0, 1))
        if outside.any():
            r, c = np.argwhere(outside)[0]
            raise OdioError(
                f"{path}: label column {config.labels[c]!r} row {r + 1} holds {votes[r, c]:g}, "
                "but label_format is 'binary' (0/1)"
            )
        Y = votes.astype(np.int8)
    else:
        Y = (votes >= config.min_votes).astype(np.int8)

    keep = is_text_row.to_numpy()
    Y = Y[keep]
    if training:
        for j, label in enumerate(config.labels):
            if not Y[:, j].any():
                rule = "0/1" if label_format == "binary" else f"min_votes={config.min_votes}"
                raise OdioError(
                    f"{path}: label column {label!r} has no positive row ({rule}); "
                    "nothing can be learned from it: drop it with --labels or lower --min-votes"
                )
    kept = frame[keep].reset_index(drop=True)
    report = LoadReport(
        path=str(path),
        rows_read=rows_read,
        rows_used=int(keep.sum()),
        dropped={"empty text": int((~keep).sum())},
        label_format=label_format,
    )
    return LabelledData(
        texts=kept[config.text_column].tolist(),
        Y=Y,
        labels=list(config.labels),
        rows=np.flatnonzero(keep) + 1,
        frame=kept,
        report=report,
    )


def _numeric_labels(path: str | Path, frame: pd.DataFrame, column: str) -> np.ndarray:
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        shown = raw.iloc[row]
        what = "an empty value" if pd.isna(shown) else f"non-numeric value {shown!r}"
        raise OdioError(
            f"{path}: label column {column!r} row {row + 1} has {what}; "
            "labels must be vote counts (0..N) or 0/1"
        )
    numbers = values.to_numpy(dtype=float)
    if (numbers < 0).any():
        row = int(np.flatnonzero(numbers < 0)[0])
        raise OdioError(f"{path}: label column {column!r} row {row + 1} is negative")
    return numbers


def _some(rows: np.ndarray, limit: int = 5) -> str:
    shown = ", ".join(str(int(r)) for r in rows[:limit])
    return shown + (f", ... ({len(rows)} in all)" if len(rows) > limit else "")
