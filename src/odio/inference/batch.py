"""Scoring files of any size: stream in chunks, keep every row and column, write atomically.

Input and output are CSV, TSV, JSON Lines, JSON (an array) or Parquet, or ``-``: standard
input and output (CSV unless a format is given), so ``odio predict`` fits in a pipe.
"""

from __future__ import annotations

import contextlib
import csv
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from odio.config import ContextConfig
from odio.data.context import ContextReport, join_references, read_context_file
from odio.data.tables import (
    STDIN,
    Table,
    format_of,
    is_text,
    iter_table,
    not_text,
    require_columns,
)
from odio.errors import OdioError
from odio.files import staging_file
from odio.inference.detector import Detector
from odio.text.context import join_contexts

log = logging.getLogger(__name__)


@dataclass
class PredictReport:
    """What :func:`predict_file` did."""

    output: str
    rows: int
    scored: int
    empty: int
    """Rows whose text was empty or not a string: kept, with empty outputs."""
    seconds: float
    context: ContextReport | None = None
    """How the rows' conversation context was found, when one was read."""

    def summary(self) -> str:
        rate = self.scored / self.seconds if self.seconds else 0.0
        line = (
            f"{self.output}: {self.rows} rows written, {self.scored} scored, "
            f"{self.empty} with an empty text (kept, outputs left empty); "
            f"{self.seconds:.1f}s, {rate:.0f} tweets/s"
        )
        return line + (f"; {self.context.summary()}" if self.context else "")


def predict_file(
    detector: Detector,
    source: Table | str | Path,
    output: str | Path,
    *,
    text_column: str = "text",
    chunksize: int = 4096,
    out_format: str | None = None,
    progress: bool = True,
    context: ContextConfig | None = None,
) -> PredictReport:
    """Add ``prob_<label>`` and ``pred_<label>`` columns to every row of a table.

    Rows and columns come out in input order; memory stays bounded by ``chunksize``. A file
    output appears only when complete (written to a temporary file, then renamed); on any
    failure no output is left and an existing file at ``output`` is untouched. ``-`` writes
    to standard output. The progress bar (standard error) shows rows and tweets/s.

    Args:
        detector: the model, with its thresholds and decision rule.
        source: the input (a :class:`~odio.data.tables.Table` gives format, delimiter and
            encoding; a path or ``-`` takes them from the name).
        output: the output file, or ``-``.
        text_column: the column to score.
        chunksize: rows per chunk.
        out_format: the output's format (default: from its name; for ``-``, the input's).
        progress: show the progress bar.
        context: where each row's conversation context is (a column of the input, or a
            file of referenced tweets looked up by the ids in ``ref_column``); references
            not found are counted, warned about once and left out.

    Example:
        >>> report = predict_file(Detector.load("runs/example/model"),
        ...                       "examples/tweets_sample.csv", "/tmp/scored.csv")  # doctest: +SKIP
    """
    table = source if isinstance(source, Table) else Table(source)
    if chunksize < 1:
        raise OdioError(f"--chunksize must be a whole number >= 1, got {chunksize}")
    to_stdout = str(output) == STDIN
    output_path = Path(output)
    # Everything about the output is checked before the first row is scored.
    if not to_stdout:
        if not table.is_stdin and output_path.resolve() == Path(table.path).resolve():
            raise OdioError(f"the output {output_path} would overwrite the input")
        if output_path.is_dir():
            raise OdioError(f"the output {output_path} is a directory; give a file name")
        if not output_path.parent.exists():
            raise OdioError(f"output directory not found: {output_path.parent}")
    fmt = out_format or (table.kind if to_stdout else format_of(output))
    try:
        staged = None if to_stdout else staging_file(output_path)
    except OSError as exc:
        raise OdioError(f"cannot write in {output_path.parent}: {_reason(exc)}") from None
    context = context if context is not None and context.enabled else None
    lookup = read_context_file(context, table.encoding) if context and context.path else None
    found = None if context is None else ContextReport(str(context.path or context.column))
    start = time.perf_counter()
    with _ScoredOutput(fmt, output_path, staged, "scoring", progress, start) as out:
        for i, chunk in enumerate(iter_table(table, chunksize=chunksize, as_text=True)):
            if i == 0:
                needed = [] if context is None else [context.column or context.ref_column]
                require_columns(table, chunk, [text_column, *needed])
            contexts = None
            if context is not None and found is not None:
                contexts = _chunk_contexts(chunk, context, lookup, found)
            scored = _score_chunk(detector, chunk, text_column, contexts)
            out.write(scored, detector.labels[0], text_column)
    report = out.report("standard output" if to_stdout else str(output_path))
    if found is not None and found.missing:
        log.warning(
            "%s: %d of %d references in %r are not in %s (scored without them)",
            table.name,
            found.missing,
            found.references,
            context.ref_column if context else "",
            found.source,
        )
    report.context = found
    return report


def _chunk_contexts(
    chunk: pd.DataFrame,
    context: ContextConfig,
    lookup: dict[str, str] | None,
    found: ContextReport,
) -> list[str | None]:
    """The contexts of a chunk's rows; ``found`` adds up what was found."""
    if context.column:
        contexts = [str(c) if is_text(c) else None for c in chunk[context.column]]
        given = sum(c is not None for c in contexts)
        found.rows += len(contexts)
        found.rows_with_references += given
        found.rows_with_context += given
        return contexts
    cells = list(chunk[context.ref_column])
    contexts, part = join_references(cells, lookup or {}, context.separator)
    for key in ("rows", "rows_with_references", "rows_with_context", "references", "missing"):
        setattr(found, key, getattr(found, key) + getattr(part, key))
    return contexts


class _ScoredOutput:
    """Scored frames written in order to ``output_path``, atomically: through ``staged``
    (a staging file renamed when complete, removed on any failure; ``None`` writes standard
    output). Counts rows and empty texts and shows them as a progress bar of tweets/s; a
    full disk is one line."""

    def __init__(
        self,
        fmt: str,
        output_path: Path,
        staged: Path | None,
        desc: str,
        progress: bool,
        start: float,
    ) -> None:
        self.output_path = output_path
        self.sink = _Sink(fmt, staged)
        self.start = start
        self.rows = self.empty = 0
        self.not_text: dict[str, list[int]] = {}
        """What a text is that is not one (a list, a number) -> the 0-based rows."""
        self.bar = tqdm(
            desc=desc,
            unit=" rows",
            bar_format="{desc}: {n_fmt}{unit} [{elapsed}{postfix}]",  # postfix: scored tweets/s
            disable=not progress,
        )

    def __enter__(self) -> _ScoredOutput:
        return self

    def write(self, frame: pd.DataFrame, main_label: str, text_column: str | None = None) -> None:
        """Write ``frame``; with ``text_column``, note the rows whose text is not a string."""
        if text_column is not None:
            for row, text in enumerate(frame[text_column], self.rows):
                kind = not_text(text)
                if kind is not None and kind != "empty":
                    self.not_text.setdefault(kind, []).append(row)
        try:
            self.sink.write(frame)
        except OSError as exc:  # a full disk, a quota, a file-size limit
            raise OdioError(f"cannot write {self.output_path}: {_reason(exc)}") from None
        self.rows += len(frame)
        self.empty += int(frame[f"prob_{main_label}"].isna().sum())
        rate = (self.rows - self.empty) / max(time.perf_counter() - self.start, 1e-9)
        self.bar.set_postfix_str(f"{rate:.0f} tweets/s", refresh=False)
        self.bar.update(len(frame))

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        try:
            if kind is None:
                self._complete()
                return
        except BaseException:
            self._discard()
            raise
        finally:
            self.bar.close()
        self._discard()  # the exception in the with block goes on

    def _complete(self) -> None:
        self.sink.close()
        if self.sink.path is not None:
            try:
                os.replace(self.sink.path, self.output_path)
            except OSError as exc:
                raise OdioError(f"cannot write {self.output_path}: {_reason(exc)}") from None

    def _discard(self) -> None:
        with contextlib.suppress(Exception):  # a full disk fails the close too
            self.sink.close()
        if self.sink.path is not None:
            self.sink.path.unlink(missing_ok=True)

    def report(self, output: str) -> PredictReport:
        odd = sum(len(rows) for rows in self.not_text.values())
        if self.empty > odd:
            log.warning("%d rows had an empty text: kept with empty outputs", self.empty - odd)
        for kind, rows in self.not_text.items():
            shown = ", ".join(map(str, rows[:5])) + (", ..." if len(rows) > 5 else "")
            log.warning(
                "%d rows had a text that is %s, not text (rows %s): kept with empty outputs",
                len(rows),
                kind,
                shown,
            )
        return PredictReport(
            output=output,
            rows=self.rows,
            scored=self.rows - self.empty,
            empty=self.empty,
            seconds=time.perf_counter() - self.start,
        )


def _reason(exc: OSError) -> str:
    """``No space left on device`` rather than ``[Errno 28] No space left on device: '...'``."""
    return exc.strerror or str(exc)


def _score_chunk(
    detector: Detector,
    chunk: pd.DataFrame,
    text_column: str,
    contexts: list[str | None] | None = None,
) -> pd.DataFrame:
    texts = chunk[text_column]
    ok = texts.map(is_text).to_numpy()
    P = np.full((len(chunk), len(detector.labels)), np.nan)
    if ok.any():
        kept = None if contexts is None else [c for c, yes in zip(contexts, ok, strict=True) if yes]
        P[ok] = detector.predict_proba(join_contexts(texts[ok].tolist(), kept))
    D = detector.decide(np.nan_to_num(P))
    out = chunk.copy()
    for j, label in enumerate(detector.labels):
        out[f"prob_{label}"] = P[:, j]
    for j, label in enumerate(detector.labels):
        out[f"pred_{label}"] = pd.array(np.where(ok, D[:, j], 0), dtype="Int8")
        out.loc[~ok, f"pred_{label}"] = pd.NA
    return out


class _Sink:
    """Writes scored chunks in one format to a (staging) file, or to standard output."""

    def __init__(self, fmt: str, path: Path | None) -> None:
        self.fmt = fmt
        self.path = path
        self.first = True
        self.parquet: Any = None
        self.stream: IO[Any] | None = None

    def _open(self, binary: bool) -> IO[Any]:
        if self.stream is None:
            if self.path is None:
                self.stream = sys.stdout.buffer if binary else sys.stdout
            else:
                self.stream = (
                    open(self.path, "wb")  # noqa: SIM115 - closed in close()
                    if binary
                    else open(self.path, "w", encoding="utf-8", newline="")  # noqa: SIM115
                )
        return self.stream

    def write(self, frame: pd.DataFrame) -> None:
        if self.fmt in ("csv", "tsv"):
            frame.to_csv(
                self._open(binary=False),
                header=self.first,
                index=False,
                sep="\t" if self.fmt == "tsv" else ",",
                quoting=csv.QUOTE_MINIMAL,
            )
        elif self.fmt in ("jsonl", "json"):
            stream = self._open(binary=False)
            if self.fmt == "json":
                body = frame.to_json(orient="records", force_ascii=False)[1:-1]
                stream.write(("[" if self.first else ",") + body)
            else:
                text = frame.to_json(orient="records", lines=True, force_ascii=False)
                stream.write(text if text.endswith("\n") else text + "\n")
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            if self.parquet is None:
                arrow = pa.Table.from_pandas(frame, preserve_index=False)
                self.parquet = pq.ParquetWriter(self._open(binary=True), arrow.schema)
            else:
                arrow = pa.Table.from_pandas(
                    frame, schema=self.parquet.schema, preserve_index=False
                )
            self.parquet.write_table(arrow)
        self.first = False

    def close(self) -> None:
        if self.fmt == "json" and self.stream is not None and not self.first:
            self.stream.write("]\n")
            self.first = True
        if self.parquet is not None:
            self.parquet.close()
            self.parquet = None
        if self.stream is not None:
            if self.path is None:
                self.stream.flush()
            else:
                self.stream.close()
            self.stream = None
