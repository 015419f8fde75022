"""``odio distill``: one student model trained on a run's fold ensemble."""

from __future__ import annotations

import argparse

SUMMARY = "one student model trained on a run's fold ensemble"
DESCRIPTION = (
    "Train one model on a finished run's soft labels (its out-of-fold probabilities, and "
    "the blended ones of --unlabelled tweets): k times faster to score than the k-model "
    "ensemble. It keeps the teacher's thresholds; its card states both test scores."
)
EXAMPLES = [
    "odio distill runs/e5 --out runs/e5-student",
    "odio distill runs/e5 --out runs/e5-student --unlabelled referenced_tweets.csv",
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", metavar="RUN_DIR", help="run directory written by odio train")
    parser.add_argument("--out", required=True, metavar="OUT_DIR", help="model directory to write")
    parser.add_argument("--unlabelled", metavar="FILE", help="extra tweets the teacher labels")
    parser.add_argument(
        "--student", metavar="MODEL", help="the student (default: the teacher's model)"
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an earlier model at OUT_DIR"
    )


def run(args: argparse.Namespace) -> int:
    """Distil and print the teacher's and the student's test scores."""
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
