"""Suspected label errors on the Datathon training set, and what correcting them does (issue 25).

Step 1 lists the top suspects of a TF-IDF run's out-of-fold predictions
(``odio.label.review.suspects``, confident learning) with the annotators' votes, into a CSV
outside the repository with an empty ``relabel`` column for a reader to fill (1: the label
is wrong, 0: it stands)::

    python benchmarks/label_review.py list --data ../shared/data/datathon2022 \\
        --out /work/notes/suspects.csv

Step 2 flips the labels the reader marked and trains again on the same folds and seed,
printing out-of-fold f1_custom (against the original and the corrected labels) and test
f1_custom (the test gold is untouched) before and after::

    python benchmarks/label_review.py retrain --data ../shared/data/datathon2022 \\
        --judged /work/notes/suspects.csv

Folds are shuffled KFold (``cv.split: kfold``), so that the corrected labels do not move
tweets between folds as a stratified split would: the two runs differ in labels only.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

import odio
from odio.label.review import suspects
from odio.metrics import DATATHON_LABELS, score

LABELS = list(DATATHON_LABELS)


def binary(frame: pd.DataFrame) -> pd.DataFrame:
    """``text`` and the labels as 0/1 (votes >= 2)."""
    out = frame[["tweet_id", "text"]].copy()
    for label in LABELS:
        out[label] = (frame[label] >= 2).astype(int) if frame[label].max() > 1 else frame[label]
    return out


def fit(train: pd.DataFrame, test: pd.DataFrame, folds: int, seed: int) -> odio.TrainedRun:
    config = {"data": {"labels": LABELS}, "cv": {"folds": folds, "seed": seed, "split": "kfold"}}
    return odio.fit(train, config, test=test, progress=False)


def list_suspects(args: argparse.Namespace) -> None:
    raw = pd.read_csv(args.data / "tweets_train.csv")
    run = fit(binary(raw), binary(pd.read_csv(args.data / "tweets_test.csv")), args.folds, 0)
    found = suspects(run.oof_predictions, LABELS, run.thresholds, top=args.top)
    found.insert(
        found.columns.get_loc("given") + 1,
        "votes",
        [int(raw.loc[r, label]) for r, label in zip(found["row"], found["label"], strict=True)],
    )
    found["relabel"] = ""
    found.to_csv(args.out, index=False)
    print(f"{len(found)} suspects written to {args.out}")
    print(found.groupby(["label", "given"]).size().to_string())


def retrain(args: argparse.Namespace) -> None:
    raw = pd.read_csv(args.data / "tweets_train.csv")
    train, test = binary(raw), binary(pd.read_csv(args.data / "tweets_test.csv"))
    judged = pd.read_csv(args.judged)
    if judged["relabel"].isna().any():
        raise SystemExit(f"{args.judged}: every suspect needs relabel 0 or 1")
    flips = judged[judged["relabel"] == 1]
    corrected, flipped_all = flip(train, flips), flip(train, judged)
    Y, Yc = train[LABELS].to_numpy(), corrected[LABELS].to_numpy()
    variants = (
        ("original labels", train),
        (f"the reader's {len(flips)} corrections", corrected),
        (f"all {len(judged)} suspects flipped", flipped_all),
    )
    print(
        f"{len(judged)} suspects read, {len(flips)} labels flipped "
        f"({flips.groupby('label').size().to_dict()})\n"
    )
    seeds = list(range(args.seeds))
    print(f"mean over fold seeds {seeds} (the same folds for every variant of a seed)\n")
    print("| trained on | OOF vs original | OOF vs corrected | test f1_custom | test F1(Odio) |")
    print("|---|---:|---:|---:|---:|")
    for name, frame in variants:
        cells = []
        for seed in seeds:
            run = fit(frame, test, args.folds, seed)
            oof = run.oof_predictions[[f"prob_{label}" for label in LABELS]].to_numpy()
            cuts = np.array([run.thresholds[label] for label in LABELS])
            assert run.test is not None
            cells.append(
                [
                    score(Y, oof, LABELS, cuts)["f1_custom"],
                    score(Yc, oof, LABELS, cuts)["f1_custom"],
                    run.test.tuned.f1_custom,
                    run.test.tuned.per_label["Odio"].f1,
                ]
            )
        mean = np.mean(cells, axis=0)
        print(f"| {name} | " + " | ".join(f"{c:.4f}" for c in mean) + " |", flush=True)


def flip(train: pd.DataFrame, which: pd.DataFrame) -> pd.DataFrame:
    """``train`` with the (row, label) pairs of ``which`` flipped."""
    out = train.copy()
    for row, label in zip(which["row"], which["label"], strict=True):
        out.loc[row, label] = 1 - out.loc[row, label]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("step", choices=["list", "retrain"])
    parser.add_argument("--data", default="../shared/data/datathon2022", type=Path)
    parser.add_argument("--out", default="/work/notes/suspects.csv", type=Path)
    parser.add_argument("--judged", default="/work/notes/suspects.csv", type=Path)
    parser.add_argument("--top", type=int, default=100)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=1, help="retrain: fold seeds 0..N-1")
    args = parser.parse_args()
    list_suspects(args) if args.step == "list" else retrain(args)


if __name__ == "__main__":
    main()
