"""The report's score sections: overall and per-label scores, a stack's bases, the
fold-to-fold spread and the confusion counts; and the prediction sets the other sections
read (out-of-fold, test)."""

from __future__ import annotations

import numpy as np

from odio.metrics import binarize, confusion
from odio.reports.document import Document
from odio.reports.format import duration, num
from odio.runs import RunData, dig

SET_NAMES = {"oof": "out-of-fold", "test": "test"}
"""Display names of the prediction sets."""
_PER_LABEL = ("precision", "recall", "f1", "macro_f1", "accuracy", "average_precision", "roc_auc")


def headline_metric(run: RunData) -> str:
    """The run's headline metric (runs written before odio 0.2 were ranked by f1_custom)."""
    return str(run.metrics.get("metric", "f1_custom"))


def _overall(run: RunData) -> list[tuple[str, str]]:
    """``(key, heading)`` of the overall score columns: headline, macro-F1, accuracy, F1(main)."""
    keys = dict.fromkeys([headline_metric(run), "macro_f1", "accuracy", "main_f1"])
    names = {"macro_f1": "macro-F1", "main_f1": f"F1({run.labels[0]})"}
    return [(key, names.get(key, key)) for key in keys]


def scores_section(doc: Document, run: RunData) -> None:
    """The overall scores of every evaluation, then each label's, and a stack's bases."""
    m = run.metrics
    doc.heading("Scores")
    doc.paragraph(
        f"Headline metric: {headline_metric(run)}. macro-F1 is scikit-learn's (for one label "
        "the mean of the F1 of class 0 and class 1; for several the mean over labels of each "
        "label's F1); accuracy counts a row right when every label is right; f1_custom = 0.5 × "
        "F1(main) + 0.5 × mean F1(other labels). The thresholds are tuned on the "
        "out-of-fold predictions, so the out-of-fold scores at the tuned thresholds are "
        "optimistic; the test scores at the tuned thresholds are the honest estimate."
    )
    cols = _overall(run)
    rows = []
    for which in ("oof", "test"):
        for at in ("at_0.5", "tuned"):
            s = (m.get(which) or {}).get(at)
            if s:
                name = f"{SET_NAMES[which]} ({'0.5' if at == 'at_0.5' else 'tuned'})"
                rows.append([name] + [num(s.get(key)) for key, _ in cols])
    doc.table(["evaluation"] + [name for _, name in cols], rows)
    suite_section(doc, run)
    for which in ("oof", "test"):
        if which not in m:
            continue
        doc.heading(f"Per label, {SET_NAMES[which]}", 3)
        half, tuned = m[which]["at_0.5"], m[which]["tuned"]
        rows = []
        for label, t in zip(run.labels, run.thresholds, strict=True):
            a, b = half["per_label"][label], tuned["per_label"][label]
            rows.append(
                [label, str(a["support"]), num(a["f1"]), f"{t:.2f}"]
                + [num(b.get(k)) for k in _PER_LABEL]
            )
        header = ["label", "support", "F1 @0.5", "threshold", "P tuned", "R tuned", "F1 tuned"]
        doc.table(header + ["macro-F1 tuned", "accuracy tuned", "AP", "ROC-AUC"], rows)
    if "test" not in m:
        doc.paragraph("No test set: only out-of-fold scores.")
    _bases(doc, run)


def suite_section(doc: Document, run: RunData) -> None:
    """The functional test suite's accuracies recorded by ``odio train --check`` (the
    ``checks`` entry of ``metrics.json``), overall and per functionality group."""
    checks = run.metrics.get("checks")
    if not isinstance(checks, dict):
        return
    main = str(checks.get("main_label", run.labels[0]))
    doc.heading(f"Functional tests: suite {checks.get('suite', '-')}", 3)
    doc.paragraph(
        f"The run's model scored on {checks.get('cases', '?')} cases of "
        f"{checks.get('functionalities', '?')} functionalities (evaluation only, never "
        "trained on): accuracy is the mean over functionalities of the share of cases "
        f"decided as expected, on {main} only and on every suite label the model has. "
        "odio check RUN lists the failing cases."
        + (
            f" {main} AUC over the cases, which no threshold moves: {num(checks['auc_odio'])}."
            if checks.get("auc_odio") is not None
            else ""
        )
    )
    if checks.get("in_training"):
        doc.paragraph(
            f"Warning: {checks['in_training']} suite cases are among the training texts; "
            "these accuracies overstate the model."
        )
    rows = [["overall", num(checks.get("accuracy_odio")), num(checks.get("accuracy_full"))]]
    groups = checks.get("groups")
    for name, scores in (groups if isinstance(groups, dict) else {}).items():
        scores = scores if isinstance(scores, dict) else {}
        rows.append([str(name), num(scores.get("odio")), num(scores.get("full"))])
    doc.table(["functionality group", f"{main} only", "all labels"], rows)


def _bases(doc: Document, run: RunData) -> None:
    """A stacked run's bases, each scored on its own (thresholds tuned on its own OOF)."""
    bases = run.metrics.get("bases")
    if not isinstance(bases, dict) or not bases:
        return
    doc.heading("Stacked bases on their own", 3)
    metric = headline_metric(run)
    rows = []
    for name, base in bases.items():
        base = base if isinstance(base, dict) else {}
        rows.append(
            [str(name), str(base.get("backend", "-"))]
            + [
                num(dig(base, *keys))
                for keys in (
                    ("cv", metric, "mean"),
                    ("oof", "tuned", metric),
                    ("test", "at_0.5", metric),
                    ("test", "tuned", metric),
                )
            ]
        )
    header = ["base", "backend", f"CV {metric}", "OOF tuned", "test 0.5", "test tuned"]
    doc.table(header, rows)


def folds_section(doc: Document, run: RunData) -> None:
    """Each fold model's scores on its held-out fold, and their mean ± std."""
    folds, labels = run.metrics.get("folds") or [], run.labels
    if not folds:
        return
    doc.heading("Fold-to-fold spread")
    doc.paragraph(
        "Each fold's model scored on its own held-out fold at threshold 0.5; the last row "
        "is the mean ± standard deviation over folds."
    )
    overall = list(dict.fromkeys([headline_metric(run), "macro_f1"]))
    header = ["fold", "train rows", "val rows", *overall]
    header += [f"F1({label})" for label in labels] + ["time"]
    rows, columns = [], []
    for fold in folds:
        s = fold.get("scores") or {}
        values = [s.get(key) for key in overall] + [
            (s.get("per_label") or {}).get(label, {}).get("f1") for label in labels
        ]
        columns.append(values)
        rows.append(
            [
                str(fold.get("fold", "")),
                str(fold.get("train_rows", "")),
                str(fold.get("val_rows", "")),
            ]
            + [num(v) for v in values]
            + [duration(fold["seconds"]) if "seconds" in fold else "-"]
        )
    table = np.array(columns, dtype=float)
    spread = [
        f"{np.nanmean(col):.4f} ± {np.nanstd(col):.4f}" if not np.isnan(col).all() else "-"
        for col in table.T
    ]
    rows.append(["mean ± std", "", ""] + spread + [""])
    doc.table(header, rows)


def confusion_section(doc: Document, run: RunData) -> None:
    """TP, FP, FN and TN of each label and prediction set at the tuned thresholds."""
    doc.heading("Confusion counts at the tuned thresholds")
    rows = []
    for name, (Y, P) in eval_sets(run).items():
        pred = binarize(P, run.thresholds)
        for j, label in enumerate(run.labels):
            counts = confusion(Y[:, j], pred[:, j])
            rows.append([label, name, f"{run.thresholds[j]:.2f}"] + [str(c) for c in counts])
    doc.table(["label", "set", "threshold", "TP", "FP", "FN", "TN"], rows)


def eval_sets(run: RunData) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{display name: (Y, P)}`` of the prediction files the run has."""
    sets = {}
    for which in ("oof", "test"):
        frame = run.predictions(which)
        if frame is not None and len(frame):
            sets[SET_NAMES[which]] = clean_arrays(run, which)
    return sets


def clean_arrays(run: RunData, which: str) -> tuple[np.ndarray, np.ndarray]:
    """``(Y, P)`` of a prediction file without its unreadable rows."""
    Y, P = run.arrays(which)
    keep = ~(np.isnan(Y).any(axis=1) | np.isnan(P).any(axis=1))
    return Y[keep].astype(int), P[keep]


def main_set(run: RunData) -> str:
    """Where the single-set sections look: the test predictions when present, else OOF."""
    return "test" if run.test is not None and len(run.test) else "oof"
