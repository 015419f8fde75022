"""Scoring a model on a functional test suite: which cases pass, and accuracy per
functionality, functionality group, target group and label.

A case passes when the model's decision (its thresholds and decision rule, see
:meth:`~odio.inference.detector.Detector.decide`) equals the expected value for every
label the case expects *and the model has*. Labels the model lacks are skipped and
reported; a case none of whose labels the model has is skipped. A model whose labels have
other names is scored through ``label_map`` (model label -> suite label, e.g.
``{"HS": "Odio"}``).

Accuracies come two ways: **macro**, the mean over functionalities of each functionality's
accuracy (every functionality weighs the same, however many cases its templates expand to),
and **micro**, passed cases over scored cases. The overall macro accuracy is the headline
(``odio check --min-accuracy`` compares it); for a group or a target group, macro is the
mean over the functionalities that have cases in it, each scored on those cases.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from odio.checks.suite import Case, Suite, load_suite
from odio.errors import OdioError
from odio.inference.detector import Detector

log = logging.getLogger(__name__)

__all__ = ["CaseResult", "CheckResult", "Score", "run_check"]

BATCH = 256
"""Texts scored per call of the model (the progress bar advances per batch)."""


@dataclass(frozen=True)
class CaseResult:
    """A case, what the model said, and whether that is what the suite expects."""

    case: Case
    probabilities: dict[str, float]
    """Suite label -> the model's probability, for every label the model has."""
    decisions: dict[str, int]
    """Suite label -> the model's 0/1 decision, for every label the model has."""
    scored: tuple[str, ...]
    """The expected labels the model has: those the case is judged on."""

    @property
    def passed(self) -> bool:
        """Every scored label decided as expected (``False`` when nothing is scored)."""
        return bool(self.scored) and all(
            self.decisions[label] == self.case.expect[label] for label in self.scored
        )

    @property
    def wrong(self) -> list[str]:
        """The scored labels decided otherwise than expected."""
        return [label for label in self.scored if self.decisions[label] != self.case.expect[label]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: id, functionality, text, targets, expected, decisions,
        probabilities, wrong labels."""
        return {
            "id": self.case.id,
            "functionality": self.case.functionality,
            "text": self.case.text,
            "targets": list(self.case.targets),
            "expected": {label: self.case.expect[label] for label in self.scored},
            "decisions": {label: self.decisions[label] for label in self.scored},
            "probabilities": {label: round(self.probabilities[label], 4) for label in self.scored},
            "wrong": self.wrong,
        }


@dataclass(frozen=True)
class Score:
    """Accuracy of a set of cases: micro (over cases) and macro (over functionalities)."""

    name: str
    cases: int
    """Scored cases."""
    passed: int
    macro: float | None
    """Mean over functionalities of their accuracy on these cases (``None``: no case)."""
    functionalities: int
    """Functionalities with scored cases here."""

    @property
    def micro(self) -> float | None:
        """Passed over scored cases (``None``: no case)."""
        return self.passed / self.cases if self.cases else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, accuracies rounded to 4 decimals."""
        return {
            "name": self.name,
            "cases": self.cases,
            "passed": self.passed,
            "accuracy": _round(self.macro),
            "accuracy_cases": _round(self.micro),
            "functionalities": self.functionalities,
        }


@dataclass(frozen=True)
class CheckResult:
    """A model's results on a suite (see :func:`run_check`)."""

    suite: Suite
    model: str
    """What was checked (the model's path, or its backend)."""
    label_map: dict[str, str]
    """Suite label -> model label, for the suite labels the model has."""
    missing: list[str]
    """Suite labels the cases expect that the model lacks (not scored)."""
    results: list[CaseResult]
    in_training: int | None = None
    """Suite cases found among the run's training texts (``None``: not looked up)."""
    info: dict[str, Any] = field(default_factory=dict)
    """The model's thresholds and decision rule."""

    @property
    def scored(self) -> list[CaseResult]:
        """Results of the cases with at least one scored label."""
        return [r for r in self.results if r.scored]

    @property
    def skipped(self) -> int:
        """Cases none of whose expected labels the model has."""
        return len(self.results) - len(self.scored)

    @property
    def accuracy(self) -> float:
        """The headline: the mean over functionalities of their accuracy."""
        macro = self.overall().macro
        return float("nan") if macro is None else macro

    def overall(self) -> Score:
        """Every scored case."""
        return _score("overall", self.scored)

    def by_functionality(self) -> list[Score]:
        """One score per functionality, in the suite's order."""
        return self._grouped(lambda r: [r.case.functionality], _names(self.suite))

    def by_group(self) -> list[Score]:
        """One score per functionality group, in order of first appearance."""
        return self._grouped(lambda r: [r.case.group], self.suite.groups)

    def by_target(self) -> list[Score]:
        """One score per target-group label (a case about two groups counts in both), then
        ``none`` for cases about no protected group."""
        order = [label for label in self.suite.labels if label not in self.suite.labels[:1]]
        return self._grouped(lambda r: list(r.case.targets) or ["none"], order + ["none"])

    def by_label(self) -> list[dict[str, Any]]:
        """Per scored label: how often its decision matches among the cases expecting 1 and
        among those expecting 0, and its ``auc``, which no threshold moves: the chance that
        a case expecting 1 gets a higher probability than one expecting 0 (ties count half;
        ``None`` unless the label has cases of both kinds)."""
        from sklearn.metrics import roc_auc_score

        rows = []
        for label in self.label_map:
            row: dict[str, Any] = {"label": label, "model_label": self.label_map[label]}
            for value, key in ((1, "expect_1"), (0, "expect_0")):
                hits = [
                    r.decisions[label] == value
                    for r in self.scored
                    if r.case.expect.get(label) == value
                ]
                row[key] = {"cases": len(hits), "accuracy": _round(_mean(hits))}
            cases = [r for r in self.scored if label in r.case.expect]
            expected = [r.case.expect[label] for r in cases]
            row["auc"] = (
                _round(float(roc_auc_score(expected, [r.probabilities[label] for r in cases])))
                if len(set(expected)) == 2
                else None
            )
            rows.append(row)
        return rows

    def failures(self) -> list[CaseResult]:
        """The scored cases that failed, in suite order."""
        return [r for r in self.scored if not r.passed]

    def _grouped(self, keys: Callable[[CaseResult], list[str]], order: list[str]) -> list[Score]:
        buckets: dict[str, list[CaseResult]] = {name: [] for name in order}
        for result in self.scored:
            for key in keys(result):
                buckets.setdefault(key, []).append(result)
        return [_score(name, members) for name, members in buckets.items() if members]

    def to_dict(self) -> dict[str, Any]:
        """Everything as JSON-ready data: the suite, the model, every table and every
        failing case with its probabilities."""
        suite = self.suite
        functionalities = {f.name: f for f in suite.functionalities}
        return {
            "suite": {
                "name": suite.name,
                "source": suite.source,
                "language": suite.language,
                "functionalities": len(suite.functionalities),
                "cases": len(suite.cases),
            },
            "model": self.model,
            **self.info,
            "labels": self.label_map,
            "missing_labels": self.missing,
            "skipped_cases": self.skipped,
            "in_training": self.in_training,
            "overall": self.overall().to_dict(),
            "groups": [s.to_dict() for s in self.by_group()],
            "targets": [s.to_dict() for s in self.by_target()],
            "functionalities": [
                {
                    **s.to_dict(),
                    "group": functionalities[s.name].group,
                    "description": functionalities[s.name].description,
                    "expect": functionalities[s.name].expect,
                }
                for s in self.by_functionality()
            ],
            "per_label": self.by_label(),
            "failures": [r.to_dict() for r in self.failures()],
        }


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


def _score(name: str, results: Iterable[CaseResult]) -> Score:
    results = list(results)
    per: dict[str, list[bool]] = {}
    for r in results:
        per.setdefault(r.case.functionality, []).append(r.passed)
    macro = _mean([_mean(v) or 0.0 for v in per.values()]) if per else None
    passed = sum(r.passed for r in results)
    return Score(name, len(results), passed, macro, len(per))


def _names(suite: Suite) -> list[str]:
    return [f.name for f in suite.functionalities]


def _mean(values: list[bool] | list[float]) -> float | None:
    return float(np.mean(values)) if len(values) else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
