"""Label columns as a 0/1 matrix: vote counts binarised at ``min_votes``, 0/1, or text values
mapped with ``positive`` or ``label_map``; every value a user could get wrong is one
:class:`~odio.errors.OdioError` naming the file, the column and the row.

>>> import pandas as pd
>>> from odio.config import DataConfig
>>> frame = pd.DataFrame({"Odio": [0, 2, 3]})
>>> Y, known, how = read_labels("t.csv", frame, DataConfig(labels=["Odio"]), np.arange(3))
>>> Y.ravel().tolist(), how
([0, 1, 1], 'votes')
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from odio.config import DataConfig
from odio.errors import OdioError

MAX_VOTES = 1000
"""Vote counts above this are taken for a mistake (an id column given as a label?)."""


def read_labels(
    name: str, frame: pd.DataFrame, config: DataConfig, rows: np.ndarray, *, missing: bool = False
) -> tuple[np.ndarray, np.ndarray, str]:
    """The ``(n, n_labels)`` 0/1 matrix, which of its cells are known, and how the labels
    were read (votes, binary or text). With ``missing``, an empty cell is unknown rather
    than an error."""
    columns = config.label_columns
    if config.positive is not None or config.label_map is not None:
        cells = [_mapped(name, frame[c], c, config, rows, missing) for c in columns]
        known = np.column_stack([~np.isnan(c) for c in cells])
        return np.nan_to_num(np.column_stack(cells)).astype(np.int8), known, "text"
    values = np.column_stack([_numeric(name, frame[c], c, rows, missing) for c in columns])
    known = ~np.isnan(values)
    label_format = config.label_format
    if label_format == "auto":
        label_format = "binary" if np.isin(values[known], (0, 1)).all() else "votes"
    values = np.where(known, values, 0)
    if label_format == "binary":
        outside = ~np.isin(values, (0, 1))
        if outside.any():
            r, c = np.argwhere(outside)[0]
            raise OdioError(
                f"{name}: label column {columns[c]!r} row {rows[r]} holds {values[r, c]:g}, "
                "but the labels are read as binary (0/1): use --label-format votes"
            )
        return values.astype(np.int8), known, label_format
    fractional = values != np.round(values)
    if fractional.any() or (values > MAX_VOTES).any():
        r, c = np.argwhere(fractional | (values > MAX_VOTES))[0]
        raise OdioError(
            f"{name}: label column {columns[c]!r} row {rows[r]} holds {values[r, c]:g}, "
            f"which is not a vote count (a whole number from 0 to {MAX_VOTES})"
        )
    return (values >= config.min_votes).astype(np.int8), known, label_format


def _numeric(name: str, raw: pd.Series, column: str, rows: np.ndarray, missing: bool) -> np.ndarray:
    """Numeric label values; ``nan`` for empty cells when ``missing`` allows them."""
    scalars = pd.Series([v if np.isscalar(v) else None for v in raw], dtype=object)
    values = pd.to_numeric(scalars, errors="coerce")
    empty = np.array([_missing(v) for v in raw], dtype=bool)
    bad = (values.isna() | ~np.isfinite(values.fillna(0))).to_numpy() & ~(empty & missing)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        shown = raw.iloc[i]
        what = "an empty value" if _missing(shown) else f"the value {shown!r}"
        distinct = raw.dropna().astype(str).unique()
        hint = (
            f"; for text labels give the positive value with --positive (values seen: "
            f"{', '.join(map(repr, distinct[:5]))})"
            if isinstance(shown, str) and not shown.strip().lstrip("-").replace(".", "").isdigit()
            else ""
        )
        raise OdioError(
            f"{name}: label column {column!r} row {rows[i]} has {what}; labels must be "
            f"vote counts (0..N) or 0/1{hint}"
        )
    numbers = values.to_numpy(dtype=float)
    if (numbers < 0).any():
        raise OdioError(
            f"{name}: label column {column!r} row {rows[np.flatnonzero(numbers < 0)[0]]} "
            "is negative"
        )
    return numbers


def _mapped(
    name: str, raw: pd.Series, column: str, config: DataConfig, rows: np.ndarray, missing: bool
) -> np.ndarray:
    """Text label values as 0/1 (``nan`` where empty and ``missing`` allows it), through
    ``positive`` or ``label_map``."""
    text = pd.Series([None if _missing(v) else str(v).strip() for v in raw], dtype=object)
    empty = text.isna().to_numpy()
    if empty.any() and not missing:
        raise OdioError(
            f"{name}: label column {column!r} row {rows[int(np.flatnonzero(empty)[0])]} "
            "has an empty value"
        )
    seen = set(text.dropna())
    if config.positive is not None:
        absent = [v for v in config.positive if v not in seen]
        if absent:
            raise OdioError(
                f"{name}: label column {column!r} never holds {absent[0]!r} (--positive); "
                f"its values: {', '.join(map(repr, sorted(seen)[:8]))}"
            )
        values = text.isin(config.positive).to_numpy().astype(float)
    else:
        mapping = config.label_map or {}
        unknown = sorted(seen - set(mapping))
        if unknown:
            raise OdioError(
                f"{name}: label column {column!r} holds {unknown[0]!r}, which label_map does "
                f"not map (it maps {', '.join(map(repr, mapping))})"
            )
        values = text.map(mapping).to_numpy(dtype=float)
    return np.where(empty, np.nan, values)


def _missing(value: Any) -> bool:
    """An empty cell (NaN, None); lists and other objects are values, not missing."""
    return value is None or (isinstance(value, float) and np.isnan(value))


def positive_rule(config: DataConfig, label_format: str) -> str:
    """How labels in ``label_format`` become positive, for messages.

    >>> positive_rule(DataConfig(), "votes")
    'min_votes=2'
    """
    if label_format == "votes":
        return f"min_votes={config.min_votes}"
    if label_format == "text":
        return "positive=" + ",".join(config.positive or []) if config.positive else "label_map"
    return "0/1"
