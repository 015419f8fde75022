"""Reading tables of tweets as their authors ship them: CSV, TSV, JSON Lines, JSON arrays,
Parquet, from a file or from standard input (``-``), whole or in chunks.

- The delimiter comes from ``sep``, else the name (``.tsv``, ``.tab``), else the header
  line (the most frequent of ``,``, tab, ``;`` and ``|``).
- Tab-separated files are read with quotes kept as the file has them: in TSV a ``"`` is
  part of the text, not a field delimiter. A line that does not split into the header's
  number of fields is read again with quotes (a quoted field holding a tab or a line break,
  as the EXIST 2021 files have); if that does not fit either, the error names the line.
- A delimiter of several characters (``;;``) is taken as written.
- A lone UTF-16 surrogate in JSON text (``"\\ud83d"``, a tweet cut inside an emoji) becomes
  U+FFFD, as the server reads it, with a warning.
- ``.json`` holds either JSON Lines or one array of objects (told by its first character).
- A leading unnamed index column (what ``DataFrame.to_csv`` writes) is kept, named ``""``.

Every problem a user can fix (missing file, unknown encoding, bad bytes, malformed line,
repeated column) raises :class:`~odio.errors.OdioError` naming the file and, where it can,
the line or column.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import logging
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

from odio.data.jsonfiles import read_json
from odio.data.literal import LiteralLines
from odio.errors import OdioError

log = logging.getLogger(__name__)

STDIN = "-"
"""The file name that means standard input (and standard output for ``odio predict -o``)."""
SUFFIXES = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
}
"""File name endings and the format each means (``json``: JSON Lines or an array)."""
FORMATS = ("csv", "tsv", "jsonl", "json", "parquet")
SEPARATORS = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
"""Names a ``--sep`` may be given by, besides the character itself."""


def not_text(value: Any) -> str | None:
    """Why a cell is not a tweet (``empty``, ``a list``, ``a number``...), ``None`` if it is one.

    >>> [not_text(v) for v in ("hola", "  ", None, 3, ["a"], {"a": 1})]
    [None, 'empty', 'empty', 'a number', 'a list', 'an object']
    """
    if isinstance(value, str):
        return None if value.strip() else "empty"
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return "empty"
    if isinstance(value, list | tuple | np.ndarray):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, bool | np.bool_):
        return "a boolean"
    if isinstance(value, int | float | np.number):
        return "a number"
    return f"a {type(value).__name__}"


def is_text(value: Any) -> bool:
    """Whether a cell holds a tweet: a string with something besides whitespace.

    >>> [is_text(v) for v in ("hola", "  ", None, float("nan"), 3, ["a"])]
    [True, False, False, False, False, False]
    """
    return isinstance(value, str) and bool(value.strip())


@dataclass(frozen=True)
class Table:
    """Where a table is and how to read it.

    Args:
        path: the file, or ``-`` for standard input.
        format: ``csv``, ``tsv``, ``jsonl``, ``json`` or ``parquet`` (``None``: from the
            name; standard input is CSV unless given).
        sep: the delimiter of a CSV (``None``: from the name or the header line).
        encoding: the text encoding of CSV, TSV and JSON.

    Example:
        >>> Table("tweets.tsv").kind, repr(Table("tweets.tsv").separator())
        ('tsv', "'\\\\t'")
    """

    path: str | Path
    format: str | None = None
    sep: str | None = None
    encoding: str = "utf-8"

    @property
    def name(self) -> str:
        """How to name the table in messages."""
        return "standard input" if self.is_stdin else str(self.path)

    @property
    def is_stdin(self) -> bool:
        return str(self.path) == STDIN

    @property
    def kind(self) -> str:
        """The format: given, from the name, CSV for standard input."""
        if self.format:
            if self.format not in FORMATS:
                raise OdioError(f"format must be one of {', '.join(FORMATS)}, got {self.format!r}")
            return self.format
        if self.is_stdin:
            return "tsv" if self.sep in ("\t", "tab", "\\t") else "csv"
        return format_of(self.path)

    def separator(self, header: str = "") -> str:
        """The delimiter of a CSV or TSV, guessed from its ``header`` line when not known."""
        if self.sep:
            return SEPARATORS.get(self.sep.lower(), self.sep)
        if self.kind == "tsv":
            return "\t"
        counts = Counter(ch for ch in _unquoted(header) if ch in ",\t;|")
        return counts.most_common(1)[0][0] if counts else ","


def format_of(path: str | Path) -> str:
    """The format a file name means.

    >>> format_of("tweets.jsonl"), format_of("x.TSV")
    ('jsonl', 'tsv')
    """
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise OdioError(
            f"{path}: unknown file type {suffix or '(no suffix)'!r}; use .csv, .tsv, "
            ".jsonl/.ndjson, .json or .parquet (or give the format)"
        )
    return SUFFIXES[suffix]


def iter_table(
    table: Table | str | Path,
    *,
    chunksize: int | None = None,
    as_text: bool = False,
) -> Iterator[pd.DataFrame]:
    """Yield a table as DataFrames of at most ``chunksize`` rows (one if ``None``).

    With ``as_text`` CSV and TSV cells are read verbatim as strings, so ids and empty
    cells survive a round trip unchanged.

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "t.csv")
        >>> _ = open(p, "w").write("text;Odio\\nhola;0\\n")
        >>> next(iter_table(p)).columns.tolist()
        ['text', 'Odio']
    """
    table = table if isinstance(table, Table) else Table(table)
    if chunksize is not None and chunksize < 1:
        raise OdioError(f"chunk size must be at least 1 row, got {chunksize}")
    kind = table.kind
    try:
        codecs.lookup(table.encoding)
    except LookupError:
        raise OdioError(f"unknown encoding {table.encoding!r} (e.g. utf-8, latin-1)") from None
    if not table.is_stdin:
        path = Path(table.path)
        if not path.exists():
            raise OdioError(f"file not found: {path}")
        if path.is_dir():
            raise OdioError(f"{path} is a directory, not a data file")
        if path.stat().st_size == 0:
            raise OdioError(f"{path} is empty")
    try:
        if kind in ("csv", "tsv"):
            yield from _read_delimited(table, chunksize, as_text)
        elif kind in ("jsonl", "json"):
            yield from _read_json(table, chunksize)
        else:
            yield from _read_parquet(table, chunksize)
    except UnicodeDecodeError as exc:
        raise OdioError(_decode_error(table, exc)) from None


def read_table(table: Table | str | Path) -> pd.DataFrame:
    """Read a whole table, dropping a leading unnamed index column.

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "t.csv")
        >>> _ = open(p, "w").write(",text,Odio\\n0,hola,0\\n")
        >>> list(read_table(p).columns)
        ['text', 'Odio']
    """
    frames = list(iter_table(table))
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if len(frame.columns) and frame.columns[0] == "":
        frame = frame.drop(columns=[""])
    return frame.reset_index(drop=True)


def require_columns(table: Table | str | Path, frame: pd.DataFrame, columns: list[str]) -> None:
    """Raise an error naming the missing columns and the ones the file has."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        name = table.name if isinstance(table, Table) else str(table)
        what = "column" if len(missing) == 1 else "columns"
        have = ", ".join(repr(c) for c in frame.columns if c != "")
        raise OdioError(
            f"{name}: {what} {', '.join(map(repr, missing))} not found; the file has: {have}"
        )


def header_names(name: str, header: str, sep: str) -> list[str]:
    """The column names of a delimited file's header line, as the readers split it: a tab
    or a delimiter of several characters as written, one character as CSV; a delimiter
    that could not work and a repeated name are one line each.

    >>> header_names("t.csv", "id;;text;;Odio\\n", ";;")
    ['id', 'text', 'Odio']
    """
    if not sep or any(ch in sep for ch in '"\r\n'):
        raise OdioError(f"the delimiter cannot be empty or hold a quote or a line break: {sep!r}")
    line = header.rstrip("\r\n")
    names = (
        line.split(sep)
        if sep == "\t" or len(sep) > 1
        else next(csv.reader([line], delimiter=sep, quoting=csv.QUOTE_MINIMAL))
    )
    repeated = sorted({n for n in names if names.count(n) > 1 and n})
    if repeated:
        raise OdioError(f"{name}: column {repeated[0]!r} appears more than once in the header")
    return names


def _text_stream(table: Table) -> TextIO:
    if table.is_stdin:
        return io.TextIOWrapper(sys.stdin.buffer, encoding=table.encoding, newline="")
    return open(table.path, encoding=table.encoding, newline="")  # noqa: SIM115 - closed by caller


def _read_delimited(table: Table, chunksize: int | None, as_text: bool) -> Iterator[pd.DataFrame]:
    stream = _text_stream(table)
    try:
        header = stream.readline()
        if not header.strip():
            raise OdioError(f"{table.name} is empty")
        sep = table.separator(header)
        names = header_names(table.name, header, sep)
        lines = itertools.chain([header], stream)
        options: dict[str, Any] = {"sep": sep, "quoting": csv.QUOTE_MINIMAL}
        literal = None
        if sep == "\t" or len(sep) > 1:
            # Read as written: LiteralLines re-quotes each line so pandas keeps every ``"``.
            literal = LiteralLines(lines, table.name, sep, len(names))
            source: Any = literal
            options["sep"] = "\t"
        elif table.is_stdin:
            source = io.StringIO("".join(lines))
        else:
            source = table.path
        reader: Any = pd.read_csv(
            source,
            **options,
            encoding=table.encoding if isinstance(source, str | Path) else None,
            chunksize=chunksize,
            dtype=str if as_text else None,
            keep_default_na=not as_text,
        )
        frames = [reader] if isinstance(reader, pd.DataFrame) else reader
        try:
            for frame in frames:
                yield _name_index(frame)
        finally:
            if not isinstance(reader, pd.DataFrame):
                reader.close()
        if literal is not None and literal.quoted:
            quoted = literal.quoted
            log.info(
                "%s: %d rows held a quoted field (with a tab or a line break): read with their "
                "quotes as field delimiters (lines %s)",
                table.name,
                len(quoted),
                ", ".join(map(str, quoted[:5])) + (", ..." if len(quoted) > 5 else ""),
            )
    except pd.errors.EmptyDataError:
        raise OdioError(f"{table.name} is empty") from None
    except pd.errors.ParserError as exc:
        what = "TSV" if sep == "\t" else "CSV"
        hint = "" if table.sep else f"; if it is not {what}, give its delimiter with --sep"
        raise OdioError(f"{table.name}: not valid {what} ({_first_line(exc)}){hint}") from None
    finally:
        if not table.is_stdin:
            stream.close()


def _read_json(table: Table, chunksize: int | None) -> Iterator[pd.DataFrame]:
    yield from read_json(_text_stream(table), table.name, table.kind, chunksize)


def _read_parquet(table: Table, chunksize: int | None) -> Iterator[pd.DataFrame]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    source: Any = io.BytesIO(sys.stdin.buffer.read()) if table.is_stdin else table.path
    try:
        parquet = pq.ParquetFile(source)
        for batch in parquet.iter_batches(batch_size=chunksize or 1 << 30):
            yield batch.to_pandas()
    except (pa.ArrowException, OSError) as exc:
        raise OdioError(f"{table.name}: not a readable Parquet file ({_first_line(exc)})") from None


def _name_index(frame: pd.DataFrame) -> pd.DataFrame:
    first = frame.columns[0] if len(frame.columns) else None
    if isinstance(first, str) and first.startswith("Unnamed: 0"):
        frame = frame.rename(columns={first: ""})
    return frame


def _unquoted(line: str) -> str:
    """``line`` without the parts inside double quotes (a comma in a quoted header name)."""
    return "".join(part for i, part in enumerate(line.split('"')) if i % 2 == 0)


def _decode_error(table: Table, exc: UnicodeDecodeError) -> str:
    where = ""
    if not table.is_stdin:
        data = Path(table.path).read_bytes()
        try:
            data.decode(table.encoding)
        except UnicodeDecodeError as error:
            line = data.count(b"\n", 0, error.start) + 1
            where = f" at byte {error.start} (line {line})"
    return (
        f"{table.name}: cannot decode as {table.encoding}{where}; re-save the file as UTF-8 "
        "or pass its encoding with --encoding (e.g. latin-1)"
    )


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
