"""A readable report of one run directory: scores, fold spread, curves, losses, worst errors.

:func:`write_report` reads what ``odio train`` wrote (``metrics.json``, ``config.yaml``,
``oof.csv`` and, when a test set was given, ``test_predictions.csv``) and writes two twins:

* ``report.html``: one self-contained file (every figure is an embedded base64 PNG);
* ``report.md``: the same content in Markdown, its figures in ``report_files/``.

The figures need matplotlib, the ``report`` extra; it is imported only when a report is
written. The run is read by :func:`odio.runs.read_run` and the page is built with
:class:`odio.reports.document.Document`; this module holds the sections and their formatting.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from odio.checks.run import run_check
from odio.checks.suite import load_suite
from odio.errors import OdioError
from odio.extras import require
from odio.metrics import best_epoch, binarize, confusion
from odio.reports import plots
from odio.reports.checks import check_section
from odio.reports.document import Document
from odio.runs import RunData, dig, read_run

log = logging.getLogger(__name__)

TOP_ERRORS = 15
"""Rows in each of the most-confident false positive / false negative tables."""

_FIGURES_DIR = "report_files"
_PER_LABEL = ("precision", "recall", "f1", "macro_f1", "accuracy", "average_precision", "roc_auc")
_SET_NAMES = {"oof": "out-of-fold", "test": "test"}


@dataclass(frozen=True)
class ReportFiles:
    """What :func:`write_report` wrote."""

    html: Path
    markdown: Path
    figures: list[Path] = field(default_factory=list)
    """The PNG files the Markdown report shows (also embedded in the HTML)."""

    def summary(self) -> str:
        """One line for the console.

        >>> ReportFiles(Path("r/report.html"), Path("r/report.md")).summary()
        'report written to r/report.html and r/report.md (0 figures)'
        """
        return f"report written to {self.html} and {self.markdown} ({len(self.figures)} figures)"


def write_report(
    run_dir: str | Path,
    out_dir: str | Path | None = None,
    *,
    check: Sequence[str | Path] | None = None,
) -> ReportFiles:
    """Write ``report.html`` and ``report.md`` (with ``report_files/``) for a run.

    Args:
        run_dir: a run directory written by ``odio train``.
        out_dir: where to write; default ``run_dir`` itself.
        check: functional test suites (files or shipped names, see
            :func:`odio.checks.suite.load_suite`) to run the run's model on, each adding a
            section.

    Raises:
        OdioError: ``run_dir`` is not a run directory.
        odio.extras.MissingExtra: matplotlib (the ``report`` extra) is not installed.

    Example:
        >>> files = write_report("runs/tfidf", "/tmp/report")  # doctest: +SKIP
        >>> files.html.name, files.markdown.name  # doctest: +SKIP
        ('report.html', 'report.md')
    """
    require("matplotlib", "report", "odio report")  # fail before anything is written
    suites = [load_suite(name) for name in check or []]
    run = read_run(run_dir)
    out = Path(out_dir) if out_dir is not None else run.path
    if out.exists() and not out.is_dir():
        raise OdioError(f"{out} exists and is not a directory")
    figures_dir = out / _FIGURES_DIR
    figures_dir.mkdir(parents=True, exist_ok=True)

    doc = Document(f"odio report: {run.name}", figures_dir=_FIGURES_DIR)
    _header(doc, run)
    _scores(doc, run)
    _folds(doc, run)
    _curves(doc, run)
    _confusion(doc, run)
    _training(doc, run)
    _errors(doc, run)
    for suite in suites:
        check_section(doc, run_check(run.path / "model", suite, run_dir=run.path))

    figures = []
    for name, png in doc.figures():
        (figures_dir / name).write_bytes(png)
        figures.append(figures_dir / name)
    html_file, md_file = out / "report.html", out / "report.md"
    html_file.write_text(doc.to_html(), encoding="utf-8")
    md_file.write_text(doc.to_markdown(), encoding="utf-8")
    log.debug("report of %s written to %s", run.path, out)
    return ReportFiles(html_file, md_file, figures)


# --- sections ---------------------------------------------------------------------------


def _header(doc: Document, run: RunData) -> None:
    m, config = run.metrics, run.config
    labels = run.labels
    rows: list[list[str]] = [
        ["run directory", str(run.path)],
        ["backend", str(m.get("backend", "-"))],
        ["model", str(m.get("model", "-"))],
    ]
    if "bases" in m:
        bases = m["bases"]
        rows.append(
            ["bases", ", ".join(map(str, bases)) if isinstance(bases, dict) else _brief(bases)]
        )
    read = (dig(m, "data", "train", "label_format") or "votes") if m.get("data") else "-"
    rows += [
        ["labels", f"{', '.join(labels)} (main: {labels[0]})"],
        ["labels read as", f"votes >= {m.get('min_votes')}" if read == "votes" else read],
        ["headline metric", _metric(run)],
    ]
    data = m.get("data") or {}
    for part in ("train", "test"):
        info = data.get(part)
        if info:
            rows.append(
                [
                    f"{part} data",
                    f"{info.get('path', '?')}: {info.get('rows_used', '?')} rows used "
                    f"of {info.get('rows_read', '?')}",
                ]
            )
    if "test" not in data:
        rows.append(["test data", "none (no test set was given)"])
    cv = config.get("cv") or {}
    folds = cv.get("folds", len(m.get("folds", [])))
    rows.append(
        [
            "cross-validation",
            f"{folds} folds, seed {cv.get('seed', '-')}, split {cv.get('split', '-')}",
        ]
    )
    settings = backend_settings(run)
    if settings:
        rows.append(["settings", ", ".join(f"{k} {_brief(v)}" for k, v in settings.items())])
    objectives = m.get("threshold_objectives") or {}
    rows.append(
        [
            "tuned thresholds",
            ", ".join(
                f"{k} {v:.2f}" + (f" ({objectives[k]})" if k in objectives else "")
                for k, v in zip(labels, run.thresholds, strict=True)
            ),
        ]
    )
    rows.append(["decision rule", str(m.get("decision_rule", "independent"))])
    train_seconds = m.get("train_seconds")
    if train_seconds is not None:
        rows.append(["train time", f"{_duration(train_seconds)} ({train_seconds:.1f} s)"])
    rows.append(["odio version", str(m.get("odio_version", "-"))])
    rows.append(["report written", datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")])
    doc.table(["", "value"], rows)


def backend_settings(run: RunData) -> dict[str, Any]:
    """The settings that matter for the run's backend, from its ``config.yaml``.

    Example:
        >>> run = RunData(Path("r"), {"labels": ["Odio"], "backend": "tfidf"},
        ...               {"tfidf": {"C": 3.0, "min_df": 2}})
        >>> backend_settings(run)
        {'min_df': 2, 'C': 3.0}
    """
    backend = run.metrics.get("backend")
    keys = {
        "transformer": (
            "lr",
            "max_epochs",
            "patience",
            "batch_size",
            "max_length",
            "pooling",
            "dropout",
            "warmup",
            "weight_decay",
            "precision",
        ),
        "tfidf": ("char_ngrams", "word_ngrams", "min_df", "C", "class_weight"),
        "stack": ("C", "features"),
    }.get(str(backend), ())
    section = run.config.get(str(backend)) or {}
    return {k: section[k] for k in keys if k in section}


def _metric(run: RunData) -> str:
    """The run's headline metric (runs written before odio 0.2 were ranked by f1_custom)."""
    return str(run.metrics.get("metric", "f1_custom"))


def _overall(run: RunData) -> list[tuple[str, str]]:
    """``(key, heading)`` of the overall score columns: headline, macro-F1, accuracy, F1(main)."""
    keys = dict.fromkeys([_metric(run), "macro_f1", "accuracy", "main_f1"])
    names = {"macro_f1": "macro-F1", "main_f1": f"F1({run.labels[0]})"}
    return [(key, names.get(key, key)) for key in keys]


def _scores(doc: Document, run: RunData) -> None:
    m = run.metrics
    doc.heading("Scores")
    doc.paragraph(
        f"Headline metric: {_metric(run)}. macro-F1 is scikit-learn's (for one label the mean "
        "of the F1 of class 0 and class 1; for several the mean over labels of each label's "
        "F1); accuracy counts a row right when every label is right; f1_custom = 0.5 × "
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
                name = f"{_SET_NAMES[which]} ({'0.5' if at == 'at_0.5' else 'tuned'})"
                rows.append([name] + [_num(s.get(key)) for key, _ in cols])
    doc.table(["evaluation"] + [name for _, name in cols], rows)
    for which in ("oof", "test"):
        if which not in m:
            continue
        doc.heading(f"Per label, {_SET_NAMES[which]}", 3)
        half, tuned = m[which]["at_0.5"], m[which]["tuned"]
        rows = []
        for label, t in zip(run.labels, run.thresholds, strict=True):
            a, b = half["per_label"][label], tuned["per_label"][label]
            rows.append(
                [label, str(a["support"]), _num(a["f1"]), f"{t:.2f}"]
                + [_num(b.get(k)) for k in _PER_LABEL]
            )
        header = ["label", "support", "F1 @0.5", "threshold", "P tuned", "R tuned", "F1 tuned"]
        doc.table(header + ["macro-F1 tuned", "accuracy tuned", "AP", "ROC-AUC"], rows)
    if "test" not in m:
        doc.paragraph("No test set: only out-of-fold scores.")
    _bases(doc, run)


def _bases(doc: Document, run: RunData) -> None:
    """A stacked run's bases, each scored on its own (thresholds tuned on its own OOF)."""
    bases = run.metrics.get("bases")
    if not isinstance(bases, dict) or not bases:
        return
    doc.heading("Stacked bases on their own", 3)
    metric = _metric(run)
    rows = []
    for name, base in bases.items():
        base = base if isinstance(base, dict) else {}
        rows.append(
            [str(name), str(base.get("backend", "-"))]
            + [
                _num(dig(base, *keys))
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


def _folds(doc: Document, run: RunData) -> None:
    folds, labels = run.metrics.get("folds") or [], run.labels
    if not folds:
        return
    doc.heading("Fold-to-fold spread")
    doc.paragraph(
        "Each fold's model scored on its own held-out fold at threshold 0.5; the last row "
        "is the mean ± standard deviation over folds."
    )
    overall = list(dict.fromkeys([_metric(run), "macro_f1"]))
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
            + [_num(v) for v in values]
            + [_duration(fold["seconds"]) if "seconds" in fold else "-"]
        )
    table = np.array(columns, dtype=float)
    spread = [
        f"{np.nanmean(col):.4f} ± {np.nanstd(col):.4f}" if not np.isnan(col).all() else "-"
        for col in table.T
    ]
    rows.append(["mean ± std", "", ""] + spread + [""])
    doc.table(header, rows)


def _eval_sets(run: RunData) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{display name: (Y, P)}`` of the prediction files the run has."""
    sets = {}
    for which in ("oof", "test"):
        frame = run.predictions(which)
        if frame is not None and len(frame):
            sets[_SET_NAMES[which]] = _arrays(run, which)
    return sets


def _arrays(run: RunData, which: str) -> tuple[np.ndarray, np.ndarray]:
    """``(Y, P)`` of a prediction file without its unreadable rows."""
    Y, P = run.arrays(which)
    keep = ~(np.isnan(Y).any(axis=1) | np.isnan(P).any(axis=1))
    return Y[keep].astype(int), P[keep]


def _main_set(run: RunData) -> str:
    """Where the single-set sections look: the test predictions when present, else OOF."""
    return "test" if run.test is not None and len(run.test) else "oof"


def _curves(doc: Document, run: RunData) -> None:
    sets, labels = _eval_sets(run), run.labels
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
    which = _main_set(run)
    Y, P = _arrays(run, which)
    doc.heading("Score distributions")
    doc.paragraph(
        f"Predicted probabilities on the {_SET_NAMES[which]} predictions, split by the true "
        "label (counts on a log scale), with the tuned threshold (solid) and 0.5 (dotted). "
        "Positives left of the threshold are missed; negatives right of it are false alarms."
    )
    doc.figure(
        "score_histograms.png",
        plots.score_histograms(labels, Y, P, run.thresholds, _SET_NAMES[which]),
        "score histograms",
    )


def _confusion(doc: Document, run: RunData) -> None:
    doc.heading("Confusion counts at the tuned thresholds")
    rows = []
    for name, (Y, P) in _eval_sets(run).items():
        pred = binarize(P, run.thresholds)
        for j, label in enumerate(run.labels):
            counts = confusion(Y[:, j], pred[:, j])
            rows.append([label, name, f"{run.thresholds[j]:.2f}"] + [str(c) for c in counts])
    doc.table(["label", "set", "threshold", "TP", "FP", "FN", "TN"], rows)


def _training(doc: Document, run: RunData) -> None:
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
                _num(best["val_loss"]),
                _num(history[-1]["val_loss"]),
                _num(best.get("val_macro_f1")),
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


def _errors(doc: Document, run: RunData) -> None:
    labels, which = run.labels, _main_set(run)
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


# --- formatting -------------------------------------------------------------------------


def _num(value: Any, digits: int = 4) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return "-" if value is None or isinstance(value, float) else str(value)
    return f"{value:.{digits}f}"


def _duration(seconds: float) -> str:
    """``"9.9 s"``, ``"15 min 01 s"``, ``"1 h 05 min"``.

    >>> _duration(9.91), _duration(901), _duration(3935.3)
    ('9.9 s', '15 min 01 s', '1 h 05 min')
    """
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _brief(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(_brief(v) for v in value) + ")"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_brief(v)}" for k, v in value.items())
    return str(value)
