"""Print a run's figures as Markdown: scores at 0.5 and tuned thresholds, and a per-epoch table.

The per-epoch table reads each fold's training history (train and validation loss, and
f1_custom of the held-out fold at threshold 0.5 after each epoch), averaged over folds.

    python benchmarks/summarize_run.py runs/e5small
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def summarize(run: Path) -> str:
    m = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    first = m["labels"][0]
    cv = m["cv"]
    lines = [
        f"### `{m['model']}` ({m['backend']}), labels: {', '.join(m['labels'])}, "
        f"min_votes={m['min_votes']}",
        "",
        "| evaluation | f1_custom | macro-F1 | F1(" + first + ") |",
        "|---|---|---|---|",
        f"| CV, mean ± std over {len(m['folds'])} folds (0.5) | "
        f"{cv['f1_custom']['mean']:.4f} ± {cv['f1_custom']['std']:.4f} | "
        f"{cv['macro_f1']['mean']:.4f} | {cv['main_f1']['mean']:.4f} |",
    ]
    for split in ("oof", "test"):
        for key in ("at_0.5", "tuned"):
            if split in m:
                s = m[split][key]
                lines.append(
                    f"| {split} {key.replace('at_', 'at ')} | {s['f1_custom']:.4f} | "
                    f"{s['macro_f1']:.4f} | {s['per_label'][first]['f1']:.4f} |"
                )
    lines += [
        "",
        f"Wall time {m['seconds']:.0f} s; thresholds: "
        + ", ".join(f"{k} {v:.2f}" for k, v in m["thresholds"].items()),
    ]
    histories = [f["history"] for f in m["folds"] if f.get("history")]
    if histories:
        epochs = max(len(h) for h in histories)
        lines += [
            "",
            "| epoch | train loss | val loss | held-out f1_custom (0.5) | folds |",
            "|---|---|---|---|---|",
        ]
        for e in range(epochs):
            rows = [h[e] for h in histories if len(h) > e]
            mean = {
                k: np.mean([r[k] for r in rows]) for k in ("train_loss", "val_loss", "val_macro_f1")
            }
            lines.append(
                f"| {e + 1} | {mean['train_loss']:.4f} | {mean['val_loss']:.4f} | "
                f"{mean['val_macro_f1']:.4f} | {len(rows)} |"
            )
        best = [int(np.argmin([r["val_loss"] for r in h])) + 1 for h in histories]
        lines.append(f"\nBest (restored) epoch per fold, by val_loss: {best}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("runs", nargs="+", type=Path)
    for run in parser.parse_args().runs:
        print(summarize(run), end="\n\n")


if __name__ == "__main__":
    main()
