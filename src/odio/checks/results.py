"""A model's results on a functional test suite: each case's outcome (:class:`CaseResult`),
accuracies (:class:`Score`) and every table of them (:class:`CheckResult`), as
:func:`odio.checks.run.run_check` returns them.

Accuracies come two ways: **macro**, the mean over functionalities of each functionality's
accuracy (every functionality weighs the same, however many cases its templates expand to),
and **micro**, passed cases over scored cases. The overall macro accuracy is the headline
(``odio check --min-accuracy`` compares it); for a group or a target group, macro is the
mean over the functionalities that have cases in it, each scored on those cases.

Example:
    >>> result = run_check("runs/tfidf")  # doctest: +SKIP
    >>> [s.name for s in result.by_group()][:2]  # doctest: +SKIP
    ['derogation', 'implicit']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from odio.checks.suite import Case, Suite

__all__ = ["CaseResult", "CheckResult", "Score"]


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
