"""Several runs side by side: one row per run directory, its data, settings and headline scores.

:func:`compare_runs` reads the ``metrics.json`` and ``config.yaml`` of each run into a
:class:`pandas.DataFrame` (one row per run, the columns of :data:`COLUMNS`);
:func:`sort_runs` orders it by a column; :func:`format_comparison` renders it as a Markdown
pipe table or as CSV. A value a run does not have (no test set, no learning rate for TF-IDF)
is missing: empty in CSV, ``-`` in Markdown. Runs trained on other data or labels, or
scored by another headline metric, are in other groups and are not ranked against each
other (unless forced): their scores do not measure the same thing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from odio.errors import OdioError
from odio.metrics import best_epoch
from odio.reports.document import markdown_table
from odio.runs import RunData, dig, read_run

COLUMNS: dict[str, str] = {
    "group": "runs with the same training data, labels and headline metric share a group; "
    "runs are ranked only within their group",
    "run": "the run directory's name",
    "backend": "tfidf, transformer, stack",
    "model": "the model (a local path shortened to its last part)",
    "data": "the training file's name, rows used and the first hex digits of its SHA-256",
    "test_data": "the same for the test file",
    "labels": "the labels, main first",
    "metric": "the headline metric the score columns hold",
    "labels_read_as": "votes >= min_votes, binary or text",
    "epochs": "transformer max_epochs",
    "best_epoch": "mean over folds of the epoch with the lowest validation loss (the one kept)",
    "lr": "transformer peak learning rate",
    "max_length": "transformer token limit per tweet",
    "cv": "mean over folds of each fold model's headline metric on its held-out fold",
    "cv_std": "standard deviation of the same",
    "oof_tuned": "out-of-fold headline metric at the tuned thresholds (optimistic)",
    "test_at_0.5": "test headline metric at threshold 0.5",
    "test_tuned": "test headline metric at the tuned thresholds",
    "test_main_f1_tuned": "test F1 of the main label at its tuned threshold",
    "suite_odio": "functional test suite accuracy on the main label only (odio train --check)",
    "suite_full": "functional test suite accuracy on every suite label the model has",
    "suite_odio_auc": "functional test suite AUC of the main label (no threshold moves it)",
    "train_seconds": "cross-validation wall time in seconds",
}
"""The columns of :func:`compare_runs`, each with what it holds."""

_INTEGERS = ("epochs", "max_length", "group")
_SCORES = (
    "cv",
    "cv_std",
    "oof_tuned",
    "test_at_0.5",
    "test_tuned",
    "test_main_f1_tuned",
    "suite_odio",
    "suite_full",
    "suite_odio_auc",
)
FORMATS = ("markdown", "csv")


def compare_runs(run_dirs: Sequence[str | Path]) -> pd.DataFrame:
    """One row per run directory (in the order given), the columns of :data:`COLUMNS`.

    Raises:
        OdioError: no directory is given, or one is not a run directory.

    Example:
        >>> table = compare_runs(["runs/tfidf", "runs/e5small"])  # doctest: +SKIP
        >>> table[["run", "test_f1_custom_tuned"]]  # doctest: +SKIP
                run  test_f1_custom_tuned
        0     tfidf                0.7573
        1  e5small                 0.7865
    """
    if not run_dirs:
        raise OdioError("no run directories to compare")
    frame = pd.DataFrame([_row(read_run(d, predictions=False)) for d in run_dirs])
    frame = frame.reindex(columns=list(COLUMNS))
    for column in _INTEGERS:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("Int64")
    for column in (*_SCORES, "best_epoch", "lr", "train_seconds"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    return frame


def default_sort_key(frame: pd.DataFrame) -> str:
    """``test_tuned`` when every run has a test score, else ``oof_tuned``.

    Example:
        >>> default_sort_key(pd.DataFrame({"test_tuned": [0.7, None]}))
        'oof_tuned'
    """
    test = frame.get("test_tuned")
    if test is not None and len(test) and test.notna().all():
        return "test_tuned"
    return "oof_tuned"


def sort_runs(frame: pd.DataFrame, by: str | None = None, *, force: bool = False) -> pd.DataFrame:
    """The rows ordered by column ``by`` (default :func:`default_sort_key`) within each group
    (see :data:`COLUMNS`); with ``force``, across groups.

    Numbers sort best first (descending), text alphabetically; missing values go last.

    Raises:
        OdioError: ``by`` is not a column; the message lists the valid ones.

    Example:
        >>> frame = pd.DataFrame({"run": ["a", "b", "c"], "data": ["x", "x", "y"],
        ...                       "labels": ["Odio"] * 3, "metric": ["macro_f1"] * 3,
        ...                       "oof_tuned": [0.6, 0.8, 0.9]})
        >>> sort_runs(frame)["run"].tolist(), sort_runs(frame, force=True)["run"].tolist()
        (['b', 'a', 'c'], ['c', 'b', 'a'])
        >>> sort_runs(frame, "f1")
        Traceback (most recent call last):
        ...
        odio.errors.OdioError: unknown sort key 'f1'; choose one of: run, data, labels, metric, oof_tuned
    """  # noqa: E501 - a doctest output line cannot be wrapped
    key = by or default_sort_key(frame)
    if key not in frame.columns:
        raise OdioError(f"unknown sort key {key!r}; choose one of: {', '.join(frame.columns)}")
    frame = frame.assign(group=groups(frame, key))
    numeric = pd.api.types.is_numeric_dtype(frame[key])
    ordered = frame.sort_values(key, ascending=not numeric, na_position="last", kind="stable")
    if not force:
        ordered = ordered.sort_values("group", kind="stable")
    return ordered.reset_index(drop=True)


def groups(frame: pd.DataFrame, key: str) -> list[int]:
    """Group number of each row: rows are comparable on ``key`` when they share the labels,
    the headline metric and the data the key is measured on (the test file for ``test_*``
    columns, the training file otherwise); on a suite accuracy (``suite_*``, the same
    cases for every run), when they share the labels.

    >>> frame = pd.DataFrame({"data": ["a", "b"], "test_data": ["t", "t"],
    ...                       "labels": ["Odio", "Odio"], "metric": ["macro_f1", "accuracy"]})
    >>> groups(frame, "test_tuned"), groups(frame, "cv"), groups(frame, "suite_odio")
    ([1, 2], [1, 2], [1, 1])
    """
    suite = key.startswith("suite_")
    on = "test_data" if key.startswith("test") else "data"
    keys: dict[tuple[Any, ...], int] = {}
    return [
        keys.setdefault(
            (row.get("labels"),)
            if suite
            else (row.get(on, "-"), row.get("labels"), row.get("metric")),
            len(keys) + 1,
        )
        for _, row in frame.iterrows()
    ]


def format_comparison(frame: pd.DataFrame, fmt: str = "markdown") -> str:
    """The table as a Markdown pipe table (``cv`` shown as mean ± std) or as CSV.

    Example:
        >>> frame = pd.DataFrame({"run": ["a"], "cv": [0.81234], "cv_std": [0.01],
        ...                       "lr": [float("nan")]})
        >>> print(format_comparison(frame), end="")
        | run | cv | lr |
        |---|---:|---:|
        | a | 0.8123 ± 0.0100 | - |
    """
    if fmt == "csv":
        return frame.to_csv(index=False)
    if fmt != "markdown":
        raise OdioError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    columns = [c for c in frame.columns if c != "cv_std"]
    rows = [[_cell(column, row) for column in columns] for _, row in frame.iterrows()]
    return markdown_table(columns, rows) + "\n"


def _cell(column: str, row: pd.Series) -> str:
    value = row[column]
    if _missing(value):
        return "-"
    if column == "cv" and not _missing(row.get("cv_std")):
        return f"{value:.4f} ± {row['cv_std']:.4f}"
    if column in _SCORES:
        return f"{value:.4f}"
    if column == "lr":
        return f"{value:g}"
    if column == "best_epoch":
        return f"{value:.1f}"
    if column == "train_seconds":
        return f"{value:.1f}"
    return str(value)


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _row(run: RunData) -> dict[str, Any]:
    m, config = run.metrics, run.config
    backend = m.get("backend")
    metric = str(m.get("metric", "f1_custom"))  # odio < 0.2 ranked every run by f1_custom
    train = dig(m, "data", "train") or {}
    read_as = (train or dig(m, "data", "test") or {}).get("label_format") or "votes"
    row: dict[str, Any] = {
        "run": run.name,
        "backend": backend,
        "model": short_model(m.get("model", config.get("model", ""))),
        "data": _data(train) if train else "(not trained here)",
        "test_data": _data(dig(m, "data", "test")),
        "labels": ", ".join(run.labels),
        "metric": metric,
        "labels_read_as": f"votes >= {m.get('min_votes')}" if read_as == "votes" else read_as,
        "train_seconds": m.get("train_seconds", m.get("seconds")),
    }
    if backend == "transformer":
        settings = config.get("transformer") or {}
        row.update({k: settings.get(k) for k in ("lr", "max_length")})
        row["epochs"] = settings.get("max_epochs")
    best = best_epochs(m.get("folds") or [])
    row["best_epoch"] = float(np.mean(best)) if best else None
    cv = (m.get("cv") or {}).get(metric) or {}
    row["cv"], row["cv_std"] = cv.get("mean"), cv.get("std")
    row["oof_tuned"] = dig(m, "oof", "tuned", metric)
    row["test_at_0.5"] = dig(m, "test", "at_0.5", metric)
    row["test_tuned"] = dig(m, "test", "tuned", metric)
    row["test_main_f1_tuned"] = dig(m, "test", "tuned", "per_label", run.labels[0], "f1")
    row["suite_odio"] = dig(m, "checks", "accuracy_odio")
    row["suite_full"] = dig(m, "checks", "accuracy_full")
    row["suite_odio_auc"] = dig(m, "checks", "auc_odio")
    return row


def _data(report: dict[str, Any] | None) -> str:
    """``name (rows, hash)`` of a file's load report; ``-`` without one."""
    if not report:
        return "-"
    digest = f", {report['sha256'][:8]}" if report.get("sha256") else ""
    return (
        f"{Path(str(report.get('path', '?'))).name} ({report.get('rows_used', '?')} rows{digest})"
    )


def best_epochs(folds: Sequence[dict[str, Any]]) -> list[int]:
    """Per fold with a history, the epoch with the lowest validation loss (the one kept).

    Example:
        >>> h = [{"epoch": 1, "val_loss": 0.3}, {"epoch": 2, "val_loss": 0.2},
        ...      {"epoch": 3, "val_loss": 0.25}]
        >>> best_epochs([{"history": h}, {"history": []}])
        [2]
    """
    kept = (best_epoch(fold.get("history") or []) for fold in folds)
    return [int(best["epoch"]) for best in kept if best is not None]


def short_model(model: Any) -> str:
    """The model name with local paths cut to their last part (also inside a stack spec).

    Example:
        >>> short_model("/root/.cache/hf/multilingual-e5-small"), short_model("tfidf")
        ('multilingual-e5-small', 'tfidf')
        >>> short_model("stack:tfidf+/models/e5")
        'stack:tfidf+e5'
    """
    text = str(model)
    prefix, _, spec = text.partition(":") if text.startswith("stack:") else ("", "", text)
    parts = [
        Path(p).name if p.startswith(("/", "./", "../", "~")) and Path(p).name else p
        for p in spec.split("+")
    ]
    return (prefix + ":" if prefix else "") + "+".join(parts)
