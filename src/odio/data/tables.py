"""Reading tables of tweets: CSV/TSV, JSON Lines and Parquet, whole or in chunks.

Every problem a user can fix (missing file or column, bad encoding, malformed file) raises
:class:`~odio.errors.OdioError` naming the file and, where it can, the line or column.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from odio.errors import OdioError

CSV_SUFFIXES = (".csv", ".tsv")
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
PARQUET_SUFFIXES = (".parquet", ".pq")


def is_text(value: Any) -> bool:
    """Whether a cell holds a tweet: a string with something besides whitespace.

    >>> [is_text(v) for v in ("hola", "  ", None, float("nan"), 3)]
    [True, False, False, False, False]
    """
    return isinstance(value, str) and bool(value.strip())


def file_format(path: str | Path) -> str:
    """``csv``, ``jsonl`` or ``parquet``, from the file name.

    >>> file_format("tweets.jsonl")
    'jsonl'
    """
    suffix = Path(path).suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    raise OdioError(
        f"{path}: unknown file type {suffix or '(no suffix)'!r}; "
        "use .csv, .tsv, .jsonl/.ndjson or .parquet"
    )


def iter_table(
    path: str | Path,
    *,
    chunksize: int | None = None,
    encoding: str = "utf-8",
    as_text: bool = False,
) -> Iterator[pd.DataFrame]:
    """Yield a table file as DataFrames of at most ``chunksize`` rows (one if ``None``).

    A leading unnamed index column (what ``DataFrame.to_csv`` writes) is kept, named ``""``.
    With ``as_text`` CSV cells are read verbatim as strings, so ids and empty cells survive
    a round trip unchanged.

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "t.csv")
        >>> _ = open(p, "w").write("text,Odio\\nhola,0\\n")
        >>> next(iter_table(p)).shape
        (1, 2)
    """
    path = Path(path)
    fmt = file_format(path)
    if not path.exists():
        raise OdioError(f"file not found: {path}")
    if path.is_dir():
        raise OdioError(f"{path} is a directory, not a data file")
    if path.stat().st_size == 0:
        raise OdioError(f"{path} is empty")
    try:
        if fmt == "csv":
            chunks = pd.read_csv(
                path,
                sep="\t" if path.suffix.lower() == ".tsv" else ",",
                encoding=encoding,
                chunksize=chunksize,
                dtype=str if as_text else None,
                keep_default_na=not as_text,
            )
            yield from (_name_index(c) for c in _as_iter(chunks))
        elif fmt == "jsonl":
            reader = pd.read_json(
                path, lines=True, chunksize=chunksize, encoding=encoding, dtype=False
            )
            yield from _as_iter(reader)
        else:
            import pyarrow.parquet as pq

            parquet = pq.ParquetFile(path)
            for batch in parquet.iter_batches(batch_size=chunksize or 1 << 30):
                yield batch.to_pandas()
    except UnicodeDecodeError:
        raise OdioError(_decode_error(path, encoding)) from None
    except pd.errors.EmptyDataError:
        raise OdioError(f"{path} is empty") from None
    except pd.errors.ParserError as exc:
        raise OdioError(f"{path}: not valid CSV ({_first_line(exc)})") from None
    except ValueError as exc:
        if fmt == "jsonl":
            raise OdioError(f"{path}: not valid JSON Lines ({_first_line(exc)})") from None
        raise
    except OSError as exc:
        if fmt == "parquet":
            raise OdioError(f"{path}: not a readable Parquet file ({_first_line(exc)})") from None
        raise


def read_table(path: str | Path, *, encoding: str = "utf-8") -> pd.DataFrame:
    """Read a whole table file, dropping a leading unnamed index column.

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "t.csv")
        >>> _ = open(p, "w").write(",text,Odio\\n0,hola,0\\n")
        >>> list(read_table(p).columns)
        ['text', 'Odio']
    """
    frames = list(iter_table(path, encoding=encoding))
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if len(frame.columns) and frame.columns[0] == "":
        frame = frame.drop(columns=[""])
    return frame.reset_index(drop=True)


def require_columns(path: str | Path, frame: pd.DataFrame, columns: list[str]) -> None:
    """Raise an error naming the missing columns and the ones the file has."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        what = "column" if len(missing) == 1 else "columns"
        have = ", ".join(repr(c) for c in frame.columns if c != "")
        raise OdioError(
            f"{path}: {what} {', '.join(map(repr, missing))} not found; the file has: {have}"
        )


def _name_index(frame: pd.DataFrame) -> pd.DataFrame:
    first = frame.columns[0] if len(frame.columns) else None
    if isinstance(first, str) and first.startswith("Unnamed: 0"):
        frame = frame.rename(columns={first: ""})
    return frame


def _as_iter(chunks: Any) -> Iterator[pd.DataFrame]:
    """The frames of a pandas reader (a context manager) or the one frame read whole."""
    if isinstance(chunks, pd.DataFrame):
        yield chunks
    else:
        with chunks:
            yield from chunks


def _decode_error(path: Path, encoding: str) -> str:
    data = path.read_bytes()
    try:
        data.decode(encoding)
        where = ""
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        where = f" at byte {exc.start} (line {line})"
    return (
        f"{path}: cannot decode as {encoding}{where}; re-save the file as UTF-8 "
        "or pass its encoding with --encoding (e.g. latin-1)"
    )


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
