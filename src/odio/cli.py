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
import sys
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
    from odio.training.engines import create_engine

    _check_engine(args)
    engine = create_engine(
        args.engine, address=args.address, fold_cpus=args.fold_cpus, fold_gpus=args.fold_gpus
    )
    metrics = train_run(
        config,
        args.train,
        args.out,
        test_path=args.test,
        overwrite=args.overwrite,
        progress=not args.quiet,
        engine=engine,
    )
    print(format_summary(metrics))
    read = metrics["data"]["train"]["label_format"]
    how = f"votes >= {metrics['min_votes']}" if read == "votes" else read
    print(f"\nlabels: {', '.join(metrics['labels'])} (read as {how})")
    objectives = metrics["threshold_objectives"]
    print(
        "thresholds: "
        + ", ".join(f"{k} {v:.2f} ({objectives[k]})" for k, v in metrics["thresholds"].items())
        + ("" if metrics["decision_rule"] == "independent" else f"; {metrics['decision_rule']}")
    )
    print(f"run written to {args.out} in {metrics['seconds']:.1f}s")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """``odio evaluate``: score a saved model on a labelled file."""
    from odio.inference.evaluate import evaluate_run
    from odio.reports.console import format_scores

    data = {key.split(".", 1)[1]: getattr(args, _dest(key)) for key in EVALUATE_DATA}
    result = evaluate_run(
        args.model,
        args.data,
        data=data,
        thresholds=_thresholds(args.threshold),
        runtime=_runtime(args.runtime),
        threads=args.threads,
    )
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    from odio.data.labelled import LoadReport

    print(LoadReport(**result["data"]).summary())
    print(f"headline metric: {result['metric']}; decision rule: {result['decision_rule']}")
    print("\nat threshold 0.5")
    print(format_scores(result["at_0.5"]))
    print("\nat the tuned thresholds " + json.dumps(result["thresholds"], ensure_ascii=False))
    print(format_scores(result["tuned"]))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    """``odio predict``: add probability and 0/1 columns to every row of a file."""
    from odio.data.tables import STDIN, Table
    from odio.inference.batch import predict_file
    from odio.inference.detector import Detector

    _check_engine(args)
    if args.engine == "ray":
        return _predict_on_ray(args)

    detector = Detector.load(args.model, runtime=_runtime(args.runtime), threads=args.threads)
    detector = detector.with_thresholds(_thresholds(args.threshold))
    text_column = args.text_column or detector.info.get("data", {}).get("text_column", "text")
    source = Table(args.input, format=args.format, sep=args.sep, encoding=args.encoding)
    if args.output:
        output = args.output
    elif args.input == STDIN:
        output = STDIN
    else:
        inp = Path(args.input)
        output = str(inp.with_name(f"{inp.stem}.predictions{inp.suffix}").name)
    report = predict_file(
        detector,
        source,
        output,
        text_column=text_column,
        chunksize=args.chunksize,
        out_format=args.output_format,
        progress=not args.quiet,
    )
    print(report.summary(), file=sys.stderr if output == STDIN else sys.stdout)
    return 0


def _predict_on_ray(args: argparse.Namespace) -> int:
    """``odio predict --engine ray``: the same output, scored by a pool of Ray actors."""
    from odio.inference.distributed import predict_on_ray

    output = args.output
    if output is None and Path(args.input).is_file():
        inp = Path(args.input)
        output = str(inp.with_name(f"{inp.stem}.predictions{inp.suffix}").name)
    if output is None:
        raise OdioError("--engine ray on a folder or URI needs -o OUTPUT")
    report = predict_on_ray(
        args.model,
        args.input,
        output,
        text_column=args.text_column,
        thresholds=_thresholds(args.threshold),
        runtime=_runtime(args.runtime),
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


def cmd_explain(args: argparse.Namespace) -> int:
    """``odio explain``: which words push each label up or down, for each text."""
    from odio.inference.detector import Detector
    from odio.inference.explain import default_labels, format_explanation

    detector = Detector.load(args.model, runtime=_runtime(args.runtime), threads=args.threads)
    explanations = [detector.explain(text, args.label) for text in args.texts]
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

    settings = ServeSettings.from_env(max_texts=args.max_texts, max_chars=args.max_chars)
    detector = Detector.load(args.model, runtime=_runtime(args.runtime), threads=args.threads)
    detector = detector.with_thresholds(_thresholds(args.threshold))
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

    frame = sort_runs(compare_runs(args.runs), args.sort, force=args.force)
    table = format_comparison(frame, args.format)
    groups = frame["group"].nunique()
    if groups > 1 and not args.force:
        print(
            f"{groups} groups (column 'group'): runs trained on other data or labels, or "
            "scored by another metric, are ranked only within their group (--force ranks "
            "them all together)",
            file=sys.stderr,
        )
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


def _add_setting_flags(
    parser: argparse.ArgumentParser, keys: Sequence[str] | None = None, default: str | None = None
) -> None:
    """One flag per setting of :data:`odio.config.FLAGS` (or of ``keys``), its help the
    setting's docstring and its default (or ``default``, e.g. "as the model was trained").

    Values stay strings here: the config validates them and names the flag on a mistake.
    """
    from odio.config import FLAGS, setting_default, setting_help

    groups: dict[str, Any] = {}
    for key, flag in FLAGS.items():
        if keys is not None and key not in keys:
            continue
        section = key.split(".")[0] if "." in key else "run"
        if section not in groups:
            title = {"run": None, "transformer": "transformer settings (more in --config)"}
            groups[section] = (
                parser.add_argument_group(title[section]) if title.get(section) else parser
            )
        value = setting_default(key)
        shown = default or (" ".join(value) if isinstance(value, list) else value)
        help_text = setting_help(key)
        if "(default:" not in help_text:
            help_text += f" (default: {shown})"
        options: dict[str, Any] = {"dest": _dest(key), "help": help_text}
        if isinstance(value, bool):
            options.update(action="store_true", default=None)
        elif isinstance(value, list) or key == "data.positive":
            options.update(nargs="+", metavar=key.split(".")[-1].upper().rstrip("S"))
        else:
            options["metavar"] = key.split(".")[-1].upper()
        groups[section].add_argument(flag, **options)


EVALUATE_DATA = (
    "data.text_column",
    "data.labels",
    "data.label_format",
    "data.min_votes",
    "data.positive",
    "data.id_column",
    "data.sep",
    "data.encoding",
)
"""The data settings ``odio evaluate`` takes as flags."""


def _add_threshold_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threshold",
        action="append",
        metavar="LABEL=VALUE",
        help="decision threshold of a label, instead of the tuned one (repeatable)",
    )


def _thresholds(values: Sequence[str] | None) -> dict[str, float]:
    """``["Odio=0.7"]`` -> ``{"Odio": 0.7}``, with a clear error for a malformed one.

    >>> _thresholds(["Odio=0.7", "Comunidad LGBTQ+=0.4"])
    {'Odio': 0.7, 'Comunidad LGBTQ+': 0.4}
    """
    out = {}
    for value in values or []:
        label, _, number = value.rpartition("=")
        try:
            out[label.strip()] = float(number)
        except ValueError:
            label = ""
        if not label.strip():
            raise OdioError(f"--threshold takes LABEL=VALUE, e.g. Odio=0.7; got {value!r}")
    return out


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


def _add_engine_options(parser: argparse.ArgumentParser, local: str) -> Any:
    group = parser.add_argument_group("engine (ray needs the ray extra: pip install 'odio[ray]')")
    group.add_argument(
        "--engine", choices=["local", "ray"], default="local", help=f"local (default): {local}"
    )
    group.add_argument(
        "--address",
        help="Ray cluster to use with --engine ray: auto, or ray://HEAD:10001 (default: "
        "RAY_ADDRESS, else a local Ray on this machine's cores)",
    )
    return group


RAY_ONLY = {
    "address": None,
    "fold_cpus": 1.0,
    "fold_gpus": 0.0,
    "actors": None,
    "batch_size": 512,
    "actor_cpus": 1.0,
    "actor_gpus": 0.0,
}
"""Options that only --engine ray reads, with their defaults."""


def _check_engine(args: argparse.Namespace) -> None:
    """A Ray option without ``--engine ray`` is a mistake, not something to ignore."""
    if args.engine == "ray":
        return
    for name, default in RAY_ONLY.items():
        if getattr(args, name, default) != default:
            flag = "--" + name.replace("_", "-")
            raise OdioError(f"{flag} is a setting of --engine ray: add --engine ray or drop it")


def _resources(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if number < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value!r}")
    return number


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value!r}")
    return number


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
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
    engine = _add_engine_options(train, "folds one after another here; ray: each fold a Ray task")
    engine.add_argument(
        "--fold-cpus",
        type=_resources,
        default=1.0,
        help="CPUs per fold with --engine ray (default 1)",
    )
    engine.add_argument(
        "--fold-gpus",
        type=_resources,
        default=0.0,
        help="GPUs per fold with --engine ray (default 0)",
    )
    train.set_defaults(func=cmd_train)

    evaluate = sub.add_parser(
        "evaluate",
        help="score a saved model on labelled data",
        description="Score a saved model on a labelled file. The file may have another text "
        "column, a label column of another name (--labels HS=Odio), text labels (--positive) "
        "or only some of the model's labels.",
    )
    evaluate.add_argument("model", metavar="RUN_DIR", help="run directory or its model/")
    evaluate.add_argument("data", metavar="DATA", help="labelled tweets")
    from odio.config import TRAINED_DATA

    trained = [key for key in EVALUATE_DATA if key.split(".", 1)[1] in TRAINED_DATA]
    _add_setting_flags(evaluate, trained, default="as the model was trained")
    _add_setting_flags(evaluate, [key for key in EVALUATE_DATA if key not in trained])
    _add_threshold_option(evaluate)
    evaluate.add_argument("--json", action="store_true", help="print JSON")
    _add_runtime_options(evaluate)
    evaluate.set_defaults(func=cmd_evaluate)

    predict = sub.add_parser("predict", help="score a file of tweets")
    predict.add_argument("model", metavar="RUN_DIR", help="run directory or its model/")
    predict.add_argument(
        "input",
        metavar="INPUT",
        help="CSV, TSV, JSONL, JSON or Parquet with a text column; - reads standard input",
    )
    predict.add_argument(
        "-o",
        "--output",
        help="output file; - writes standard output (default: INPUT's name + .predictions, "
        "here; standard output when INPUT is -)",
    )
    predict.add_argument("--text-column", help="text column (default: the model's)")
    predict.add_argument(
        "--format",
        help="INPUT's format: csv, tsv, jsonl, json, parquet (default: from its name; csv for -)",
    )
    predict.add_argument(
        "--output-format", help="the output's format (default: from its name; INPUT's for -)"
    )
    predict.add_argument("--sep", help="INPUT's delimiter (default: from its name or header line)")
    predict.add_argument(
        "--chunksize", type=int, default=4096, help="rows per chunk (default 4096)"
    )
    predict.add_argument("--encoding", default="utf-8", help="INPUT's encoding (default utf-8)")
    _add_threshold_option(predict)
    _add_runtime_options(predict)
    predict.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    engine = _add_engine_options(
        predict, "stream the file here; ray: Ray Data, a file or a folder, a pool of actors"
    )
    engine.add_argument(
        "--actors",
        type=_positive,
        help="actors scoring at once with --engine ray (default: as many as the CPUs, or "
        "GPUs with --actor-gpus, hold)",
    )
    engine.add_argument(
        "--batch-size",
        type=_positive,
        default=512,
        help="rows per batch sent to an actor with --engine ray (default 512)",
    )
    engine.add_argument(
        "--actor-cpus", type=_resources, default=1.0, help="CPUs per actor (default 1)"
    )
    engine.add_argument(
        "--actor-gpus", type=_resources, default=0.0, help="GPUs per actor (default 0)"
    )
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
    _add_threshold_option(serve)
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
    compare.add_argument(
        "--force",
        action="store_true",
        help="rank every run together, even across training data, labels and metrics",
    )
    compare.set_defaults(func=cmd_compare)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``odio`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    saved = log.level, log.propagate
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    try:
        return args.func(args)
    except OdioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        log.removeHandler(handler)
        log.level, log.propagate = saved


if __name__ == "__main__":
    raise SystemExit(main())
