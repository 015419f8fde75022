"""``odio train``: cross-validate, score the test set, write the run directory."""

from __future__ import annotations

import argparse

from odio.cli import common, flags

SUMMARY = "k-fold training, blending and evaluation"
DESCRIPTION = (
    "Train one model per fold (k-fold cross-validation), keep the out-of-fold "
    "predictions, tune a threshold per label on them, blend the fold models and score "
    "the test file with them. Writes a run directory: the model, metrics.json, oof.csv, "
    "test_predictions.csv and the config that reproduces it. With --check, the finished "
    "run's model is then scored on the functional test suite (evaluation only) and its "
    "accuracy recorded in metrics.json. An encoder run keeps OUT_DIR.partial while it "
    "trains (finished folds, a resume point of the current one); --resume continues a "
    "stopped run from there."
)
EXAMPLES = [
    "odio train examples/tweets_sample.csv --out runs/example",
    "odio train tweets_train.csv --test tweets_test.csv --model tfidf --out runs/tfidf",
    "odio train train.csv --model intfloat/multilingual-e5-small --config run.yaml --out runs/e5",
    "odio train tweets_train.csv --config runs/tfidf/config.yaml --out runs/again",
    "odio train tweets_train.csv --test tweets_test.csv --check --out runs/checked",
    "odio train train.csv --model intfloat/multilingual-e5-small --out runs/e5 --resume",
]
LIST_OPTIONS = ("--labels", "--positive")
"""The list options that could swallow TRAIN (``--labels Odio tweets.csv``)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "train",
        metavar="TRAIN",
        nargs="+",
        help="labelled tweets (CSV, TSV, JSONL, JSON, Parquet); more files are extra "
        "training sources: in every fold's training set, never scored, their missing labels "
        "unknown (per-source settings: data.sources in --config)",
    )
    parser.add_argument(
        "--test", metavar="FILE", help="labelled test file, scored by the blended fold models"
    )
    parser.add_argument("--out", required=True, metavar="OUT_DIR", help="run directory to write")
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="YAML run settings, e.g. a run's config.yaml (flags override it)",
    )
    flags.add_setting_flags(parser)
    parser.add_argument("--overwrite", action="store_true", help="replace an existing run")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the encoder run that a stopped odio train of the same settings and "
        "data left in OUT_DIR.partial (finished folds kept, the current one from its last "
        "resume point)",
    )
    engine = common.add_engine_options(
        parser, "folds one after another here; ray: each fold a Ray task"
    )
    engine.add_argument(
        "--fold-cpus", type=common.resources, default=1.0, help="CPUs per fold with --engine ray"
    )
    engine.add_argument(
        "--fold-gpus", type=common.resources, default=0.0, help="GPUs per fold with --engine ray"
    )


def run(args: argparse.Namespace) -> int:
    """Train and print the run's summary."""
    from odio.reports.console import format_summary
    from odio.training.engines import create_engine
    from odio.training.run import is_first_process, train_run

    config = flags.run_config(args, args.config, sources=args.train[1:])
    common.check_engine(args)
    suite = None
    if config.checks.enabled:  # a suite that cannot score this run fails before training
        from odio.checks.record import suite_for_labels

        suite = suite_for_labels(config.data.label_names, config.checks.suite)
    engine = create_engine(
        args.engine, address=args.address, fold_cpus=args.fold_cpus, fold_gpus=args.fold_gpus
    )
    metrics = train_run(
        config,
        args.train[0],
        args.out,
        test_path=args.test,
        overwrite=args.overwrite,
        resume=args.resume,
        progress=not args.quiet,
        engine=engine,
    )
    if not is_first_process():  # a later rank of a multi-process launch: rank 0 reports
        return 0
    if suite is not None:
        from odio.checks.record import check_run

        metrics["checks"] = check_run(args.out, suite, progress=not args.quiet)
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
    if "checks" in metrics:
        from odio.checks.record import check_summary

        print(check_summary(metrics["checks"]))
    return 0
