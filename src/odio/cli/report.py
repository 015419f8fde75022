"""``odio report``: an HTML and a Markdown report of a run, with figures."""

from __future__ import annotations

import argparse

SUMMARY = "HTML and Markdown report of a run, with figures"
DESCRIPTION = (
    "Write report.html and report.md for a run: scores per fold and overall, learning "
    "curves, threshold and precision-recall curves, confusion counts, example errors."
)
EXAMPLES = ["odio report runs/tfidf", "odio report runs/e5 --check -o reports/e5"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from odio.checks.suite import DEFAULT_SUITE

    parser.add_argument("run", metavar="RUN_DIR", help="run directory written by odio train")
    parser.add_argument(
        "-o", "--output", metavar="OUT_DIR", help="directory to write (default: RUN_DIR)"
    )
    parser.add_argument(
        "--check",
        action="append",
        nargs="?",
        const=DEFAULT_SUITE,
        metavar="SUITE",
        help=f"add a functional tests section for a suite (default {DEFAULT_SUITE}; repeatable)",
    )


def run(args: argparse.Namespace) -> int:
    """Write the report and print where."""
    from odio.reports.report import write_report

    print(write_report(args.run, args.output, check=args.check).summary())
    return 0
