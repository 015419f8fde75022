"""Scoring a model on a functional test suite: which cases pass, and accuracy per
functionality, functionality group, target group and label.

A case passes when the model's decision (its thresholds and decision rule, see
:meth:`~odio.inference.detector.Detector.decide`) equals the expected value for every
label the case expects *and the model has*. Labels the model lacks are skipped and
reported; a case none of whose labels the model has is skipped. A model whose labels have
other names is scored through ``label_map`` (model label -> suite label, e.g.
``{"HS": "Odio"}``). The accuracies and tables are :class:`~odio.checks.results.CheckResult`'s.

Example:
    >>> run_check("runs/tfidf", labels=["Odio"]).accuracy  # doctest: +SKIP
    0.6532
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from odio.checks.results import CaseResult, CheckResult
from odio.checks.suite import Suite, load_suite
from odio.errors import OdioError
from odio.inference.detector import Detector

log = logging.getLogger(__name__)

__all__ = ["run_check"]

BATCH = 256
"""Texts scored per call of the model (the progress bar advances per batch)."""


def run_check(
    model: Detector | str | Path,
    suite: Suite | str | Path | None = None,
    *,
    label_map: Mapping[str, str] | None = None,
    labels: Sequence[str] | None = None,
    run_dir: str | Path | None = None,
    progress: bool = False,
) -> CheckResult:
    """Score a model on a functional test suite.

    Args:
        model: a :class:`~odio.inference.detector.Detector`, or a model or run directory
            to load one from.
        suite: a :class:`~odio.checks.suite.Suite`, a YAML file or a shipped suite's
            name; default the shipped Chilean-Spanish suite.
        label_map: model label -> suite label, for models whose labels have other names
            (``{"HS": "Odio"}``); labels of the same name need no entry.
        labels: score only these suite labels (e.g. ``["Odio"]``: is hate told apart,
            whatever the target); default every label the model has.
        run_dir: the run (or model) directory whose training texts (``oof.csv``) the
            cases are looked up in; default ``model`` when it is a path.
        progress: a progress bar on standard error while the model scores the cases.

    A warning is logged when any case is among the run's training texts: the suite is for
    evaluation only.

    Raises:
        OdioError: the model has none of the labels the suite expects, or ``label_map``
            names a label the model or the suite does not have.

    Example:
        >>> result = run_check("runs/tfidf")  # doctest: +SKIP
        >>> round(result.accuracy, 2), result.failures()[0].case.text  # doctest: +SKIP
        (0.61, 'no odio a los peruanos')
    """
    if not isinstance(suite, Suite):
        suite = load_suite(suite)
    if isinstance(model, Detector):
        detector, name = model, str(run_dir or model.backend)
    else:
        detector, name = Detector.load(model), str(model)
        run_dir = model if run_dir is None else run_dir
    in_training = None if run_dir is None else _training_overlap(Path(run_dir), suite)
    columns = _columns(detector.labels, suite, label_map or {})
    expected = list(dict.fromkeys(label for c in suite.cases for label in c.expect))
    if labels is not None:
        unknown = [label for label in labels if label not in suite.labels]
        if unknown:
            raise OdioError(
                f"suite {suite.name} has no label {unknown[0]!r} (its labels: "
                f"{', '.join(suite.labels)})"
            )
        columns = {label: j for label, j in columns.items() if label in labels}
        expected = [label for label in expected if label in labels]
    missing = [label for label in expected if label not in columns]
    if not any(label in columns for label in expected):
        raise OdioError(
            f"the model's labels ({', '.join(detector.labels)}) include none of those suite "
            f"{suite.name} expects ({', '.join(expected)}); map one with --map MODEL=SUITE, "
            "e.g. --map HS=Odio"
        )
    if missing:
        log.warning(
            "the model has no label %s: %s expectations are not scored",
            ", ".join(missing),
            suite.name,
        )
    cases = suite.cases
    P = _predict(detector, [c.text for c in cases], progress)
    D = detector.decide(P)
    results = []
    for i, case in enumerate(cases):
        results.append(
            CaseResult(
                case,
                {label: float(P[i, j]) for label, j in columns.items()},
                {label: int(D[i, j]) for label, j in columns.items()},
                tuple(label for label in case.expect if label in columns),
            )
        )
    thresholds = dict(zip(detector.labels, detector.thresholds.tolist(), strict=True))
    return CheckResult(
        suite,
        name,
        {label: detector.labels[j] for label, j in columns.items()},
        missing,
        results,
        in_training,
        {"thresholds": thresholds, "decision_rule": detector.decision_rule},
    )


def _columns(model_labels: list[str], suite: Suite, label_map: Mapping[str, str]) -> dict[str, int]:
    """Suite label -> the model's column for it, in the suite's label order."""
    for model_label, suite_label in label_map.items():
        if model_label not in model_labels:
            raise OdioError(
                f"--map {model_label}={suite_label}: the model has no label {model_label!r} "
                f"(its labels: {', '.join(model_labels)})"
            )
        if suite_label not in suite.labels:
            raise OdioError(
                f"--map {model_label}={suite_label}: suite {suite.name} has no label "
                f"{suite_label!r} (its labels: {', '.join(suite.labels)})"
            )
    mapped = {suite_label: model_labels.index(m) for m, suite_label in label_map.items()}
    for j, label in enumerate(model_labels):
        if label in suite.labels and label not in label_map:
            mapped.setdefault(label, j)
    return {label: mapped[label] for label in suite.labels if label in mapped}


def _predict(detector: Detector, texts: list[str], progress: bool) -> np.ndarray:
    """Probabilities of ``texts`` in batches, with an optional progress bar."""
    parts = []
    with tqdm(
        total=len(texts), disable=not progress, unit="case", desc="checking", leave=False
    ) as bar:
        for start in range(0, len(texts), BATCH):
            batch = texts[start : start + BATCH]
            parts.append(np.asarray(detector.predict_proba(batch), dtype=float))
            bar.update(len(batch))
    return np.concatenate(parts) if parts else np.zeros((0, len(detector.labels)))


def _training_overlap(path: Path, suite: Suite) -> int | None:
    """How many suite cases are among a run's training texts (``oof.csv`` in the run
    directory, which is ``path`` or, for ``RUN/model``, its parent); ``None`` without one."""
    for folder in (path, path.parent):
        oof = folder / "oof.csv"
        if oof.is_file():
            break
    else:
        return None
    try:
        texts = pd.read_csv(oof, usecols=["text"])["text"].dropna().astype(str)
    except (ValueError, OSError, pd.errors.ParserError):
        return None
    seen = {_key(t) for t in texts}
    found = sum(_key(case.text) in seen for case in suite.cases)
    if found:
        log.warning(
            "%d cases of suite %s are among the training texts of %s: the suite is for "
            "evaluation only, never train or tune on it",
            found,
            suite.name,
            folder,
        )
    return found


def _key(text: str) -> str:
    return " ".join(text.lower().split())
