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
from dataclasses import replace

import numpy as np

from odio.checks.results import CheckResult
from odio.checks.run import run_check
from odio.metrics import decide

GRID = [0.5, 0.6, 0.7, 0.8]


def at(result: CheckResult, threshold: float, p: np.ndarray | None = None) -> CheckResult:
    """``result`` (Odio alone) with its cases decided at ``threshold``, on probabilities
    ``p`` when given (else the run's own): scored by the same code as ``odio check``."""
    scored = result.scored
    if p is None:
        p = np.array([r.probabilities["Odio"] for r in scored])
    decisions = decide(p[:, None], threshold)[:, 0]
    cases = [
        replace(r, probabilities={"Odio": float(q)}, decisions={"Odio": int(d)})
        for r, q, d in zip(scored, p, decisions, strict=True)
    ]
    return replace(result, results=cases)


def table(name: str, result: CheckResult, tuned: float | None, p: np.ndarray | None) -> str:
    """Markdown rows: the tuned threshold, the grid, and the grid's best (the ceiling)."""
    fine = np.round(np.arange(0.05, 0.96, 0.01), 2)
    best = max(fine, key=lambda t: at(result, t, p).accuracy)
    rows = ([("tuned", tuned)] if tuned is not None else []) + [("", t) for t in GRID]
    rows.append(("ceiling (chosen on the suite)", best))
    groups = [g.name for g in result.by_group()]
    lines = [
        f"{name}: Odio AUC over the cases {at(result, 0.5, p).by_label()[0]['auc']:.4f}",
        "",
        "| threshold | | suite | " + " | ".join(groups) + " |",
        "|---|---|---:|" + "---:|" * len(groups),
    ]
    for label, t in rows:
        decided = at(result, float(t), p)
        cells = " | ".join(f"{g.macro:.3f}" for g in decided.by_group())
        lines.append(f"| {t:.2f} | {label} | {decided.accuracy:.4f} | {cells} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", help="run directories")
    parser.add_argument(
        "--mean", nargs="+", type=int, default=[], help="indices of runs to average"
    )
    args = parser.parse_args()
    results = []
    for run in args.runs:
        result = run_check(run, labels=["Odio"], progress=True)
        results.append(result)
        print(table(run, result, result.info["thresholds"]["Odio"], None) + "\n")
    if len(args.mean) > 1:
        chosen = [results[i] for i in args.mean]
        p = np.mean([[r.probabilities["Odio"] for r in c.scored] for c in chosen], axis=0)
        name = "mean of " + ", ".join(args.runs[i] for i in args.mean)
        print(table(name, chosen[0], None, p))


if __name__ == "__main__":
    main()
