"""``odio predict``: add probability and 0/1 columns to every row of a file, or score the
``--text`` texts."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any, cast

from odio.cli import common, flags
from odio.errors import OdioError

log = logging.getLogger(__name__)

SUMMARY = "score tweets: a file, standard input or --text"
DESCRIPTION = (
    "Add prob_<label> and pred_<label> columns to every row of a file (streamed in "
    "chunks, rows and columns kept in order), or score the texts given with --text."
)
EXAMPLES = [
    "odio predict runs/tfidf tweets.csv -o scored.csv",
    "odio predict runs/tfidf - < tweets.csv > scored.csv",
    "odio predict runs/tfidf --text 'ándate a tu país' --text 'qué rico el completo'",
    "odio predict runs/context tweets_test.csv --context referenced_tweets_data.csv",
    "odio predict runs/context --text 'que se vuelvan todos' --context-text 'llegan 500 migrantes'",
]
TRAINED = "as the model was trained"
CONTEXT = ("data.context.path", "data.context.column", "data.context.ref_column")
"""The conversation-context settings ``odio predict`` takes as flags (as ``odio train``)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL", help=common.MODEL_HELP)
    parser.add_argument(
        "input",
        metavar="INPUT",
        nargs="?",
        help="CSV, TSV, JSONL, JSON or Parquet with a text column; - reads standard input",
    )
    parser.add_argument(
        "--text",
        action="append",
        metavar="TEXT",
        help="score this text instead of a file (repeatable); results on standard output",
    )
    parser.add_argument("--json", action="store_true", help="with --text: print JSON")
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="output file; - writes standard output (default: INPUT's name + .predictions, "
        "here; standard output when INPUT is -)",
    )
    parser.add_argument("--text-column", help="text column (default: the model's)")
    parser.add_argument(
        "--format",
        help="INPUT's format: csv, tsv, jsonl, json, parquet (default: from its name; csv for -)",
    )
    parser.add_argument(
        "--output-format", help="the output's format (default: from its name; INPUT's for -)"
    )
    parser.add_argument("--sep", help="INPUT's delimiter (default: from its name or header line)")
    parser.add_argument("--chunksize", type=int, default=4096, help="rows per chunk")
    parser.add_argument("--encoding", default="utf-8", help="INPUT's encoding")
    group = parser.add_argument_group(
        "conversation context (for a model trained with it; default: as the model was trained, "
        "its context file when it still exists)"
    )
    # an argument group takes arguments as a parser does (it is what add_argument needs)
    flags.add_setting_flags(cast(argparse.ArgumentParser, group), CONTEXT, default=TRAINED)
    group.add_argument(
        "--context-text",
        action="append",
        metavar="TEXT",
        help="with --text: the context of each --text, in order (repeatable)",
    )
    common.add_threshold_option(parser)
    common.add_runtime_options(parser)
    engine = common.add_engine_options(
        parser, "stream the file here; ray: Ray Data, a file or a folder, a pool of actors"
    )
    engine.add_argument(
        "--actors",
        type=common.positive,
        help="actors scoring at once with --engine ray (default: as many as the CPUs, or "
        "GPUs with --actor-gpus, hold)",
    )
    engine.add_argument(
        "--batch-size",
        type=common.positive,
        default=512,
        help="rows per batch sent to an actor with --engine ray",
    )
    engine.add_argument("--actor-cpus", type=common.resources, default=1.0, help="CPUs per actor")
    engine.add_argument("--actor-gpus", type=common.resources, default=0.0, help="GPUs per actor")


def default_output(input_path: str) -> str:
    """``data/tweets.csv`` -> ``tweets.predictions.csv``, here.

    >>> default_output("data/tweets.csv")
    'tweets.predictions.csv'
    """
    path = Path(input_path)
    return str(path.with_name(f"{path.stem}.predictions{path.suffix}").name)


def run(args: argparse.Namespace) -> int:
    """Score the file (or the texts) and print what was written."""
    from odio.data.tables import STDIN, Table
    from odio.inference.batch import predict_file

    if (args.input is None) == (args.text is None):
        raise OdioError("give a file to score (INPUT, or - for standard input) or --text, not both")
    common.check_engine(args)
    if args.engine == "ray":
        if args.text is not None:
            raise OdioError("--engine ray scores files; score --text here")
        if flags.given_settings(args, CONTEXT) or args.context_text:
            raise OdioError("--engine ray does not read conversation context; score here")
        return _run_on_ray(args)
    detector = common.load_detector(args)
    if args.text is not None:
        contexts = args.context_text
        if contexts is not None and len(contexts) != len(args.text):
            raise OdioError(
                f"{len(args.text)} --text but {len(contexts)} --context-text: give one per --text"
            )
        return _print_texts(args, detector.predict(args.text, contexts))
    if args.context_text is not None:
        raise OdioError("--context-text goes with --text; for a file give --context-column")
    text_column = args.text_column or detector.info.get("data", {}).get("text_column", "text")
    source = Table(args.input, format=args.format, sep=args.sep, encoding=args.encoding)
    output = args.output or (STDIN if args.input == STDIN else default_output(args.input))
    report = predict_file(
        detector,
        source,
        output,
        text_column=text_column,
        chunksize=args.chunksize,
        out_format=args.output_format,
        progress=not args.quiet,
        context=context_settings(args, detector),
    )
    print(report.summary(), file=sys.stderr if output == STDIN else sys.stdout)
    return 0


def context_settings(args: argparse.Namespace, detector: Any) -> Any:
    """The context to read with a file: the flags given over the model's own settings; the
    model's context file only when it still exists (else a warning: scored without)."""
    from pydantic import ValidationError

    from odio.config import ContextConfig, describe_error

    trained = (detector.info.get("data") or {}).get("context") or {}
    given = flags.given_settings(args, CONTEXT).get("data", {}).get("context", {})
    if given.get("path") or given.get("column"):
        trained = {k: v for k, v in trained.items() if k not in ("path", "column")}
    try:
        config = ContextConfig.model_validate({**trained, **given})
    except ValidationError as exc:
        raise OdioError(f"context settings: {describe_error(exc)}") from None
    if config.path and not given.get("path") and not Path(config.path).is_file():
        log.warning(
            "the model was trained with the context file %s, which is not here: scoring "
            "without context (give --context FILE or --context-column COLUMN)",
            config.path,
        )
        return None
    return config if config.enabled else None


def _print_texts(args: argparse.Namespace, predictions: list) -> int:
    import json

    from odio.reports.console import format_predictions

    if args.json:
        out = [{"text": t, **p} for t, p in zip(args.text, predictions, strict=True)]
        print(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        print(format_predictions(args.text, predictions))
    return 0


def _run_on_ray(args: argparse.Namespace) -> int:
    """``odio predict --engine ray``: the same output, scored by a pool of Ray actors."""
    from odio.inference.distributed import predict_on_ray

    output = args.output
    if output is None and Path(args.input).is_file():
        output = default_output(args.input)
    if output is None:
        raise OdioError("--engine ray on a folder or URI needs -o OUTPUT")
    report = predict_on_ray(
        args.model,
        args.input,
        output,
        text_column=args.text_column,
        thresholds=common.thresholds(args.threshold),
        runtime=common.runtime(args.runtime),
        threads=args.threads,
        actors=args.actors,
        batch_size=args.batch_size,
        actor_cpus=args.actor_cpus,
        actor_gpus=args.actor_gpus,
        address=args.address,
        input_format=args.format,
        sep=args.sep,
        encoding=args.encoding,
        out_format=args.output_format,
        progress=not args.quiet,
    )
    print(report.summary())
    return 0
