"""``odio check``: functional tests of a model, one or more suites."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from odio.cli import common
from odio.errors import OdioError

SUMMARY = "functional tests: accuracy per kind of text, target group and overall"
DESCRIPTION = (
    "Score a model on functional test suites: kinds of text (derogation, threats, slurs, "
    "friendly insults, counter-speech, obfuscated spellings...) with the decisions a "
    "hate-speech model should make. A case passes when every label it expects and the "
    "model has is decided as expected. Default suite: es_cl, Chilean Spanish, shipped "
    "with odio; for evaluation only, never train or tune on it."
)
LIST_OPTIONS = ("--labels",)
"""The list option that could swallow SUITE files (``--labels Odio my_suite.yaml``)."""
EXAMPLES = [
    "odio check runs/tfidf",
    "odio check runs/tfidf my_suite.yaml --min-accuracy 0.6 --json",
    "odio check hf:pysentimiento/robertuito-hate-speech --map hateful=Odio",
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from odio.checks.suite import DEFAULT_SUITE

    parser.add_argument("model", metavar="MODEL", help=common.MODEL_HELP)
    parser.add_argument(
        "suites",
        metavar="SUITE",
        nargs="*",
        help=f"suite YAML files or shipped suite names (default: {DEFAULT_SUITE})",
    )
    parser.add_argument("--json", action="store_true", help="print every table and failure as JSON")
    parser.add_argument(
        "--min-accuracy",
        type=common.fraction,
        metavar="X",
        help="exit with status 1 when a suite's accuracy (the mean over its functionalities) "
        "is below X, in [0, 1]",
    )
    parser.add_argument(
        "--failures",
        type=int,
        default=3,
        metavar="N",
        help="failing cases shown per functionality (0: none)",
    )
    parser.add_argument(
        "--map",
        action="append",
        metavar="MODEL=SUITE",
        help="score a model label as a suite label of another name, e.g. HS=Odio (repeatable)",
    )
    parser.add_argument(
        "--labels",
        nargs="+",
        metavar="LABEL",
        help="score only these suite labels, e.g. --labels Odio (default: all the model has)",
    )
    common.add_threshold_option(parser)
    common.add_runtime_options(parser)


def label_map(values: Sequence[str] | None) -> dict[str, str]:
    """``["HS=Odio"]`` -> ``{"HS": "Odio"}``, with a clear error for a malformed one.

    >>> label_map(["hateful = Odio"])
    {'hateful': 'Odio'}
    """
    out = {}
    for value in values or []:
        model_label, _, suite_label = value.partition("=")
        if not model_label.strip() or not suite_label.strip():
            raise OdioError(f"--map takes MODEL_LABEL=SUITE_LABEL, e.g. HS=Odio; got {value!r}")
        out[model_label.strip()] = suite_label.strip()
    return out


def run(args: argparse.Namespace) -> int:
    """Check the model on every suite; status 1 when one is below ``--min-accuracy``."""
    import json

    from odio.checks.run import run_check
    from odio.checks.suite import load_suite
    from odio.reports.checks import format_check

    mapping = label_map(args.map)
    suites = [load_suite(name) for name in args.suites or [None]]
    detector = common.load_detector(args)
    results = [
        run_check(
            detector,
            suite,
            label_map=mapping,
            labels=args.labels,
            run_dir=args.model,
            progress=not args.quiet,
        )
        for suite in suites
    ]
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
