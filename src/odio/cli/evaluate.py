"""``odio evaluate``: score a saved model on a labelled file."""

from __future__ import annotations

import argparse

from odio.cli import common, flags

SUMMARY = "score a saved model on labelled data"
DESCRIPTION = (
    "Score a saved model on a labelled file, at 0.5 and at its tuned thresholds. The file "
    "may have another text column, a label column of another name (--labels HS=Odio), "
    "text labels (--positive) or only some of the model's labels."
)
EXAMPLES = [
    "odio evaluate runs/tfidf tweets_test.csv",
    "odio evaluate runs/tfidf other.tsv --text-column tweet --labels HS=Odio --json",
    "odio evaluate hf:pysentimiento/robertuito-hate-speech tweets_test.csv --labels "
    "Odio=hateful --out runs/pysentimiento",
]
DATA = (
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
LIST_OPTIONS = ("--labels", "--positive")
"""The list options that could swallow FILE (``--labels HS=Odio other.tsv``)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from odio.config import TRAINED_DATA

    parser.add_argument("model", metavar="MODEL", help=common.MODEL_HELP)
    parser.add_argument("data", metavar="FILE", help="labelled tweets")
    parser.add_argument(
        "--out",
        metavar="OUT_DIR",
        help="also write the evaluation here (metrics.json, test_predictions.csv) for odio compare",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an earlier --out")
    trained = [key for key in DATA if key.split(".", 1)[1] in TRAINED_DATA]
    flags.add_setting_flags(parser, trained, default="as the model was trained")
    flags.add_setting_flags(parser, [key for key in DATA if key not in trained])
    common.add_threshold_option(parser)
    parser.add_argument("--json", action="store_true", help="print JSON")
    common.add_runtime_options(parser)


def run(args: argparse.Namespace) -> int:
    """Evaluate and print the scores (or JSON)."""
    import json

    from odio.data.labelled import LoadReport
    from odio.inference.evaluate import evaluate_run
    from odio.reports.console import format_scores

    result = evaluate_run(
        args.model,
        args.data,
        data=flags.given_settings(args, DATA).get("data", {}),
        thresholds=common.thresholds(args.threshold),
        runtime=common.runtime(args.runtime),
        threads=args.threads,
        out=args.out,
        overwrite=args.overwrite,
    )
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    print(LoadReport(**result["data"]).summary())
    print(f"headline metric: {result['metric']}; decision rule: {result['decision_rule']}")
    print("\nat threshold 0.5")
    print(format_scores(result["at_0.5"]))
    print("\nat the tuned thresholds " + json.dumps(result["thresholds"], ensure_ascii=False))
    print(format_scores(result["tuned"]))
    return 0
