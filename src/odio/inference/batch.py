"""Scoring files of any size: stream in chunks, keep every row and column, write atomically."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from odio.data.tables import file_format, is_text, iter_table, require_columns
from odio.errors import OdioError
from odio.files import staging_file
from odio.inference.detector import Detector

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

    def summary(self) -> str:
        rate = self.scored / self.seconds if self.seconds else 0.0
        return (
            f"{self.output}: {self.rows} rows written, {self.scored} scored, "
            f"{self.empty} with an empty text (kept, outputs left empty); "
            f"{self.seconds:.1f}s, {rate:.0f} tweets/s"
        )


def predict_file(
    detector: Detector,
    input_path: str | Path,
    output_path: str | Path,
    *,
    text_column: str = "text",
    chunksize: int = 4096,
    encoding: str = "utf-8",
    progress: bool = True,
) -> PredictReport:
    """Add ``prob_<label>`` and ``pred_<label>`` columns to every row of a CSV/JSONL/Parquet.

    Rows and columns come out in input order; memory stays bounded by ``chunksize``.
    The output appears only when complete (written to a temporary file, then renamed);
    on any failure no output is left and an existing file at ``output_path`` is untouched.
    The progress bar shows rows done and the scoring rate in tweets/s.

    Example:
        >>> report = predict_file(Detector.load("runs/example/model"),
        ...                       "examples/tweets_sample.csv", "/tmp/scored.csv")  # doctest: +SKIP
    """
    input_path, output_path = Path(input_path), Path(output_path)
    if chunksize < 1:
        raise OdioError(f"--chunksize must be a whole number >= 1, got {chunksize}")
    # Everything about the output is checked before the first row is scored.
    if output_path.is_dir():
        raise OdioError(f"the output {output_path} is a directory; give a file name")
    out_format = file_format(output_path)
    sep = "\t" if output_path.suffix.lower() == ".tsv" else ","
    if output_path.resolve() == input_path.resolve():
        raise OdioError(f"the output {output_path} would overwrite the input")
    if not output_path.parent.exists():
        raise OdioError(f"output directory not found: {output_path.parent}")
    try:
        tmp = staging_file(output_path)
    except OSError as exc:
        raise OdioError(f"cannot write in {output_path.parent}: {_reason(exc)}") from None
    start = time.perf_counter()
    rows = empty = 0
    writer: Any = None
    bar = tqdm(
        desc="scoring",
        unit=" rows",
        bar_format="{desc}: {n_fmt}{unit} [{elapsed}{postfix}]",  # postfix: scored tweets/s
        disable=not progress,
    )
    try:
        chunks = iter_table(input_path, chunksize=chunksize, encoding=encoding, as_text=True)
        for i, chunk in enumerate(chunks):
            if i == 0:
                require_columns(input_path, chunk, [text_column])
            scored = _score_chunk(detector, chunk, text_column)
            try:
                writer = _write(scored, tmp, out_format, writer, first=i == 0, sep=sep)
            except OSError as exc:  # a full disk, a quota, a file-size limit
                raise OdioError(f"cannot write {output_path}: {_reason(exc)}") from None
            rows += len(chunk)
            n_empty = int(scored[f"prob_{detector.labels[0]}"].isna().sum())
            empty += n_empty
            rate = (rows - empty) / max(time.perf_counter() - start, 1e-9)
            bar.set_postfix_str(f"{rate:.0f} tweets/s", refresh=False)
            bar.update(len(chunk))
        try:
            if writer is not None:
                closing, writer = writer, None  # closed here, not again after a failure
                closing.close()
            os.replace(tmp, output_path)
        except OSError as exc:
            raise OdioError(f"cannot write {output_path}: {_reason(exc)}") from None
    except BaseException:
        if writer is not None:
            with contextlib.suppress(Exception):  # a full disk fails the close too
                writer.close()
        tmp.unlink(missing_ok=True)
        raise
    finally:
        bar.close()
    report = PredictReport(
        output=str(output_path),
        rows=rows,
        scored=rows - empty,
        empty=empty,
        seconds=time.perf_counter() - start,
    )
    if empty:
        log.warning("%d rows had an empty text: kept with empty outputs", empty)
    return report


def _reason(exc: OSError) -> str:
    """``No space left on device`` rather than ``[Errno 28] No space left on device: '...'``."""
    return exc.strerror or str(exc)


def _score_chunk(detector: Detector, chunk: pd.DataFrame, text_column: str) -> pd.DataFrame:
    texts = chunk[text_column]
    ok = texts.map(is_text).to_numpy()
    P = np.full((len(chunk), len(detector.labels)), np.nan)
    if ok.any():
        P[ok] = detector.predict_proba(texts[ok].tolist())
    D = detector.decide(np.nan_to_num(P))
    out = chunk.copy()
    for j, label in enumerate(detector.labels):
        out[f"prob_{label}"] = P[:, j]
    for j, label in enumerate(detector.labels):
        out[f"pred_{label}"] = pd.array(np.where(ok, D[:, j], 0), dtype="Int8")
        out.loc[~ok, f"pred_{label}"] = pd.NA
    return out


def _write(frame: pd.DataFrame, path: Path, fmt: str, writer, *, first: bool, sep: str):
    if fmt == "csv":
        frame.to_csv(path, mode="w" if first else "a", header=first, index=False, sep=sep)
        return writer
    if fmt == "jsonl":
        text = frame.to_json(orient="records", lines=True, force_ascii=False)
        with path.open("w" if first else "a", encoding="utf-8") as f:
            f.write(text if text.endswith("\n") else text + "\n")
        return writer
    import pyarrow as pa
    import pyarrow.parquet as pq

    if writer is None:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        writer = pq.ParquetWriter(path, table.schema)
    else:
        table = pa.Table.from_pandas(frame, schema=writer.schema, preserve_index=False)
    writer.write_table(table)
    return writer
