"""A finished run scored on a functional test suite, the result kept in its ``metrics.json``.

:func:`check_run` is what ``odio train --check`` (the ``checks.enabled`` setting) does once
the run directory is written: it scores the run's saved model on the suite twice, on the
main label only (``accuracy_odio``: is hate told apart, whatever the target) and on every
suite label the model has (``accuracy_full``), and adds a compact ``checks`` entry to
``metrics.json``, which ``odio report`` and ``odio compare`` show beside the test score.

The suite is for evaluation only: it runs on the saved model, after the training, and
changes nothing else in the run. From Python::

    run = odio.fit("train.csv", config, test="test.csv").save("runs/tfidf")
    check_run(run)   # metrics.json now has "checks"

``metrics.json`` is replaced whole (written beside it, then renamed over it), so a reader
never sees half of it; it keeps its name, so the run's ``.odio-output.json`` marker stays
true and a later ``--overwrite`` may still replace the run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from odio.checks.results import CaseResult, CheckResult
from odio.checks.run import run_check
from odio.checks.suite import Suite, load_suite
from odio.errors import OdioError
from odio.files import record_files, staging_file

__all__ = ["check_run", "check_summary", "main_suite_label", "suite_for_labels"]

METRICS = "metrics.json"


def suite_for_labels(labels: Sequence[str], suite: Suite | str | Path | None = None) -> Suite:
    """The suite, loaded, once it is known that a model with ``labels`` can be scored on it:
    ``odio train --check`` asks before any training, not after.

    Raises:
        OdioError: the suite cannot be read, or ``labels`` include none of its labels.

    Example:
        >>> suite_for_labels(["Odio", "Mujeres"]).name
        'es_cl'
        >>> suite_for_labels(["HS"])
        Traceback (most recent call last):
        ...
        odio.errors.OdioError: --check: the run's labels (HS) include none of suite es_cl's (Odio, Mujeres, Comunidad LGBTQ+, Comunidades Migrantes, Pueblos Originarios); name the labels as the suite does, e.g. --labels HS=Odio
    """  # noqa: E501 - a doctest output line cannot be wrapped
    if not isinstance(suite, Suite):
        suite = load_suite(suite)
    if not any(label in suite.labels for label in labels):
        raise OdioError(
            f"--check: the run's labels ({', '.join(labels)}) include none of suite "
            f"{suite.name}'s ({', '.join(suite.labels)}); name the labels as the suite does, "
            f"e.g. --labels {labels[0]}={suite.labels[0]}"
        )
    return suite


def main_suite_label(suite: Suite) -> str:
    """The suite's main label (``Odio``): the one ``accuracy_odio`` is scored on."""
    return suite.labels[0]


def check_run(
    run_dir: str | Path,
    suite: Suite | str | Path | None = None,
    *,
    progress: bool = False,
) -> dict[str, Any]:
    """Score a run's model on a suite and record the result in the run's ``metrics.json``.

    Args:
        run_dir: a run directory (written by ``odio train`` or ``TrainedRun.save``).
        suite: a :class:`~odio.checks.suite.Suite`, a suite YAML file or a shipped suite's
            name; default the shipped Chilean-Spanish suite.
        progress: progress bars on standard error while the model scores the cases.

    Returns:
        The ``checks`` entry written: ``suite``, ``cases``, ``functionalities``,
        ``main_label``, ``accuracy_odio`` (main label only; ``None`` when the model
        lacks it),
        ``accuracy_full`` (every suite label the model has), ``auc_odio`` (the main
        label's AUC over the cases, which no threshold moves; ``None`` when the model lacks
        it), ``labels_full``, ``in_training`` and ``groups`` (per functionality group,
        ``{"odio": ..., "full": ...}``). Accuracies are the mean over functionalities, as
        ``odio check`` reports.

    Raises:
        OdioError: ``run_dir`` is not a run directory, or the model has none of the
            suite's labels.

    Example:
        >>> entry = check_run("runs/tfidf")  # doctest: +SKIP
        >>> entry["accuracy_odio"], entry["accuracy_full"]  # doctest: +SKIP
        (0.5719, 0.4978)
    """
    from odio.inference.detector import Detector

    folder = Path(run_dir)
    metrics_file = folder / METRICS
    if not metrics_file.is_file() or not (folder / "model").is_dir():
        raise OdioError(f"{folder} is not a run directory (no {METRICS} and model/)")
    try:
        metrics = json.loads(metrics_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise OdioError(f"{metrics_file}: cannot be read ({exc})") from None
    if not isinstance(suite, Suite):
        suite = load_suite(suite)
    detector = Detector.load(folder / "model")
    main = main_suite_label(suite)
    full = run_check(detector, suite, run_dir=folder, progress=progress)
    odio = only(full, [main]) if main in full.label_map else None
    entry = summarize(full, odio)
    metrics["checks"] = entry
    _replace_json(metrics_file, metrics)
    record_files(folder, [METRICS])  # already listed by the run's marker: kept consistent
    return entry


def only(result: CheckResult, labels: Sequence[str]) -> CheckResult:
    """``result`` judged on ``labels`` alone: what ``run_check(..., labels=labels)`` gives,
    from the same predictions, without scoring the cases again.

    >>> from odio.checks.suite import load_suite
    >>> full = CheckResult(load_suite(), "m", {"Odio": "Odio", "Mujeres": "Mujeres"}, [], [])
    >>> only(full, ["Odio"]).label_map
    {'Odio': 'Odio'}
    """
    keep = set(labels)
    return replace(
        result,
        label_map={k: v for k, v in result.label_map.items() if k in keep},
        missing=[label for label in result.missing if label in keep],
        results=[
            CaseResult(
                r.case,
                {k: v for k, v in r.probabilities.items() if k in keep},
                {k: v for k, v in r.decisions.items() if k in keep},
                tuple(label for label in r.scored if label in keep),
            )
            for r in result.results
        ],
    )


def summarize(full: CheckResult, odio: CheckResult | None) -> dict[str, Any]:
    """The compact ``checks`` entry of :func:`check_run` from its two results."""
    suite = full.suite
    odio_groups = {s.name: s.macro for s in odio.by_group()} if odio is not None else {}
    return {
        "suite": suite.name,
        "cases": len(suite.cases),
        "functionalities": len(suite.functionalities),
        "main_label": main_suite_label(suite),
        "accuracy_odio": _round(odio.accuracy) if odio is not None else None,
        "accuracy_full": _round(full.accuracy),
        "auc_odio": next(
            (row["auc"] for row in full.by_label() if row["label"] == main_suite_label(suite)),
            None,
        ),
        "labels_full": list(full.label_map),
        "in_training": full.in_training,
        "groups": {
            s.name: {"odio": _round(odio_groups.get(s.name)), "full": _round(s.macro)}
            for s in full.by_group()
        },
    }


def check_summary(entry: dict[str, Any]) -> str:
    """One line of a ``checks`` entry, for the console.

    >>> check_summary({"suite": "es_cl", "cases": 1799, "functionalities": 41,
    ...                "main_label": "Odio", "accuracy_odio": 0.61234, "accuracy_full": 0.5})
    'suite es_cl (41 functionalities, 1799 cases): accuracy 0.6123 Odio only, 0.5000 all labels'
    >>> check_summary({"main_label": "Odio", "accuracy_odio": 0.7, "auc_odio": 0.8}).split(": ")[1]
    'accuracy 0.7000 Odio only, - all labels; Odio AUC 0.8000'
    """
    odio = entry.get("accuracy_odio")
    full = entry.get("accuracy_full")
    auc = entry.get("auc_odio")
    main = entry.get("main_label", "Odio")
    return (
        f"suite {entry.get('suite')} ({entry.get('functionalities')} functionalities, "
        f"{entry.get('cases')} cases): accuracy "
        + ("-" if odio is None else f"{odio:.4f}")
        + f" {main} only, "
        + ("-" if full is None else f"{full:.4f}")
        + " all labels"
        + ("" if auc is None else f"; {main} AUC {auc:.4f}")
    )


def _replace_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` beside ``path``, then rename it over ``path``."""
    tmp = staging_file(path)
    try:
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OdioError(f"cannot write {path}: {exc.strerror or exc}") from None


def _round(value: float | None) -> float | None:
    if value is None or value != value:  # NaN: nothing scored
        return None
    return round(float(value), 4)
