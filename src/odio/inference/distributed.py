"""Scoring files on a Ray cluster: Ray Data streams the rows through a pool of actors, each
of which loads the model once.

``odio predict MODEL INPUT -o OUTPUT --engine ray`` (:func:`predict_on_ray`) writes what
the local ``predict`` (:func:`odio.inference.batch.predict_file`) writes, from more cores,
GPUs or machines:

- **Input**: a file, or a folder of files of one format (CSV/TSV, JSON Lines or JSON,
  Parquet), read in name order; local paths, or any URI Ray Data reads (``s3://``,
  ``gs://``, ...) when every node can reach it. CSV and TSV cells are read as text, as the
  local ``predict`` reads them, so ids and empty cells come out as they went in.
- **Model**: the model directory is put in Ray's object store and unpacked once per node
  (:func:`odio.cluster.ship_dir`): it need not be on a disk the workers share.
- **Scoring**: ``actors`` actors (:class:`ScoreBatches`, ``actor_cpus`` CPUs and
  ``actor_gpus`` GPUs each) receive batches of ``batch_size`` rows. Ray restarts an actor
  that dies and retries the batch it held, so a lost worker loses no rows.
- **Output**: one file, every input row and column in input order (Ray Data's
  ``preserve_order``) plus ``prob_<label>`` and ``pred_<label>``; rows without a text keep
  their place with empty outputs. This process writes it to a temporary file and renames
  it when complete: a failure leaves no output and an earlier file untouched.

Needs the ``ray`` extra (``pip install 'odio[ray]'``); Ray is imported only when this
runs.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from odio.cluster import ShippedDir, connect, require_ray, ship_dir, unpack
from odio.data.tables import FORMATS, Table, _name_index, format_of, require_columns
from odio.errors import OdioError
from odio.files import staging_file
from odio.inference.batch import PredictReport, _score_chunk, _ScoredOutput
from odio.inference.detector import Detector
from odio.inference.ray_files import check_output, check_thresholds, csv_header, input_files
from odio.models.modeldir import find_model_dir, read_config

log = logging.getLogger(__name__)

READ_CPUS = 0
"""CPUs Ray reserves per read task. Reading is light next to scoring, and a read that
waited for a CPU while the actors hold every core would never start."""


class ScoreBatches:
    """The actor Ray Data runs: unpacks the shipped model and loads the Detector once, then
    scores pandas batches as :func:`~odio.inference.batch.predict_file` scores chunks.

    Example:
        >>> scorer = ScoreBatches(ship_dir("runs/tfidf/model"), "text")  # doctest: +SKIP
        >>> scorer(pd.DataFrame({"text": ["te odio weon"]})).columns[-1]  # doctest: +SKIP
        'pred_Pueblos Originarios'
    """

    def __init__(
        self,
        model: ShippedDir,
        text_column: str,
        thresholds: Mapping[str, float] | None = None,
        runtime: str | None = None,
        threads: int | None = None,
    ) -> None:
        detector = Detector.load(unpack(model), runtime=runtime, threads=threads)
        self.detector = detector.with_thresholds(thresholds)
        self.text_column = text_column

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        if self.text_column not in batch.columns:
            have = ", ".join(repr(c) for c in batch.columns if c != "")
            raise OdioError(f"column {self.text_column!r} not found; the input has: {have}")
        return _score_chunk(self.detector, batch, self.text_column)


def predict_on_ray(
    model: str | Path,
    source: str | Path,
    output: str | Path,
    *,
    text_column: str | None = None,
    thresholds: Mapping[str, float] | None = None,
    runtime: str | None = None,
    threads: int | None = None,
    actors: int | None = None,
    batch_size: int = 512,
    actor_cpus: float = 1.0,
    actor_gpus: float = 0.0,
    address: str | None = None,
    input_format: str | None = None,
    sep: str | None = None,
    encoding: str = "utf-8",
    out_format: str | None = None,
    progress: bool = True,
) -> PredictReport:
    """Score a file or a folder of files with a pool of Ray actors; write one output file.

    Args:
        model: the model directory (or the run directory holding ``model/``).
        source: a file, a folder of files of one format, or a URI Ray Data reads.
        output: the output file (its format from its name, or ``out_format``).
        text_column: the column to score (default: the model's).
        thresholds: decision thresholds replacing the tuned ones, by label.
        runtime: ``torch`` or ``onnx`` for transformer models (default: from the model).
        threads: CPU threads per actor (default: ``actor_cpus``).
        actors: actors scoring at once (default: as many as the cluster's CPUs, or GPUs
            with ``actor_gpus``, hold).
        batch_size: rows per batch given to an actor.
        actor_cpus: CPUs per actor.
        actor_gpus: GPUs per actor (fractions share a GPU).
        address: the Ray cluster (see :func:`odio.cluster.connect`).
        input_format: the input's format (default: from the file names).
        sep: the delimiter of CSV input (default: from the name or the header line).
        encoding: the text encoding of CSV input (JSON is read as UTF-8).
        out_format: the output's format (default: from its name).
        progress: show a progress bar of rows written and tweets/s.

    Example:
        >>> report = predict_on_ray("runs/tfidf/model", "tweets/", "scored.parquet",
        ...                         actors=8)  # doctest: +SKIP
        >>> print(report.summary())  # doctest: +SKIP
    """
    if batch_size < 1 or (actors is not None and actors < 1):
        raise OdioError("--batch-size and --actors must be at least 1")
    model_dir = find_model_dir(model)
    config = read_config(model_dir)
    check_thresholds(config["labels"], thresholds or {})
    column = text_column or config.get("data", {}).get("text_column") or "text"
    fs, files, kind = input_files(source, input_format)
    output_path = Path(output)
    check_output(output_path, files if fs is None else [])
    fmt = out_format or format_of(output_path)
    if fmt not in FORMATS:
        raise OdioError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")

    ray = require_ray()
    connect(address)
    if actors is None:
        resources = ray.cluster_resources()
        if actor_gpus:
            actors = max(1, int(resources.get("GPU", 0) / actor_gpus))
        else:
            actors = max(1, int(resources.get("CPU", 1) / max(actor_cpus, 1e-9)))
    start = time.perf_counter()
    shipped = ship_dir(model_dir)
    log.info(
        "scoring %d file(s) with %d Ray actors (%s CPU, %s GPU each); model shipped (%.1f MB)",
        len(files),
        actors,
        actor_cpus,
        actor_gpus,
        shipped.size / 1e6,
    )
    labels = list(config["labels"])
    written = _ScoredOutput(
        fmt, output_path, staging_file(output_path), "scoring on ray", progress, start
    )
    with written, _data_context(progress=False):
        dataset = _read(kind, files, fs, column, sep, encoding, source)
        scored = dataset.map_batches(
            ScoreBatches,
            fn_constructor_kwargs={
                "model": shipped,
                "text_column": column,
                "thresholds": dict(thresholds or {}),
                "runtime": runtime,
                "threads": threads or max(1, int(actor_cpus)),
            },
            batch_size=batch_size,
            batch_format="pandas",
            # A fixed pool; Ray Data restarts a dead actor and retries its batch
            # (max_restarts=-1, max_task_retries=-1 are its defaults for actor pools).
            compute=ray.data.ActorPoolStrategy(size=actors),
            num_cpus=actor_cpus,
            num_gpus=actor_gpus or None,
        )
        for table in _batches(scored):
            frame = _plain_strings(table).to_pandas()
            if kind in ("csv", "tsv"):
                frame = _name_index(frame)  # "Unnamed: 0" is "", as read locally
            for label in labels:
                # Arrow has no nullable int8 in pandas' default mapping: restore Int8
                frame[f"pred_{label}"] = frame[f"pred_{label}"].astype("Int8")
            written.write(frame, labels[0])
    return written.report(str(output_path))


def _batches(dataset: Any) -> Iterator[Any]:
    """The dataset's blocks as Arrow tables, in order; an odio error raised in an actor
    (a missing column) comes back as that one-line error, not as Ray's wrapping."""
    try:
        yield from dataset.iter_batches(batch_size=None, batch_format="pyarrow")
    except Exception as exc:
        cause = _odio_cause(exc)
        if cause is None:
            raise
        raise OdioError(cause) from None


def _plain_strings(table: Any) -> Any:
    """``table`` with Ray Data's ``large_string`` columns as ``string``, the type the
    local reader gives (and a Parquet output then has the input's types)."""
    import pyarrow as pa

    schema = pa.schema(
        [
            field.with_type(pa.string()) if pa.types.is_large_string(field.type) else field
            for field in table.schema
        ]
    )
    return table if schema == table.schema else table.cast(schema)


def _odio_cause(exc: BaseException) -> str | None:
    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo:
        error = todo.pop()
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, OdioError) and not hasattr(error, "cause"):
            return str(error)
        todo += [error.__cause__, error.__context__, getattr(error, "cause", None)]
    return None


@contextlib.contextmanager
def _data_context(*, progress: bool) -> Iterator[None]:
    """Ray Data settings for one scoring job, restored after it: blocks in input order,
    odio's progress bar instead of Ray's, the original error from an actor, no plan print,
    reads that need no CPU while the actors hold them all."""
    from ray.data import DataContext

    ctx = DataContext.get_current()
    changes = {
        "enable_progress_bars": progress,
        "print_on_execution_start": False,
        "raise_original_map_exception": True,
        # Ray 2.60's new Parquet reader lists files in a task that needs a CPU, which
        # waits forever when the actors hold every CPU; the first reader lists them here.
        "use_datasource_v2": False,
    }
    changes = {name: value for name, value in changes.items() if hasattr(ctx, name)}
    saved = {name: getattr(ctx, name) for name in changes}
    saved_order = ctx.execution_options.preserve_order
    # Ray Data's start-up notes; a warning that its (replaced) progress bars are off
    levels = {"ray.data": logging.WARNING, "ray.data._internal.progress": logging.ERROR}
    loggers = {logging.getLogger(name): level for name, level in levels.items()}
    saved_levels = {logger: logger.level for logger in loggers}
    try:
        for name, value in changes.items():
            setattr(ctx, name, value)
        ctx.execution_options.preserve_order = True
        for logger, level in loggers.items():
            logger.setLevel(level)
        yield
    finally:
        for name, value in saved.items():
            setattr(ctx, name, value)
        ctx.execution_options.preserve_order = saved_order
        for logger, level in saved_levels.items():
            logger.setLevel(level)


def _read(
    kind: str,
    files: list[str],
    fs: Any,
    text_column: str,
    sep: str | None,
    encoding: str,
    source: str | Path,
) -> Any:
    """A Ray dataset of the files, with Ray Data's readers."""
    import pyarrow as pa
    import ray.data

    common: dict[str, Any] = {"filesystem": fs, "num_cpus": READ_CPUS, "file_extensions": None}
    if kind in ("csv", "tsv"):
        import pyarrow.csv as pacsv

        names, delimiter = csv_header(files[0], fs, kind, sep, encoding)
        table = Table(files[0], format=kind, sep=sep)
        require_columns(table, pd.DataFrame(columns=names), [text_column])
        return ray.data.read_csv(
            files,
            **common,
            read_options=pacsv.ReadOptions(encoding=encoding),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                # TSV keeps quotes as written, as the local reader does
                quote_char=False if delimiter == "\t" else '"',
                newlines_in_values=delimiter != "\t",
            ),
            # every cell as text: ids keep leading zeros, empty cells stay empty strings
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    if kind in ("jsonl", "json"):
        if encoding.lower().replace("-", "") != "utf8":
            raise OdioError(f"{source}: JSON is read as UTF-8 with --engine ray")
        return ray.data.read_json(files, **common)
    if kind == "parquet":
        import pyarrow.parquet as pq

        names = pq.read_schema(files[0], filesystem=fs).names
        require_columns(Table(files[0]), pd.DataFrame(columns=names), [text_column])
        return ray.data.read_parquet(files, **common)
    raise OdioError(f"{source}: format {kind!r} cannot be read with --engine ray")
