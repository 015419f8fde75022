"""The ``odio`` command: a thin layer over :mod:`odio.training`, :mod:`odio.inference`,
:mod:`odio.models.export`, :mod:`odio.serve` and :mod:`odio.reports`.

Every subcommand is one function that parses nothing itself and calls the Python API, so
anything the CLI does can be done from Python too.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from odio.errors import OdioError
from odio.versions import VERSION

log = logging.getLogger("odio")


def cmd_train(args: argparse.Namespace) -> int:
    """``odio train``: cross-validate, score the test set, write the run directory."""
    from odio.config import FLAGS, RunConfig
    from odio.reports.console import format_summary
    from odio.training.run import train_run

    base = RunConfig.from_yaml(args.config).to_dict() if args.config else {}
    for key in FLAGS:
        value = getattr(args, _dest(key))
        if value is not None:
            *sections, name = key.split(".")
            target = base
            for section in sections:
                if not isinstance(target.get(section), dict):
                    target[section] = {}
                target = target[section]
            target[name] = value
    config = RunConfig.from_dict(base)
    metrics = train_run(
        config,
        args.train,
        args.out,
        test_path=args.test,
        overwrite=args.overwrite,
        progress=not args.quiet,
    )
    print(format_summary(metrics))
    print(f"\nlabels: {', '.join(metrics['labels'])} (min_votes={metrics['min_votes']})")
    print("thresholds: " + ", ".join(f"{k} {v:.2f}" for k, v in metrics["thresholds"].items()))
    print(f"run written to {args.out} in {metrics['seconds']:.1f}s")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """``odio evaluate``: score a saved model on a labelled file."""
    from odio.inference.evaluate import evaluate_run
    from odio.reports.console import format_scores

    result = evaluate_run(
        args.model,
        args.data,
        min_votes=args.min_votes,
        runtime=_runtime(args.runtime),
        threads=args.threads,
    )
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    report = result["data"]
    print(f"{report['path']}: {report['rows_read']} rows read, {report['rows_used']} used")
    print("\nat threshold 0.5")
    print(format_scores(result["at_0.5"]))
    print("\nat the tuned thresholds " + json.dumps(result["thresholds"], ensure_ascii=False))
    print(format_scores(result["tuned"]))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    """``odio predict``: add probability and 0/1 columns to every row of a file."""
    from odio.inference.batch import predict_file
    from odio.inference.detector import Detector

    detector = Detector.load(args.model, runtime=_runtime(args.runtime), threads=args.threads)
    text_column = args.text_column or detector.info.get("data", {}).get("text_column", "text")
    inp = Path(args.input)
    output = Path(args.output) if args.output else Path(f"{inp.stem}.predictions{inp.suffix}")
    report = predict_file(
        detector,
        inp,
        output,
        text_column=text_column,
        chunksize=args.chunksize,
        encoding=args.encoding,
        progress=not args.quiet,
    )
    print(report.summary())
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    """``odio explain``: which words push each label up or down, for each text."""
    from odio.inference.detector import Detector
    from odio.inference.explain import default_labels, format_explanation

    detector = Detector.load(args.model, runtime=_runtime(args.runtime), threads=args.threads)
    explanations = [
        detector.explain(text, args.label, max_words=args.max_words) for text in args.texts
    ]
    if args.json:
        print(json.dumps([e.to_dict() for e in explanations], indent=2, ensure_ascii=False))
        return 0
    colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    chosen = args.label or args.all_labels
    blocks = [
        format_explanation(e, None if chosen else default_labels(e), top=args.top, colour=colour)
        for e in explanations
    ]
    print("\n\n".join(blocks))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """``odio export``: write an ONNX copy (fp32 or int8) of a transformer model."""
    from odio.models.export import export_onnx

    int8 = args.quantize == "int8"
    output = args.output or _default_export_dir(args.model, int8)
    report = export_onnx(args.model, output, int8=int8, opset=args.opset, overwrite=args.overwrite)
    print(report.summary())
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """``odio serve``: an HTTP API around a model (token from ``ODIO_API_TOKEN``)."""
    from odio.extras import require
    from odio.inference.detector import Detector
    from odio.serve.app import serve
    from odio.serve.settings import ServeSettings

    require("uvicorn", "serve", "odio serve")  # before the model loads, which can take a while

    settings = ServeSettings.from_env(
        max_texts=args.max_texts,
        max_chars=args.max_chars,
        max_explain_words=args.max_explain_words,
        max_queued=args.max_queued,
    )
    detector = Detector.load(args.model, runtime=_runtime(args.runtime), threads=args.threads)
    log.info(
        "serving %s (%s, %s runtime) on http://%s:%d%s",
        args.model,
        detector.backend,
        detector.runtime,
        args.host,
        args.port,
        " with a bearer token" if settings.token else "",
    )
    serve(detector, settings, host=args.host, port=args.port, log_level=args.log_level)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """``odio report``: an HTML and a Markdown report of a run, with figures."""
    from odio.reports.report import write_report

    print(write_report(args.run, args.output).summary())
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """``odio compare``: one table of several runs' settings and scores."""
    from odio.reports.compare import compare_runs, format_comparison, sort_runs

    table = format_comparison(sort_runs(compare_runs(args.runs), args.sort), args.format)
    if args.output:
        Path(args.output).write_text(table, encoding="utf-8")
        print(f"comparison of {len(args.runs)} runs written to {args.output}")
    else:
        print(table, end="")
    return 0


def _default_export_dir(model: str, int8: bool) -> str:
    """``RUN/model`` -> ``RUN/model-onnx`` (or ``RUN/model-onnx-int8``), beside the model."""
    source = Path(model)
    if source.name != "model" and (source / "model").is_dir():
        source = source / "model"
    return str(source.with_name(source.name + ("-onnx-int8" if int8 else "-onnx")))


def _dest(key: str) -> str:
    return "setting__" + key.replace(".", "__")


def _add_setting_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per setting of :data:`odio.config.FLAGS`, its help the setting's docstring.

    Values stay strings here: the config validates them and names the flag on a mistake.
    """
    from odio.config import FLAGS, setting_default, setting_help

    groups: dict[str, Any] = {}
    for key, flag in FLAGS.items():
        section = key.split(".")[0] if "." in key else "run"
        if section not in groups:
            title = {"run": None, "transformer": "transformer settings (more in --config)"}
            groups[section] = (
                parser.add_argument_group(title[section]) if title.get(section) else parser
            )
        default = setting_default(key)
        shown = " ".join(default) if isinstance(default, list) else default
        help_text = f"{setting_help(key)} (default: {shown})"
        options: dict[str, Any] = {"dest": _dest(key), "help": help_text}
        if isinstance(default, bool):
            options.update(action="store_true", default=None)
        elif isinstance(default, list):
            options.update(nargs="+", metavar=key.split(".")[-1].upper().rstrip("S"))
        else:
            options["metavar"] = key.split(".")[-1].upper()
        groups[section].add_argument(flag, **options)


def _runtime(value: str) -> str | None:
    return None if value == "auto" else value


def _add_runtime_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--runtime",
        choices=["auto", "torch", "onnx"],
        default="auto",
        help="transformer runtime (default auto: ONNX when the model holds ONNX files)",
    )
    parser.add_argument(
        "--threads", type=_positive, help="CPU threads for inference (default: all cores)"
    )


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value!r}")
    return number


def _non_negative(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {value!r}")
    return number


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    from odio.inference.explain import MAX_WORDS
    from odio.models.export import OPSET
    from odio.serve.settings import ServeSettings

    parser = argparse.ArgumentParser(
        prog="odio", description="Hate-speech detection for Spanish tweets."
    )
    parser.add_argument("--version", action="version", version=f"odio {VERSION}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = sub.add_parser("train", help="k-fold training, blending and evaluation")
    train.add_argument("train", metavar="TRAIN", help="labelled tweets (CSV, JSONL, Parquet)")
    train.add_argument("--test", help="labelled test file, scored by the blended fold models")
    train.add_argument("--out", required=True, help="run directory to write")
    train.add_argument(
        "--config", help="YAML run settings, e.g. a run's config.yaml (flags override it)"
    )
    _add_setting_flags(train)
    train.add_argument("--overwrite", action="store_true", help="replace an existing run")
    train.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    train.set_defaults(func=cmd_train)

    evaluate = sub.add_parser("evaluate", help="score a saved model on labelled data")
    evaluate.add_argument("model", metavar="RUN_DIR", help="run directory or its model/")
    evaluate.add_argument("data", metavar="DATA", help="labelled tweets")
    evaluate.add_argument("--min-votes", type=int, help="override the run's min_votes")
    evaluate.add_argument("--json", action="store_true", help="print JSON")
    _add_runtime_options(evaluate)
    evaluate.set_defaults(func=cmd_evaluate)

    predict = sub.add_parser("predict", help="score a file of tweets")
    predict.add_argument("model", metavar="RUN_DIR", help="run directory or its model/")
    predict.add_argument("input", metavar="INPUT", help="CSV, JSONL or Parquet with a text column")
    predict.add_argument(
        "-o", "--output", help="output file (default: INPUT's name + .predictions, here)"
    )
    predict.add_argument("--text-column", help="text column (default: the model's)")
    predict.add_argument("--chunksize", type=int, default=4096, help="rows per chunk")
    predict.add_argument("--encoding", default="utf-8", help="CSV/JSONL encoding")
    _add_runtime_options(predict)
    predict.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    predict.set_defaults(func=cmd_predict)

    explain = sub.add_parser(
        "explain",
        help="which words push each label up or down",
        description="Per-word log-odds contributions: exact for TF-IDF models, by removing "
        "one word at a time (occlusion) for transformers. Shown per label: the main label "
        "and every label predicted positive, unless --label or --all-labels.",
    )
    explain.add_argument("model", metavar="RUN_DIR", help="run directory or its model/")
    explain.add_argument("texts", metavar="TEXT", nargs="+", help="tweets to explain")
    which = explain.add_mutually_exclusive_group()
    which.add_argument(
        "--label", action="append", metavar="LABEL", help="label to explain (repeatable)"
    )
    which.add_argument("--all-labels", action="store_true", help="show every label")
    explain.add_argument(
        "--top", type=_positive, default=5, help="words listed up and down (default 5)"
    )
    explain.add_argument("--json", action="store_true", help="print JSON, one object per text")
    explain.add_argument(
        "--max-words",
        type=_positive,
        default=MAX_WORDS,
        help=f"most words explained by occlusion (default {MAX_WORDS}; the work grows with "
        "the square of the word count)",
    )
    _add_runtime_options(explain)
    explain.set_defaults(func=cmd_explain)

    export = sub.add_parser("export", help="write an ONNX copy (fp32 or int8) of a model")
    export.add_argument("model", metavar="RUN_DIR", help="run directory or its model/")
    export.add_argument("--format", choices=["onnx"], default="onnx", help="export format")
    export.add_argument(
        "--quantize", choices=["int8"], help="int8 dynamic quantisation of the weights"
    )
    export.add_argument(
        "-o", "--output", help="directory to write (default: beside the model, model-onnx[-int8])"
    )
    export.add_argument(
        "--opset", type=_positive, default=OPSET, help=f"ONNX opset (default {OPSET})"
    )
    export.add_argument("--overwrite", action="store_true", help="replace OUT_DIR")
    export.set_defaults(func=cmd_export)

    serve = sub.add_parser(
        "serve",
        help="HTTP API around a model",
        description="Serve a model over HTTP (FastAPI). Set ODIO_API_TOKEN to require "
        "'Authorization: Bearer <token>' on /v1 endpoints.",
    )
    serve.add_argument("model", metavar="RUN_DIR", help="run directory or its model/")
    serve.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    serve.add_argument("--port", type=_positive, default=8000, help="port (default 8000)")
    _add_runtime_options(serve)
    limits = ServeSettings()
    serve.add_argument(
        "--max-texts",
        type=_positive,
        default=limits.max_texts,
        help=f"texts per request (default {limits.max_texts})",
    )
    serve.add_argument(
        "--max-chars",
        type=_positive,
        default=limits.max_chars,
        help=f"characters per text (default {limits.max_chars})",
    )
    serve.add_argument(
        "--max-explain-words",
        type=_positive,
        default=limits.max_explain_words,
        help=f"words per /v1/explain text, for occlusion (default {limits.max_explain_words})",
    )
    serve.add_argument(
        "--max-queued",
        type=_non_negative,
        default=limits.max_queued,
        help="scoring requests that may wait while one runs; past it 503 with Retry-After "
        f"(default {limits.max_queued})",
    )
    serve.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    serve.set_defaults(func=cmd_serve)

    report = sub.add_parser("report", help="HTML and Markdown report of a run, with figures")
    report.add_argument("run", metavar="RUN_DIR", help="run directory written by odio train")
    report.add_argument(
        "-o", "--output", metavar="OUT_DIR", help="directory to write (default: RUN_DIR)"
    )
    report.set_defaults(func=cmd_report)

    compare = sub.add_parser("compare", help="one table of several runs' settings and scores")
    compare.add_argument("runs", metavar="RUN_DIR", nargs="+", help="run directories")
    compare.add_argument(
        "--sort",
        metavar="METRIC",
        help="column to sort by, best first (default: test_f1_custom_tuned when every run "
        "has a test set, else oof_f1_custom_tuned)",
    )
    compare.add_argument(
        "--format", choices=["markdown", "csv"], default="markdown", help="table format"
    )
    compare.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")
    compare.set_defaults(func=cmd_compare)
    return parser


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived: unwinds like Ctrl-C, so outputs being built are removed."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated(signum)


def _catch_termination() -> dict[int, Any]:
    """Turn SIGTERM and SIGHUP into :class:`Terminated` (main thread only); the previous
    handlers, to restore."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    names = ("SIGTERM", "SIGHUP")
    signums = [getattr(signal, name) for name in names if hasattr(signal, name)]
    return {signum: signal.signal(signum, _terminate) for signum in signums}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``odio`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    saved = log.level, log.propagate
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    # uvicorn shuts the server down gracefully on SIGTERM itself, then lets it end the process
    previous = _catch_termination() if args.command != "serve" else {}
    try:
        return args.func(args)
    except OdioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Terminated as exc:
        print(f"terminated by {signal.Signals(exc.signum).name}", file=sys.stderr)
        return 128 + exc.signum
    finally:
        for signum, previous_handler in previous.items():
            signal.signal(signum, previous_handler)
        log.removeHandler(handler)
        log.level, log.propagate = saved


if __name__ == "__main__":
    raise SystemExit(main())
