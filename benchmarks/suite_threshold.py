"""How far the functional suite's accuracy can move with the Odio threshold alone (issue 21).

`odio check RUN --labels Odio` decides every case at the run's tuned threshold (tuned on
out-of-fold predictions). This scores the suite's cases once per run and recomputes the
suite accuracy (the mean over functionalities, as `odio check` reports it) and the group
means at other thresholds: at the tuned one, on a grid, and at the grid's best, which is a
**ceiling**, not a score (a threshold chosen on the suite itself, which odio never does).
With two or more runs, ``--mean`` adds the mean of their probabilities (a seed ensemble;
no run's threshold applies to it, so only its ceiling and AUC are shown).

    python benchmarks/suite_threshold.py runs/recipe_framing_all runs/recipe_framing_all_s43 \\
        runs/stack_framing_all --mean 0 1

prints one markdown table per run: threshold, suite accuracy, the ten group means.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np
from sklearn.metrics import roc_auc_score

from odio.checks.run import run_check
from odio.checks.suite import load_suite

GRID = [0.5, 0.6, 0.7, 0.8]
Scores = Callable[[float], tuple[float, dict[str, float]]]


def suite_scores(
    probability: np.ndarray, expect: np.ndarray, functionality: list[str], group: dict[str, str]
) -> Scores:
    """A function: threshold -> (suite accuracy, {group: mean over its functionalities})."""
    names = list(dict.fromkeys(functionality))
    where = {name: np.array([f == name for f in functionality]) for name in names}

    def at(threshold: float) -> tuple[float, dict[str, float]]:
        passed = (probability >= threshold).astype(int) == expect
        per = {name: float(passed[where[name]].mean()) for name in names}
        groups: dict[str, list[float]] = {}
        for name, accuracy in per.items():
            groups.setdefault(group[name], []).append(accuracy)
        return float(np.mean(list(per.values()))), {g: float(np.mean(v)) for g, v in groups.items()}

    return at


def table(name: str, at: Scores, tuned: float | None, auc_value: float) -> str:
    """Markdown rows: the tuned threshold, the grid, and the grid's best (the ceiling)."""
    fine = np.round(np.arange(0.05, 0.96, 0.01), 2)
    best = max(fine, key=lambda t: at(t)[0])
    rows = ([("tuned", tuned)] if tuned is not None else []) + [("", t) for t in GRID]
    rows.append(("ceiling (chosen on the suite)", best))
    groups = list(at(0.5)[1])
    lines = [
        f"{name}: Odio AUC over the cases {auc_value:.4f}",
        "",
        "| threshold | | suite | " + " | ".join(groups) + " |",
        "|---|---|---:|" + "---:|" * len(groups),
    ]
    for label, t in rows:
        accuracy, per_group = at(float(t))
        cells = " | ".join(f"{per_group[g]:.3f}" for g in groups)
        lines.append(f"| {t:.2f} | {label} | {accuracy:.4f} | {cells} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", help="run directories")
    parser.add_argument(
        "--mean", nargs="+", type=int, default=[], help="indices of runs to average"
    )
    args = parser.parse_args()
    suite = load_suite()
    group = {f.name: f.group for f in suite.functionalities}
    probabilities = []
    for run in args.runs:
        result = run_check(run, suite, labels=["Odio"], progress=True)
        scored = [r for r in result.results if r.scored]
        p = np.array([r.probabilities["Odio"] for r in scored])
        expect = np.array([r.case.expect["Odio"] for r in scored])
        functionality = [r.case.functionality for r in scored]
        probabilities.append(p)
        at = suite_scores(p, expect, functionality, group)
        print(table(run, at, result.info["thresholds"]["Odio"], roc_auc_score(expect, p)) + "\n")
    if len(args.mean) > 1:
        p = np.mean([probabilities[i] for i in args.mean], axis=0)
        at = suite_scores(p, expect, functionality, group)
        name = "mean of " + ", ".join(args.runs[i] for i in args.mean)
        print(table(name, at, None, roc_auc_score(expect, p)))


if __name__ == "__main__":
    main()
