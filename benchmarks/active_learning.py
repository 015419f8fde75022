"""Active learning, simulated: how many labels each ``odio label`` strategy needs (issue 25).

The Datathon 2022 training set is the pool and its gold votes (3 annotators, positive from
2 votes) are the annotators: a strategy asks for a batch of tweets, their labels are
revealed, a TF-IDF run is retrained on everything labelled so far (``odio.label.retrain``,
i.e. ``odio.fit``) and its fold models rank the rest. Each round records the test
f1_custom of the blended fold models at the thresholds tuned on their out-of-fold
predictions, scored on ``tweets_test.csv`` (never used to choose anything). Every strategy
starts from the same random seed set per seed; the last round of every curve is the whole
training set, so all strategies end on the same model, the reference.

    nice -n 10 python benchmarks/active_learning.py --data ../shared/data/datathon2022 \\
        --out /tmp/al

writes ``curves.csv`` (one row per strategy, seed and round; appended as it goes, so a
rerun continues where it stopped) and ``curves.png``, and prints the markdown tables.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from odio.label.retrain import retrain
from odio.label.strategies import STRATEGIES, rank
from odio.metrics import DATATHON_LABELS, score

LABELS = list(DATATHON_LABELS)
TOLERANCE = 0.01
"""A strategy has reached the full-data score when its mean curve is within this of it."""


def load(path: Path) -> pd.DataFrame:
    """``text`` and the five labels as 0/1 (votes >= 2, the test gold's rule)."""
    frame = pd.read_csv(path)
    out = frame[["text"]].copy()
    for label in LABELS:
        out[label] = (frame[label] >= 2).astype(int) if frame[label].max() > 1 else frame[label]
    return out.reset_index(drop=True)


def curve(
    strategy: str,
    seed: int,
    train: pd.DataFrame,
    test: pd.DataFrame,
    args: argparse.Namespace,
    shared: dict[tuple[int, int], dict],
) -> list[dict]:
    """One strategy's learning curve for one seed: a row per round."""
    n = len(train)
    rng = np.random.default_rng(seed)
    labelled = list(rng.permutation(n)[: args.initial])
    texts = train["text"].tolist()
    test_texts, test_Y = test["text"].tolist(), test[LABELS].to_numpy()
    rows = []
    for round_ in range(n):
        pool = np.setdiff1d(np.arange(n), labelled)
        key = (seed, len(labelled))
        first_or_last = round_ == 0 or len(pool) == 0  # the same model for every strategy
        if first_or_last and key in shared:
            probs, cuts = shared[key].get("probs"), shared[key].get("cuts")
            row, seconds = {**shared[key]["row"], "strategy": strategy, "round": round_}, 0.0
        else:
            start = time.perf_counter()
            probs, cuts = retrain(
                train.iloc[labelled],
                [texts[i] for i in pool] + test_texts,
                LABELS,
                folds=args.folds,
                seed=seed,
            )
            seconds = time.perf_counter() - start
            test_probs = probs[:, len(pool) :].mean(axis=0)
            scores = score(test_Y, test_probs, LABELS, cuts)
            row = {
                "strategy": strategy,
                "seed": seed,
                "round": round_,
                "labelled": len(labelled),
                "share": round(len(labelled) / n, 4),
                "test_f1_custom": scores["f1_custom"],
                "test_f1_odio": scores["per_label"][LABELS[0]]["f1"],
                "fit_seconds": round(seconds, 2),
            }
            if first_or_last:
                shared[key] = {"row": row, "probs": probs, "cuts": cuts}
        rows.append(row)
        print(
            f"{strategy:12s} seed {seed} n={row['labelled']:5d} "
            f"test f1_custom {row['test_f1_custom']:.4f} ({seconds:.1f}s)",
            flush=True,
        )
        if len(pool) == 0:
            return rows
        batch = min(args.batch, len(pool))
        if args.max_labels and len(labelled) + batch > args.max_labels:
            labelled = list(range(n))  # past the budget: straight to the full set
            continue
        if probs is None or cuts is None:  # a first round read back from curves.csv
            probs, cuts = retrain(
                train.iloc[labelled], [texts[i] for i in pool], LABELS, folds=args.folds, seed=seed
            )
        order = rank(
            strategy,
            probs[:, : len(pool)],
            cuts,
            seed=seed * 1000 + round_,
            texts=[texts[i] for i in pool],
            k=batch,
        )
        labelled.extend(pool[order[:batch]].tolist())
    return rows


def reached(mean: pd.DataFrame, target: float) -> dict[str, int | None]:
    """Per strategy, the fewest labels whose mean test score is at least ``target``."""
    out: dict[str, int | None] = {}
    for strategy, part in mean.groupby("strategy"):
        hit = part[part["test_f1_custom"] >= target]
        out[str(strategy)] = int(hit["labelled"].min()) if len(hit) else None
    return out


def report(frame: pd.DataFrame, out: Path) -> str:
    """The markdown tables and the plot of the curves in ``frame``."""
    n = int(frame["labelled"].max())
    full = frame[frame["labelled"] == n].groupby("seed")["test_f1_custom"].first()
    reference = float(full.mean())
    target = reference - TOLERANCE
    mean = frame.groupby(["strategy", "labelled"], as_index=False)["test_f1_custom"].agg(
        ["mean", "std"]
    )
    mean = mean.rename(columns={"mean": "test_f1_custom"})
    lines = [
        f"Full training set ({n} tweets): test f1_custom {reference:.4f} "
        f"(mean of {len(full)} seeds, sd {full.std():.4f}); target {target:.4f}.",
        "",
        "| strategy | labels to reach the target | share of the full set |",
        "|---|---:|---:|",
    ]
    strategies = [s for s in STRATEGIES if s in set(frame["strategy"])]
    points = sorted(set(frame["labelled"]))
    hits = reached(mean, target)
    per_seed = frame.assign(hit=frame["test_f1_custom"] >= target)
    for strategy in strategies:
        hit = hits.get(strategy)
        seeds = per_seed[(per_seed["strategy"] == strategy) & per_seed["hit"]]
        each = seeds.groupby("seed")["labelled"].min().reindex(sorted(set(frame["seed"])))
        each_text = ", ".join(
            "-" if np.isnan(v) else _reach(int(v), n, points).replace("more than ", ">")
            for v in each
        )
        lines.append(
            f"| {strategy} | {_reach(hit, n, points)} (per seed: {each_text}) | "
            f"{'-' if hit is None or _gap(hit, n, points) else f'{hit / n:.0%}'} |"
        )
    step = max(1, len(points) // 15)  # at most about 15 rows, the first and the last kept
    shown = [p for i, p in enumerate(points) if i % step == 0 or p == n]
    lines += ["", "| labelled | " + " | ".join(strategies) + " |"]
    lines.append("|---:|" + "---:|" * len(strategies))
    table = mean.pivot(index="labelled", columns="strategy", values="test_f1_custom")
    spread = mean.pivot(index="labelled", columns="strategy", values="std")
    for p in shown:
        cells = [f"{table.loc[p, s]:.4f} ± {spread.loc[p, s]:.4f}" for s in strategies]
        lines.append(f"| {p} | " + " | ".join(cells) + " |")
    plot(mean, strategies, reference, out / "curves.png")
    return "\n".join(lines)


def _gap(hit: int, n: int, points: list[int]) -> bool:
    """Reached only on the full set, after a jump over rounds not run (``--max-labels``)."""
    return hit == n and len(points) > 1 and n - points[-2] > points[-2] - points[-3]


def _reach(hit: int | None, n: int, points: list[int]) -> str:
    if hit is None:
        return "never"
    return f"more than {points[-2]}" if _gap(hit, n, points) else str(hit)


def plot(mean: pd.DataFrame, strategies: list[str], reference: float, path: Path) -> None:
    """Mean test f1_custom (band: one standard deviation over seeds) per strategy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    for strategy in strategies:
        part = mean[mean["strategy"] == strategy]
        x, y, sd = part["labelled"], part["test_f1_custom"], part["std"].fillna(0)
        ax.plot(x, y, label=strategy, linewidth=1.6)
        ax.fill_between(x, y - sd, y + sd, alpha=0.15)
    ax.axhline(reference, color="black", linewidth=0.8, label="full training set")
    ax.axhline(reference - TOLERANCE, color="black", linewidth=0.8, linestyle="--", label="-0.01")
    ax.set_xlabel("labelled tweets")
    ax.set_ylabel("test f1_custom (tuned on OOF)")
    ax.set_title("Active learning on Datathon 2022 (TF-IDF, mean of seeds)")
    ax.set_ylim(max(0.4, float(mean["test_f1_custom"].min()) - 0.02), reference + 0.03)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default="../shared/data/datathon2022", type=Path)
    parser.add_argument("--out", default="/tmp/active_learning", type=Path)
    parser.add_argument("--strategies", nargs="+", default=list(STRATEGIES))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--initial", type=int, default=100, help="random seed set")
    parser.add_argument("--batch", type=int, default=100, help="tweets labelled per round")
    parser.add_argument("--folds", type=int, default=3, help="folds of each retraining")
    parser.add_argument(
        "--max-labels", type=int, default=0, help="last round before the full set (0: none)"
    )
    parser.add_argument("--report-only", action="store_true", help="tables from curves.csv")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    csv = args.out / "curves.csv"
    if not args.report_only:
        train, test = load(args.data / "tweets_train.csv"), load(args.data / "tweets_test.csv")
        done = pd.read_csv(csv) if csv.exists() else pd.DataFrame(columns=["strategy", "seed"])
        finished = set(zip(done["strategy"], done["seed"], strict=True))
        shared: dict[tuple[int, int], dict] = {}
        for _, r in done[done["round"] == 0].iterrows() if len(done) else []:
            shared[(int(r["seed"]), int(r["labelled"]))] = {"row": r.to_dict()}
        for seed in range(args.seeds):
            for strategy in args.strategies:
                if (strategy, seed) in finished:
                    continue
                rows = curve(strategy, seed, train, test, args, shared)
                pd.DataFrame(rows).to_csv(csv, mode="a", header=not csv.exists(), index=False)
    print(report(pd.read_csv(csv), args.out))


if __name__ == "__main__":
    main()
