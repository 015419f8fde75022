"""``odio explain``: which words push each label up or down, for each text."""

from __future__ import annotations

import argparse
import os
import sys

from odio.cli import common

SUMMARY = "which words push each label up or down"
DESCRIPTION = (
    "Per-word log-odds contributions: exact for TF-IDF models, by removing one word at a "
    "time (occlusion) for transformers. Shown per label: the main label and every label "
    "predicted positive, unless --label or --all-labels."
)
EXAMPLES = [
    "odio explain runs/tfidf 'ándate a tu país culiao'",
    "odio explain runs/e5 'las mujeres a la cocina' --label Mujeres --json",
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from odio.inference import MAX_WORDS

    parser.add_argument("model", metavar="MODEL", help=common.MODEL_HELP)
    parser.add_argument("texts", metavar="TEXT", nargs="+", help="tweets to explain")
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--label", action="append", metavar="LABEL", help="label to explain (repeatable)"
    )
    which.add_argument("--all-labels", action="store_true", help="show every label")
    parser.add_argument("--top", type=common.positive, default=5, help="words listed up and down")
    parser.add_argument("--json", action="store_true", help="print JSON, one object per text")
    parser.add_argument(
        "--max-words",
        type=common.positive,
        default=MAX_WORDS,
        help="most words explained by occlusion (the work grows with the square of the word count)",
    )
    common.add_runtime_options(parser)


def run(args: argparse.Namespace) -> int:
    """Explain every text and print the explanations (or JSON)."""
    import json

    from odio.reports.explain import default_labels, format_explanation

    detector = common.load_detector(args)
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
