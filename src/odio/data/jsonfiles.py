"""JSON Lines and JSON arrays of objects as data frames, read as shipped: errors name the line,
and lone UTF-16 surrogates (a tweet cut inside an emoji) are replaced, not a crash."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any, TextIO

import pandas as pd

from odio.errors import OdioError

log = logging.getLogger(__name__)

SURROGATE = re.compile("[\ud800-\udfff]")
"""A lone UTF-16 surrogate: a valid ``str``, with no UTF-8 form."""


def read_json(
    stream: TextIO, name: str, kind: str, chunksize: int | None = None
) -> Iterator[pd.DataFrame]:
    """JSON Lines, one object per line, read line by line (errors name the line); or, when
    ``kind`` is ``json``, a file holding one array of objects. Lone surrogates become U+FFFD.

    >>> frames = read_json(io.StringIO('{"text": "hola \\\\ud83d"}\\n'), "t.jsonl", "jsonl")
    >>> next(frames)["text"].tolist()
    ['hola \\ufffd']
    """
    cleaned = _Surrogates()
    try:
        if kind == "json":
            first = stream.read(1)
            while first.isspace():
                first = stream.read(1)
            if first == "[":
                text = first + stream.read()
                try:
                    records = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise OdioError(f"{name}: not valid JSON ({exc})") from None
                if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
                    raise OdioError(f"{name}: a JSON array of objects is expected")
                if "\\u" in text:
                    records = [cleaned.record(r) for r in records]
                cleaned.warn(name)
                yield pd.DataFrame.from_records(records)
                return
            stream = io.StringIO(first + stream.read())
        rows: list[dict[str, Any]] = []
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise OdioError(
                    f"{name}: line {number} is not valid JSON ({exc.msg}, column {exc.colno})"
                ) from None
            if not isinstance(record, dict):
                raise OdioError(f"{name}: line {number} is not a JSON object")
            rows.append(cleaned.record(record) if "\\u" in line else record)
            if chunksize and len(rows) == chunksize:
                yield pd.DataFrame.from_records(rows)
                rows = []
        if rows:
            yield pd.DataFrame.from_records(rows)
        cleaned.warn(name)
    finally:
        stream.close()


class _Surrogates:
    """Replaces lone UTF-16 surrogates (``"\\ud83d"`` in JSON: a tweet cut inside an emoji)
    with U+FFFD, as the server's preprocessing does, and counts the cells changed. Such a
    string is a valid Python ``str`` but has no UTF-8 form: pandas (Arrow strings) and every
    writer refuse it."""

    def __init__(self) -> None:
        self.cells = 0

    def record(self, record: dict[str, Any]) -> dict[str, Any]:
        return {self.value(k): self.value(v) for k, v in record.items()}

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            fixed = SURROGATE.sub("\ufffd", value)
            self.cells += fixed != value
            return fixed
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return self.record(value)
        return value

    def warn(self, name: str) -> None:
        if self.cells:
            log.warning(
                "%s: %d cells held a lone UTF-16 surrogate (a character cut in half): "
                "replaced with U+FFFD",
                name,
                self.cells,
            )
            self.cells = 0
