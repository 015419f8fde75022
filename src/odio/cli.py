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
    extra = [{"path": path} for path in args.train[1:]]
    if extra:
        base.setdefault("data", {})
        base["data"]["sources"] = [*(base["data"].get("sources") or []), *extra]
    config = RunConfig.from_dict(base)
    from odio.training.engines import create_engine

    _check_engine(args)
    engine = create_engine(
        args.engine, address=args.address, fold_cpus=args.fold_cpus, fold_gpus=args.fold_gpus
    )
    metrics = train_run(
        config,
        args.train[0],
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
        out=args.out,
        overwrite=args.overwrite,
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
    """``odio predict``: add probability and 0/1 columns to every row of a file, or score
    the ``--text`` texts."""
    from odio.data.tables import STDIN, Table
    from odio.inference.batch import predict_file
    from odio.inference.detector import Detector

    if (args.input is None) == (args.text is None):
        raise OdioError("give a file to score (INPUT, or - for standard input) or --text, not both")
    _check_engine(args)
    if args.engine == "ray":
        if args.text is not None:
            raise OdioError("--engine ray scores files; score --text here")
        return _predict_on_ray(args)
    detector = Detector.load(args.model, runtime=_runtime(args.runtime), threads=args.threads)
    detector = detector.with_thresholds(_thresholds(args.threshold))
    if args.text is not None:
        from odio.reports.console import format_predictions

        predictions = detector.predict(args.text)
        if args.json:
            out = [{"text": t, **p} for t, p in zip(args.text, predictions, strict=True)]
            print(json.dumps(out, indent=2, ensure_ascii=False))
        else:
            print(format_predictions(args.text, predictions))
        return 0
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


def cmd_info(args: argparse.Namespace) -> int:
    """``odio info``: what a model is (labels, thresholds, scores, backend, size, versions)."""
    from odio.inference.detector import HF_PREFIX, Detector
    from odio.inference.summary import format_summary, model_summary
    from odio.models.modeldir import find_model_dir

    detector = Detector.load(args.model)
    local = None if args.model.startswith(HF_PREFIX) else find_model_dir(args.model)
    summary = model_summary(detector, local)
    print(
        json.dumps(summary, indent=2, ensure_ascii=False) if args.json else format_summary(summary)
    )
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


def cmd_distill(args: argparse.Namespace) -> int:
    """``odio distill``: one student model trained on a run's fold ensemble."""
    from odio.training.distill import distill_run

    result = distill_run(
        args.run,
        args.out,
        unlabelled=args.unlabelled,
        student=args.student,
        overwrite=args.overwrite,
        progress=not args.quiet,
    )
    print(f"student written to {args.out} ({result['rows']} rows, {result['seconds']:.1f}s)")
    for name in ("teacher", "student"):
        tuned = result.get(name, {}).get("test", {}).get("tuned")
        if tuned:
            metric = tuned["metric"]
            print(f"{name} on the run's test set (tuned): {metric} {tuned[metric]:.4f}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """``odio export``: write an ONNX copy (fp32 or int8) of a transformer model."""
    from odio.models.export import export_onnx

    int8 = args.quantize == "int8"
    output = args.output or _default_export_dir(args.model, int8)
    calibration = _calibration_texts(args) if int8 else None
    report = export_onnx(
        args.model,
        output,
        int8=int8,
        calibration=calibration,
        opset=args.opset,
        overwrite=args.overwrite,
    )
    print(report.summary())
    return 0


def _calibration_texts(args: argparse.Namespace) -> list[str]:
    """The tweets of ``--calibration FILE``, or else the training tweets of the run the model
    comes from (its ``oof.csv``; for a distilled model, its teacher's)."""
    from odio.data.tables import read_table, require_columns
    from odio.models.modeldir import find_model_dir, read_config

    if args.calibration:
        frame = read_table(args.calibration)
        require_columns(args.calibration, frame, [args.text_column])
        return frame[args.text_column].tolist()
    model = find_model_dir(args.model)
    teacher = read_config(model).get("distilled_from", {}).get("run")
    for run in (model, model.parent, *([Path(teacher)] if teacher else [])):
        if (run / "oof.csv").is_file():
            return read_table(run / "oof.csv")["text"].tolist()
    raise OdioError(
        f"an int8 export calibrates on tweets like the ones the model will score, and "
        f"{args.model} is not in a run directory with its training tweets (oof.csv): "
        "give --calibration FILE"
    )


def cmd_serve(args: argparse.Namespace) -> int:
    """``odio serve``: an HTTP API around a model (token from ``ODIO_API_TOKEN``)."""
    from odio.serve.server import DetectorSpec, serve
    from odio.serve.settings import ServeSettings

    settings = ServeSettings.from_env(
        max_texts=args.max_texts,
        max_chars=args.max_chars,
        max_explain_words=args.max_explain_words,
        max_queued=args.max_queued,
        max_batch=args.max_batch,
        max_wait_ms=args.max_wait_ms,
    )
    spec = DetectorSpec(
        args.model,
        runtime=_runtime(args.runtime),
        threads=args.threads,
        thresholds=_thresholds(args.threshold),
    )
    serve(
        spec,
        settings,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
    )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """``odio report``: an HTML and a Markdown report of a run, with figures."""
    from odio.reports.report import write_report

    print(write_report(args.run, args.output, check=args.check).summary())
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


def cmd_check(args: argparse.Namespace) -> int:
    """``odio check``: functional tests of a model, one or more suites."""
    from odio.checks.run import run_check
    from odio.checks.suite import load_suite
    from odio.inference.detector import Detector
    from odio.reports.checks import format_check

    label_map = {}
    for value in args.map or []:
        model_label, _, suite_label = value.partition("=")
        if not model_label.strip() or not suite_label.strip():
            raise OdioError(f"--map takes MODEL_LABEL=SUITE_LABEL, e.g. HS=Odio; got {value!r}")
        label_map[model_label.strip()] = suite_label.strip()
    suites = [load_suite(name) for name in args.suites or [None]]
    detector = Detector.load(args.model, runtime=_runtime(args.runtime), threads=args.threads)
    detector = detector.with_thresholds(_thresholds(args.threshold))
    results = []
    for suite in suites:
        results.append(
            run_check(
                detector,
                suite,
                label_map=label_map,
                labels=args.labels,
                run_dir=args.model,
                progress=not args.quiet,
            )
        )
    if args.json:
        out = {"model": args.model, "suites": [r.to_dict() for r in results]}
        print(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        print("\n\n".join(format_check(r, args.failures) for r in results))
    minimum = args.min_accuracy
    below = [r for r in results if minimum is not None and not r.accuracy >= minimum]
    for r in below:
        print(
            f"{r.suite.name}: accuracy {r.accuracy:.4f} is below --min-accuracy {minimum}",
            file=sys.stderr,
        )
    return 1 if below else 0


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
        "--engine", choices=["local", "ray"], default="local", help=f"local: {local}"
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


def _fraction(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 <= number <= 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {value!r}")
    return number


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


MODEL_HELP = (
    "run directory, its model/ directory, or hf:ID (a Hugging Face sequence-classification "
    "checkpoint, a hub id or a local directory)"
)


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and examples as written; every option's default shown."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        silent = action.default in (None, False, argparse.SUPPRESS) or action.required
        if silent or "default" in text or not action.option_strings:
            return text
        return f"{text} (default: %(default)s)"


def _command(
    sub: Any, name: str, summary: str, description: str, examples: Sequence[str]
) -> argparse.ArgumentParser:
    """A subcommand with its one-line summary, description, examples and -q/-v."""
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=summary,
        description=description,
        epilog="examples:\n" + "\n".join(f"  {example}" for example in examples),
        formatter_class=_HelpFormatter,
    )
    loudness = parser.add_mutually_exclusive_group()
    loudness.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bars, only warnings and errors"
    )
    loudness.add_argument("-v", "--verbose", action="store_true", help="debug messages too")
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    from odio.checks.suite import DEFAULT_SUITE
    from odio.config import TRAINED_DATA
    from odio.inference.explain import MAX_WORDS
    from odio.models.export import OPSET
    from odio.serve.settings import ServeSettings

    parser = argparse.ArgumentParser(
        prog="odio",
        description="Hate-speech detection for Spanish tweets: train with k-fold "
        "cross-validation, evaluate, score files, explain, check, export and serve.",
        epilog="examples:\n"
        "  odio train examples/tweets_sample.csv --out runs/example\n"
        "  odio predict runs/example --text 'ándate a tu país'\n"
        "  odio COMMAND --help",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"odio {VERSION}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = _command(
        sub,
        "train",
        "k-fold training, blending and evaluation",
        "Train one model per fold (k-fold cross-validation), keep the out-of-fold "
        "predictions, tune a threshold per label on them, blend the fold models and score "
        "the test file with them. Writes a run directory: the model, metrics.json, oof.csv, "
        "test_predictions.csv and the config that reproduces it.",
        [
            "odio train examples/tweets_sample.csv --out runs/example",
            "odio train tweets_train.csv --test tweets_test.csv --model tfidf --out runs/tfidf",
            "odio train train.csv --model intfloat/multilingual-e5-small --config run.yaml "
            "--out runs/e5",
            "odio train tweets_train.csv --config runs/tfidf/config.yaml --out runs/again",
        ],
    )
    train.add_argument(
        "train",
        metavar="TRAIN",
        nargs="+",
        help="labelled tweets (CSV, TSV, JSONL, JSON, Parquet); more files are extra training "
        "sources: in every fold's training set, never scored, their missing labels unknown "
        "(per-source settings: data.sources in --config)",
    )
    train.add_argument(
        "--test", metavar="FILE", help="labelled test file, scored by the blended fold models"
    )
    train.add_argument("--out", required=True, metavar="OUT_DIR", help="run directory to write")
    train.add_argument(
        "--config",
        metavar="FILE",
        help="YAML run settings, e.g. a run's config.yaml (flags override it)",
    )
    _add_setting_flags(train)
    train.add_argument("--overwrite", action="store_true", help="replace an existing run")
    engine = _add_engine_options(train, "folds one after another here; ray: each fold a Ray task")
    engine.add_argument(
        "--fold-cpus",
        type=_resources,
        default=1.0,
        help="CPUs per fold with --engine ray",
    )
    engine.add_argument(
        "--fold-gpus",
        type=_resources,
        default=0.0,
        help="GPUs per fold with --engine ray",
    )
    train.set_defaults(func=cmd_train)

    evaluate = _command(
        sub,
        "evaluate",
        "score a saved model on labelled data",
        "Score a saved model on a labelled file, at 0.5 and at its tuned thresholds. The file "
        "may have another text column, a label column of another name (--labels HS=Odio), "
        "text labels (--positive) or only some of the model's labels.",
        [
            "odio evaluate runs/tfidf tweets_test.csv",
            "odio evaluate runs/tfidf other.tsv --text-column tweet --labels HS=Odio --json",
            "odio evaluate hf:pysentimiento/robertuito-hate-speech tweets_test.csv --labels "
            "Odio=hateful --out runs/pysentimiento",
        ],
    )
    evaluate.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    evaluate.add_argument("data", metavar="FILE", help="labelled tweets")
    evaluate.add_argument(
        "--out",
        metavar="OUT_DIR",
        help="also write the evaluation here (metrics.json, test_predictions.csv) for odio compare",
    )
    evaluate.add_argument("--overwrite", action="store_true", help="replace an earlier --out")
    trained = [key for key in EVALUATE_DATA if key.split(".", 1)[1] in TRAINED_DATA]
    _add_setting_flags(evaluate, trained, default="as the model was trained")
    _add_setting_flags(evaluate, [key for key in EVALUATE_DATA if key not in trained])
    _add_threshold_option(evaluate)
    evaluate.add_argument("--json", action="store_true", help="print JSON")
    _add_runtime_options(evaluate)
    evaluate.set_defaults(func=cmd_evaluate)

    predict = _command(
        sub,
        "predict",
        "score tweets: a file, standard input or --text",
        "Add prob_<label> and pred_<label> columns to every row of a file (streamed in "
        "chunks, rows and columns kept in order), or score the texts given with --text.",
        [
            "odio predict runs/tfidf tweets.csv -o scored.csv",
            "odio predict runs/tfidf - < tweets.csv > scored.csv",
            "odio predict runs/tfidf --text 'ándate a tu país' --text 'qué rico el completo'",
        ],
    )
    predict.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    predict.add_argument(
        "input",
        metavar="INPUT",
        nargs="?",
        help="CSV, TSV, JSONL, JSON or Parquet with a text column; - reads standard input",
    )
    predict.add_argument(
        "--text",
        action="append",
        metavar="TEXT",
        help="score this text instead of a file (repeatable); results on standard output",
    )
    predict.add_argument("--json", action="store_true", help="with --text: print JSON")
    predict.add_argument(
        "-o",
        "--output",
        metavar="FILE",
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
    predict.add_argument("--chunksize", type=int, default=4096, help="rows per chunk")
    predict.add_argument("--encoding", default="utf-8", help="INPUT's encoding")
    _add_threshold_option(predict)
    _add_runtime_options(predict)
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
        help="rows per batch sent to an actor with --engine ray",
    )
    engine.add_argument("--actor-cpus", type=_resources, default=1.0, help="CPUs per actor")
    engine.add_argument("--actor-gpus", type=_resources, default=0.0, help="GPUs per actor")
    predict.set_defaults(func=cmd_predict)

    info = _command(
        sub,
        "info",
        "what a model is: labels, thresholds, scores, backend, size, versions",
        "Describe a saved model: labels, tuned thresholds and decision rule, backend and "
        "runtime, members, base model, its out-of-fold and test scores, ONNX export facts, "
        "size on disk and the library versions it was trained with.",
        ["odio info runs/tfidf", "odio info runs/e5/model-onnx-int8 --json"],
    )
    info.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(func=cmd_info)

    explain = _command(
        sub,
        "explain",
        "which words push each label up or down",
        "Per-word log-odds contributions: exact for TF-IDF models, by removing one word at a "
        "time (occlusion) for transformers. Shown per label: the main label and every label "
        "predicted positive, unless --label or --all-labels.",
        [
            "odio explain runs/tfidf 'ándate a tu país culiao'",
            "odio explain runs/e5 'las mujeres a la cocina' --label Mujeres --json",
        ],
    )
    explain.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    explain.add_argument("texts", metavar="TEXT", nargs="+", help="tweets to explain")
    which = explain.add_mutually_exclusive_group()
    which.add_argument(
        "--label", action="append", metavar="LABEL", help="label to explain (repeatable)"
    )
    which.add_argument("--all-labels", action="store_true", help="show every label")
    explain.add_argument("--top", type=_positive, default=5, help="words listed up and down")
    explain.add_argument("--json", action="store_true", help="print JSON, one object per text")
    explain.add_argument(
        "--max-words",
        type=_positive,
        default=MAX_WORDS,
        help="most words explained by occlusion (the work grows with the square of the word count)",
    )
    _add_runtime_options(explain)
    explain.set_defaults(func=cmd_explain)

    check = _command(
        sub,
        "check",
        "functional tests: accuracy per kind of text, target group and overall",
        "Score a model on functional test suites: kinds of text (derogation, threats, slurs, "
        "friendly insults, counter-speech, obfuscated spellings...) with the decisions a "
        "hate-speech model should make. A case passes when every label it expects and the "
        "model has is decided as expected. Default suite: es_cl, Chilean Spanish, shipped "
        "with odio; for evaluation only, never train or tune on it.",
        [
            "odio check runs/tfidf",
            "odio check runs/tfidf my_suite.yaml --min-accuracy 0.6 --json",
            "odio check hf:pysentimiento/robertuito-hate-speech --map hateful=Odio",
        ],
    )
    check.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    check.add_argument(
        "suites",
        metavar="SUITE",
        nargs="*",
        help=f"suite YAML files or shipped suite names (default: {DEFAULT_SUITE})",
    )
    check.add_argument("--json", action="store_true", help="print every table and failure as JSON")
    check.add_argument(
        "--min-accuracy",
        type=_fraction,
        metavar="X",
        help="exit with status 1 when a suite's accuracy (the mean over its functionalities) "
        "is below X, in [0, 1]",
    )
    check.add_argument(
        "--failures",
        type=int,
        default=3,
        metavar="N",
        help="failing cases shown per functionality (0: none)",
    )
    check.add_argument(
        "--map",
        action="append",
        metavar="MODEL=SUITE",
        help="score a model label as a suite label of another name, e.g. HS=Odio (repeatable)",
    )
    check.add_argument(
        "--labels",
        nargs="+",
        metavar="LABEL",
        help="score only these suite labels, e.g. --labels Odio (default: all the model has)",
    )
    _add_threshold_option(check)
    _add_runtime_options(check)
    check.set_defaults(func=cmd_check)

    distill = _command(
        sub,
        "distill",
        "one student model trained on a run's fold ensemble",
        "Train one model on a finished run's soft labels (its out-of-fold probabilities, and "
        "the blended ones of --unlabelled tweets): k times faster to score than the k-model "
        "ensemble. It keeps the teacher's thresholds; its card states both test scores.",
        [
            "odio distill runs/e5 --out runs/e5-student",
            "odio distill runs/e5 --out runs/e5-student --unlabelled referenced_tweets.csv",
        ],
    )
    distill.add_argument("run", metavar="RUN_DIR", help="run directory written by odio train")
    distill.add_argument("--out", required=True, metavar="OUT_DIR", help="model directory to write")
    distill.add_argument("--unlabelled", metavar="FILE", help="extra tweets the teacher labels")
    distill.add_argument(
        "--student", metavar="MODEL", help="the student (default: the teacher's model)"
    )
    distill.add_argument(
        "--overwrite", action="store_true", help="replace an earlier model at OUT_DIR"
    )
    distill.set_defaults(func=cmd_distill)

    export = _command(
        sub,
        "export",
        "write an ONNX copy (fp32 or int8) of a model",
        "Export every fold member of a transformer model to ONNX, checked against PyTorch; "
        "the export is a self-contained model directory that runs without PyTorch.",
        [
            "odio export runs/e5",
            "odio export runs/e5 --quantize int8",
            "odio export runs/e5-student --quantize int8 --calibration tweets.csv -o out/",
        ],
    )
    export.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    export.add_argument("--format", choices=["onnx"], default="onnx", help="export format")
    export.add_argument(
        "--quantize",
        choices=["int8"],
        help="int8 static quantisation (weights and activations; see --calibration)",
    )
    export.add_argument(
        "--calibration",
        metavar="FILE",
        help="tweets that calibrate int8 activation ranges (default: the run's training "
        "tweets, oof.csv)",
    )
    export.add_argument("--text-column", default="text", help="text column of --calibration")
    export.add_argument(
        "-o",
        "--output",
        metavar="OUT_DIR",
        help="directory to write (default: beside the model, model-onnx[-int8])",
    )
    export.add_argument("--opset", type=_positive, default=OPSET, help="ONNX opset")
    export.add_argument("--overwrite", action="store_true", help="replace OUT_DIR")
    export.set_defaults(func=cmd_export)

    serve = _command(
        sub,
        "serve",
        "HTTP API around a model",
        "Serve a model over HTTP (FastAPI): POST /v1/predict, /v1/explain, GET /v1/model, "
        "/healthz, /readyz. Concurrent requests are batched into one forward pass. Set "
        "ODIO_API_TOKEN to require 'Authorization: Bearer <token>' on /v1 endpoints.",
        [
            "odio serve runs/tfidf",
            "ODIO_API_TOKEN=secret odio serve runs/e5/model-onnx-int8 --host 0.0.0.0 --workers 2",
        ],
    )
    serve.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=_positive, default=8000, help="port")
    serve.add_argument(
        "--workers",
        type=_positive,
        default=1,
        help="server processes on the same port, each loading the model and batching its own "
        "requests, with the cores shared among them unless --threads is given",
    )
    _add_runtime_options(serve)
    _add_threshold_option(serve)
    limits = ServeSettings()
    serve.add_argument(
        "--max-texts", type=_positive, default=limits.max_texts, help="texts per request"
    )
    serve.add_argument(
        "--max-chars", type=_positive, default=limits.max_chars, help="characters per text"
    )
    serve.add_argument(
        "--max-explain-words",
        type=_positive,
        default=limits.max_explain_words,
        help="words per /v1/explain text, for occlusion",
    )
    serve.add_argument(
        "--max-queued",
        type=_non_negative,
        default=limits.max_queued,
        help="scoring requests held beyond the first (read, waiting or being scored); past it "
        "503 with Retry-After",
    )
    serve.add_argument(
        "--max-batch",
        type=_positive,
        default=limits.max_batch,
        help="most texts scored in one forward pass: concurrent requests are batched up to it; "
        "1 scores one request at a time",
    )
    serve.add_argument(
        "--max-wait-ms",
        type=_non_negative,
        default=limits.max_wait_ms,
        help="milliseconds a batch waits for more requests after its first; 0 takes only "
        "those already waiting",
    )
    serve.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="the server's (uvicorn's) log level",
    )
    serve.set_defaults(func=cmd_serve)

    report = _command(
        sub,
        "report",
        "HTML and Markdown report of a run, with figures",
        "Write report.html and report.md for a run: scores per fold and overall, learning "
        "curves, threshold and precision-recall curves, confusion counts, example errors.",
        ["odio report runs/tfidf", "odio report runs/e5 --check -o reports/e5"],
    )
    report.add_argument("run", metavar="RUN_DIR", help="run directory written by odio train")
    report.add_argument(
        "-o", "--output", metavar="OUT_DIR", help="directory to write (default: RUN_DIR)"
    )
    report.add_argument(
        "--check",
        action="append",
        nargs="?",
        const=DEFAULT_SUITE,
        metavar="SUITE",
        help=f"add a functional tests section for a suite (default {DEFAULT_SUITE}; repeatable)",
    )
    report.set_defaults(func=cmd_report)

    compare = _command(
        sub,
        "compare",
        "one table of several runs' settings and scores",
        "Compare runs (and evaluations written by odio evaluate --out) in one table of their "
        "settings and scores, ranked within groups that share training data, labels and "
        "headline metric.",
        [
            "odio compare runs/tfidf runs/e5 runs/stack",
            "odio compare runs/* --format csv -o runs.csv",
        ],
    )
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
    log.setLevel(logging.WARNING if args.quiet else logging.DEBUG if args.verbose else logging.INFO)
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
