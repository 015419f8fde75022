"""The report's figure sections: precision-recall and calibration curves, score
distributions, and the training and validation loss per epoch with a verdict on over- or
under-training. The figures are drawn by :mod:`odio.reports.plots` (matplotlib)."""

from __future__ import annotations

from odio.metrics import best_epoch
from odio.reports import plots
from odio.reports.document import Document
from odio.reports.format import num
from odio.reports.scores import SET_NAMES, clean_arrays, eval_sets, main_set
from odio.runs import RunData


def curves_section(doc: Document, run: RunData) -> None:
    """Precision-recall curves, calibration and score distributions."""
    sets, labels = eval_sets(run), run.labels
    doc.heading("Precision-recall curves")
    doc.paragraph(
        "One panel per label, out-of-fold and test. ● is the tuned threshold's operating "
        "point, × the point at 0.5; AP is average precision; the dotted line is the "
        "positive rate (a random scorer)."
    )
    doc.figure("pr_curves.png", plots.pr_curves(labels, sets, run.thresholds), "PR")
    doc.heading("Calibration")
    doc.paragraph(
        "Observed fraction of positives against the mean predicted probability in ten "
        "equal-width bins; on the diagonal, a probability of 0.7 means 70% of such tweets "
        "are positive. ECE is the row-weighted mean distance to the diagonal."
    )
    doc.figure("calibration.png", plots.calibration_curves(labels, sets), "calibration curves")
    which = main_set(run)
    Y, P = clean_arrays(run, which)
    doc.heading("Score distributions")
    doc.paragraph(
        f"Predicted probabilities on the {SET_NAMES[which]} predictions, split by the true "
        "label (counts on a log scale), with the tuned threshold (solid) and 0.5 (dotted). "
        "Positives left of the threshold are missed; negatives right of it are false alarms."
    )
    doc.figure(
        "score_histograms.png",
        plots.score_histograms(labels, Y, P, run.thresholds, SET_NAMES[which]),
        "score histograms",
    )


def training_section(doc: Document, run: RunData) -> None:
    """Loss curves per fold, the best epochs, and a verdict (no history: a sentence why)."""
    folds = run.metrics.get("folds") or []
    doc.heading("Training and validation loss per epoch")
    if not any(f.get("history") for f in folds):
        backend = run.metrics.get("backend", "this")
        doc.paragraph(
            f"No training history: the {backend} backend does not train in epochs, so there "
            "are no loss curves."
        )
        return
    doc.figure("loss_curves.png", plots.loss_curves(folds), "loss curves")
    rows, best_epochs, rose = [], [], []
    for k, fold in enumerate(folds):
        history = [h for h in fold.get("history") or [] if "val_loss" in h]
        best = best_epoch(history)
        if best is None:
            continue
        name = str(fold.get("fold", k))
        best_epochs.append(f"fold {name} at epoch {best['epoch']}")
        ups = [
            f"{a['epoch']}→{b['epoch']}"
            for a, b in zip(history, history[1:], strict=False)
            if b["val_loss"] > a["val_loss"]
        ]
        if ups:
            rose.append(f"fold {name} (epoch {', '.join(ups)})")
        rows.append(
            [
                name,
                str(len(history)),
                str(best["epoch"]),
                num(best["val_loss"]),
                num(history[-1]["val_loss"]),
                num(best.get("val_macro_f1")),
                "yes" if ups else "no",
            ]
        )
    doc.paragraph("Lowest validation loss: " + "; ".join(best_epochs) + ". " + _verdict(rows, rose))
    doc.table(
        [
            "fold",
            "epochs run",
            "best epoch",
            "best val loss",
            "last val loss",
            "val macro-F1 at best",
            "val loss rose",
        ],
        rows,
    )


def _verdict(rows: list[list[str]], rose: list[str]) -> str:
    """One sentence on over- or under-training from the per-fold history rows."""
    if rose:
        return (
            f"Validation loss went up between epochs in {len(rose)} of {len(rows)} folds: "
            + "; ".join(rose)
            + " (overfitting from there on; the weights of the lowest-loss epoch are kept)."
        )
    if all(row[1] == row[2] for row in rows):
        return (
            "Validation loss fell at every epoch in every fold and was lowest at the last "
            "one: no sign of overfitting, and more epochs might still help."
        )
    return "Validation loss never went up from one epoch to the next."
