"""``odio info``: what a model is (labels, thresholds, scores, backend, size, versions)."""

from __future__ import annotations

import argparse

from odio.cli import common

SUMMARY = "what a model is: labels, thresholds, scores, backend, size, versions"
DESCRIPTION = (
    "Describe a saved model: labels, tuned thresholds and decision rule, backend and "
    "runtime, members, base model, its out-of-fold and test scores, ONNX export facts, "
    "size on disk and the library versions it was trained with."
)
EXAMPLES = ["odio info runs/tfidf", "odio info runs/e5/model-onnx-int8 --json"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL", help=common.MODEL_HELP)
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    """Print the model's summary (or JSON)."""
    import json

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
