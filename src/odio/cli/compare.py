"""``odio compare``: one table of several runs' settings and scores."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

SUMMARY = "one table of several runs' settings and scores"
DESCRIPTION = (
    "Compare runs (and evaluations written by odio evaluate --out) in one table of their "
    "settings and scores, ranked within groups that share training data, labels and "
    "headline metric."
)
EXAMPLES = [
    "odio compare runs/tfidf runs/e5 runs/stack",
    "odio compare runs/* --format csv -o runs.csv",
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("runs", metavar="RUN_DIR", nargs="+", help="run directories")
    parser.add_argument(
        "--sort",
        metavar="METRIC",
        help="column to sort by, best first (default: test_f1_custom_tuned when every run "
        "has a test set, else oof_f1_custom_tuned)",
    )
    parser.add_argument(
        "--format", choices=["markdown", "csv"], default="markdown", help="table format"
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")
    parser.add_argument(
        "--force",
        action="store_true",
        help="rank every run together, even across training data, labels and metrics",
    )


def run(args: argparse.Namespace) -> int:
    """Print (or write) the comparison table."""
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
