"""Delimited lines read as written: every ``"`` is text, except around a field that a line
needs quoted to have its header's number of fields (a tab or a line break inside, as the
EXIST 2021 TSV files have). :class:`LiteralLines` turns such lines into a TSV that pandas
reads back field for field, so the fast C parser does the rest.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from odio.errors import OdioError

MAX_QUOTED_LINES = 50
"""How many lines a quoted TSV field may span (a tweet's line breaks), at most."""


class LiteralLines(io.TextIOBase):
    r"""Lines split at ``sep`` (a tab or several characters) with every ``"`` kept as text,
    as a TSV that pandas reads back field for field (``QUOTE_MINIMAL``).

    A line with the header's number of fields is taken as written. Any other tab-separated
    line that holds a ``"`` is read as CSV with tabs, joining the next lines while a quoted
    field is open (at most :data:`MAX_QUOTED_LINES`): when that gives the header's number of
    fields, those are the row's (its 1-based line numbers are kept in ``quoted``). A line with
    too many fields either way is an error naming it; a short one is kept (pandas fills the
    missing cells).

    Args:
        lines: the file's lines, the header first, with their line ends.
        name: the file, for messages.
        sep: the delimiter.
        fields: the header's number of fields.

    Example:
        >>> lines = ['a\tb\n', '"x\ty"\t1\n', 'q "z\t2\n']
        >>> LiteralLines(iter(lines), "t.tsv", "\t", 2).read()
        'a\tb\n"x\ty"\t1\n"q ""z"\t2\n'
    """

    def __init__(self, lines: Iterator[str], name: str, sep: str, fields: int) -> None:
        self.lines = lines
        self.name = name
        self.sep = sep
        self.fields = fields
        self.number = 0
        self.pending: list[str] = []
        self.buffer = ""
        self.quoted: list[int] = []

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        parts = [self.buffer]
        length = len(self.buffer)
        while size is None or size < 0 or length < size:
            line = self._next_row()
            if line is None:
                break
            parts.append(line)
            length += len(line)
        text = "".join(parts)
        if size is None or size < 0:
            self.buffer = ""
            return text
        self.buffer = text[size:]
        return text[:size]

    def _next_line(self) -> str | None:
        line = self.pending.pop() if self.pending else next(self.lines, None)
        if line is not None:
            self.number += 1
        return line

    def _next_row(self) -> str | None:
        line = self._next_line()
        tab = self.sep == "\t"
        if line is None or tab and '"' not in line and line.count("\t") < self.fields:
            return line  # no quote, not too many fields: pandas reads it as written
        cells = line.rstrip("\r\n").split(self.sep)
        first = self.number
        if len(cells) != self.fields and tab and '"' in line:
            row, used = self._quoted(line)
            if row is not None:
                self.quoted.append(first)
                return requote(row)
            self.pending.extend(reversed(used))
            self.number -= len(used)
        if len(cells) > self.fields:
            how = ", its quotes read as text or as delimiters" if tab and '"' in line else ""
            raise OdioError(
                f"{self.name}: line {first} has {len(cells)} fields separated by {self.sep!r} "
                f"where the header has {self.fields}{how}"
            )
        return requote(cells)

    def _quoted(self, line: str) -> tuple[list[str] | None, list[str]]:
        """The fields of a row read as CSV with tabs from ``line`` and, while a quoted field
        is open, the lines after it; else ``None`` and the lines read after ``line``."""
        lines = [line]
        while True:
            try:
                rows = list(csv.reader(lines, delimiter="\t", strict=True))
            except csv.Error:
                rows = None  # a quote inside an unquoted field, or one still open
            if rows is not None and len(rows) == 1 and len(rows[0]) == self.fields:
                return rows[0], lines[1:]
            if len(lines) > MAX_QUOTED_LINES or not open_quote("".join(lines)):
                return None, lines[1:]
            extra = self._next_line()
            if extra is None:
                return None, lines[1:]
            lines.append(extra)


def open_quote(text: str) -> bool:
    """Whether tab-separated ``text`` ends inside a quoted field (one that starts with ``"``;
    ``""`` inside it is a quote).

    >>> open_quote('1\\t"a\\tb'), open_quote('1\\t"a""b"'), open_quote('1\\ta"b')
    (True, False, False)
    """
    inside = False
    at_start = True
    i = 0
    while i < len(text):
        ch = text[i]
        if inside:
            if ch == '"':
                if text[i + 1 : i + 2] == '"':
                    i += 1  # a doubled quote is text
                else:
                    inside = False
        elif ch == '"' and at_start:
            inside = True
        at_start = not inside and ch in "\t\n"
        i += 1
    return inside


def requote(cells: list[str]) -> str:
    """One TSV line that pandas (``QUOTE_MINIMAL``) reads back as ``cells``."""
    return (
        "\t".join(
            '"' + cell.replace('"', '""') + '"' if any(c in cell for c in '"\t\r\n') else cell
            for cell in cells
        )
        + "\n"
    )
