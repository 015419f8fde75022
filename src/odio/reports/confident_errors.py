"""The report's most confident errors: the main label's false positives with the highest
probability and false negatives with the lowest, tweets shown as written."""

from __future__ import annotations

import pandas as pd

from odio.metrics import binarize
from odio.reports.document import Document
from odio.reports.scores import main_set
from odio.runs import RunData, dig

TOP_ERRORS = 15
"""Rows in each of the most-confident false positive / false negative tables."""


def errors_section(doc: Document, run: RunData) -> None:
    """The main label's most confident false positives and false negatives."""
    labels, which = run.labels, main_set(run)
    main, t = labels[0], float(run.thresholds[0])
    frame = run.frame(which)
    doc.heading(f"Most confident errors on {main}")
    doc.paragraph(
        "Content warning: the tweets below are shown as written and include offensive "
        "language, slurs and hateful statements."
    )
    source = "test predictions" if which == "test" else "out-of-fold predictions (no test set)"
    doc.paragraph(
        f"From the {source}, at the tuned threshold {t:.2f} of {main}: the "
        f"{TOP_ERRORS} negatives with the highest probability and the {TOP_ERRORS} positives "
        "with the lowest."
    )
    id_column = dig(run.metrics, "data", "train" if which == "oof" else "test", "id_column")
    fp, fn = most_confident_errors(frame, labels, t, id_column=id_column)
    for title, table in (("False positives", fp), ("False negatives", fn)):
        doc.heading(f"{title} ({len(table)})", 3)
        header = ["row"] + (["id"] if id_column else []) + [f"P({main})", "true labels", "text"]
        rows = [
            [str(r["row"])]
            + ([str(r["id"])] if id_column else [])
            + [f"{r['prob']:.3f}", r["true_labels"], r["text"]]
            for r in table.to_dict("records")
        ]
        doc.table(header, rows) if rows else doc.paragraph("None.")


def most_confident_errors(
    frame: pd.DataFrame,
    labels: list[str],
    threshold: float,
    top: int = TOP_ERRORS,
    *,
    id_column: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The main label's most confident false positives and false negatives.

    Returns:
        ``(false_positives, false_negatives)``, each with columns ``row`` (0-based position
        in the input file), ``id`` (from ``id_column``, when given), ``prob``,
        ``true`` (0/1 of the main label), ``true_labels`` (names of the true labels, or
        ``none``) and ``text`` (whitespace collapsed); at most ``top`` rows, the most
        confident first (highest probability among negatives, lowest among positives).

    Example:
        >>> f = pd.DataFrame({"row": [1, 2, 3], "text": ["a", "b", "c"],
        ...                   "true_Odio": [0, 1, 1], "prob_Odio": [0.9, 0.2, 0.8]})
        >>> fp, fn = most_confident_errors(f, ["Odio"], 0.5)
        >>> fp["row"].tolist(), fn["row"].tolist()
        ([1], [2])
    """
    main = labels[0]
    true = pd.to_numeric(frame[f"true_{main}"], errors="coerce")
    prob = pd.to_numeric(frame[f"prob_{main}"], errors="coerce")
    predicted = pd.Series(binarize(prob.fillna(0).to_numpy(), threshold), index=frame.index)
    names = frame[[f"true_{label}" for label in labels]].to_numpy()
    table = pd.DataFrame(
        {
            "row": frame["row"] if "row" in frame else frame.index,
            **({"id": frame[id_column]} if id_column and id_column in frame else {}),
            "prob": prob,
            "true": true,
            "true_labels": [
                ", ".join(label for label, v in zip(labels, r, strict=True) if v == 1) or "none"
                for r in names
            ],
            "text": [" ".join(str(t).split()) for t in frame["text"]],
        }
    )
    valid = prob.notna() & true.notna()
    fp = table[valid & (true == 0) & (predicted == 1)].sort_values("prob", ascending=False)
    fn = table[valid & (true == 1) & (predicted == 0)].sort_values("prob", ascending=True)
    return fp.head(top).reset_index(drop=True), fn.head(top).reset_index(drop=True)
