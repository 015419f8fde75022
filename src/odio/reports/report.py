"""A readable report of one run directory: scores, fold spread, curves, losses, worst errors.

:func:`write_report` reads what ``odio train`` wrote (``metrics.json``, ``config.yaml``,
``oof.csv`` and, when a test set was given, ``test_predictions.csv``) and writes two twins:

* ``report.html``: one self-contained file (every figure is an embedded base64 PNG);
* ``report.md``: the same content in Markdown, its figures in ``report_files/``.

The figures need matplotlib, the ``report`` extra; it is imported only when a report is
written. The run is read by :func:`odio.runs.read_run` and the page is built with
:class:`odio.reports.document.Document`; this module holds the page's header, the
sections are in :mod:`.scores`, :mod:`.curves` and :mod:`.confident_errors`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from odio.checks.run import run_check
from odio.checks.suite import load_suite
from odio.errors import OdioError
from odio.extras import require
from odio.files import record_files
from odio.reports.checks import check_section
from odio.reports.confident_errors import errors_section
from odio.reports.curves import curves_section, training_section
from odio.reports.document import Document
from odio.reports.format import brief, duration
from odio.reports.scores import confusion_section, folds_section, headline_metric, scores_section
from odio.runs import RunData, dig, read_run

log = logging.getLogger(__name__)

_FIGURES_DIR = "report_files"


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
    scores_section(doc, run)
    folds_section(doc, run)
    curves_section(doc, run)
    confusion_section(doc, run)
    training_section(doc, run)
    errors_section(doc, run)
    for suite in suites:
        check_section(doc, run_check(run.path / "model", suite, run_dir=run.path))

    figures = []
    for name, png in doc.figures():
        (figures_dir / name).write_bytes(png)
        figures.append(figures_dir / name)
    html_file, md_file = out / "report.html", out / "report.md"
    html_file.write_text(doc.to_html(), encoding="utf-8")
    md_file.write_text(doc.to_markdown(), encoding="utf-8")
    # written into an odio output (the run itself): a later --overwrite may replace them
    record_files(out, [html_file.name, md_file.name, _FIGURES_DIR])
    log.debug("report of %s written to %s", run.path, out)
    return ReportFiles(html_file, md_file, figures)


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
            ["bases", ", ".join(map(str, bases)) if isinstance(bases, dict) else brief(bases)]
        )
    read = (dig(m, "data", "train", "label_format") or "votes") if m.get("data") else "-"
    rows += [
        ["labels", f"{', '.join(labels)} (main: {labels[0]})"],
        ["labels read as", f"votes >= {m.get('min_votes')}" if read == "votes" else read],
        ["headline metric", headline_metric(run)],
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
        rows.append(["settings", ", ".join(f"{k} {brief(v)}" for k, v in settings.items())])
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
        rows.append(["train time", f"{duration(train_seconds)} ({train_seconds:.1f} s)"])
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
