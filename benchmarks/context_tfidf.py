"""What conversation context gives TF-IDF on the Datathon (issue 24).

Two TF-IDF runs with the same folds and seed (the defaults: 5 folds, seed 42), one without
and one with ``data.context`` (``referenced_tweets_data.csv`` joined on ``conversation_id``).
Each is scored by f1_custom at its own OOF-tuned thresholds, out-of-fold and on the test
set, over all tweets and over the tweets that have a context alone (25.7% of train, 26.0%
of test). The test set chooses nothing.

    python benchmarks/context_tfidf.py --data ../shared/data/datathon2022

The same runs from the command line (``odio train``; the table reads their predictions):

    odio train DATA/tweets_train.csv --test DATA/tweets_test.csv --out runs/tfidf
    odio train DATA/tweets_train.csv --test DATA/tweets_test.csv --out runs/tfidf_context \\
        --context DATA/referenced_tweets_data.csv
    python benchmarks/context_tfidf.py --runs runs/tfidf runs/tfidf_context
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from odio.metrics import f1_custom

LABELS = ["Odio", "Mujeres", "Comunidad LGBTQ+", "Comunidades Migrantes", "Pueblos Originarios"]


def f1_of(frame: pd.DataFrame) -> float:
    """f1_custom of a predictions frame's ``true_`` and ``pred_`` (tuned) columns."""
    truth = frame[[f"true_{label}" for label in LABELS]].to_numpy()
    decided = frame[[f"pred_{label}" for label in LABELS]].to_numpy()
    return float(f1_custom(truth, decided))


def table(plain: dict[str, pd.DataFrame], context: dict[str, pd.DataFrame]) -> list[dict]:
    """One row per split (oof, test) and subset (all, with context): both runs' f1_custom.
    The subset is the rows the context run gave a context (its ``context`` column)."""
    rows = []
    for split in ("oof", "test"):
        has = context[split]["context"].notna().to_numpy()
        if not (plain[split]["row"].to_numpy() == context[split]["row"].to_numpy()).all():
            raise SystemExit(f"the two runs' {split} rows differ: not the same data")
        for subset, mask in (("all", np.ones_like(has)), ("with context", has)):
            rows.append(
                {
                    "split": split,
                    "tweets": subset,
                    "n": int(mask.sum()),
                    "without": round(f1_of(plain[split][mask]), 4),
                    "with": round(f1_of(context[split][mask]), 4),
                }
            )
    return rows


def from_runs(plain: Path, context: Path) -> list[dict]:
    """The table from two finished run directories (their oof.csv and
    test_predictions.csv)."""
    read = {"oof": "oof.csv", "test": "test_predictions.csv"}
    return table(
        {k: pd.read_csv(plain / name, dtype={"context": str}) for k, name in read.items()},
        {k: pd.read_csv(context / name, dtype={"context": str}) for k, name in read.items()},
    )


def from_data(data: Path) -> list[dict]:
    """Train both runs here (same folds and seed) and build the table."""
    import odio

    common = {"model": "tfidf"}
    train, test = data / "tweets_train.csv", data / "tweets_test.csv"
    context_file = str(data / "referenced_tweets_data.csv")
    runs = {
        "plain": odio.fit(train, common, test=test, progress=False),
        "context": odio.fit(
            train,
            {**common, "data": {"context": {"path": context_file}}},
            test=test,
            progress=False,
        ),
    }
    frames = {
        name: {"oof": run.oof_predictions, "test": run.test_predictions}
        for name, run in runs.items()
    }
    return table(frames["plain"], frames["context"])  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/datathon2022"))
    parser.add_argument("--runs", type=Path, nargs=2, metavar=("PLAIN", "CONTEXT"))
    parser.add_argument("--json", type=Path, help="also write the table as JSON here")
    args = parser.parse_args()
    rows = from_runs(*args.runs) if args.runs else from_data(args.data)
    print("| split | tweets | n | f1_custom without context | with context |")
    print("|---|---|---:|---:|---:|")
    for r in rows:
        print(f"| {r['split']} | {r['tweets']} | {r['n']} | {r['without']:.4f} | {r['with']:.4f} |")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
