"""Choose the stacking meta-model's settings by nested out-of-fold f1_custom.

Reads the out-of-fold probabilities of finished runs trained with the same folds, and for
each setting of ``stack.features`` and ``stack.C`` prints the nested out-of-fold f1_custom
(at thresholds tuned on those predictions, as ``odio train`` reports it). The test set is
not read: settings are chosen on the training data only.

    python benchmarks/stack_meta.py runs/tfidf runs/e5small_lr1e-4
"""

from __future__ import annotations

import argparse
import sys

from odio.config import StackConfig
from odio.metrics import score, tune_thresholds
from odio.runs import read_run
from odio.training.stacking import nested_oof


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="run directories (same folds)")
    args = parser.parse_args()
    runs = [read_run(path) for path in args.runs]
    first = runs[0]
    for run in runs:
        if not run.oof["fold"].equals(first.oof["fold"]) or not run.oof["row"].equals(
            first.oof["row"]
        ):
            sys.exit(f"{run.path} was not cross-validated with the same rows and folds")
    labels = first.labels
    Y = first.arrays("oof")[0].astype(int)
    folds = first.oof["fold"].to_numpy()
    probs = [run.arrays("oof")[1] for run in runs]

    print(f"{'features':<9} {'C':>6} {'nested OOF f1_custom (tuned)':>30} {'at 0.5':>8}")
    for features in ("label", "all"):
        for C in (0.1, 1.0, 10.0):
            oof = nested_oof(probs, Y, folds, StackConfig(C=C, features=features))
            tuned = score(Y, oof, labels, tune_thresholds(Y, oof))["f1_custom"]
            plain = score(Y, oof, labels, 0.5)["f1_custom"]
            print(f"{features:<9} {C:>6} {tuned:>30.4f} {plain:>8.4f}")
    mean = sum(probs) / len(probs)
    tuned = score(Y, mean, labels, tune_thresholds(Y, mean))["f1_custom"]
    print(f"{'(plain average of the bases, no meta-model)':<46} {tuned:>8.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
