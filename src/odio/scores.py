"""Scores as typed values: what :func:`odio.metrics.score` computes, with fields instead of keys.

``metrics.json`` and ``odio evaluate --json`` keep the plain nested form (what
:func:`odio.metrics.score` returns); :meth:`Scores.from_dict` and :meth:`Scores.to_dict`
turn one into the other, so Python users read ``run.test.tuned.f1_custom`` where the file
has ``["test"]["tuned"]["f1_custom"]``.

>>> s = Scores.from_dict({"metric": "macro_f1", "macro_f1": 0.7, "main_f1": 0.6,
...                       "accuracy": 0.8, "per_label": {}})
>>> s.headline, s.to_dict()["macro_f1"]
(0.7, 0.7)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

AT_HALF, TUNED = "at_0.5", "tuned"
"""The keys of the two threshold settings in ``metrics.json``."""


@dataclass(frozen=True)
class LabelScores:
    """One label's scores at one set of thresholds."""

    precision: float
    recall: float
    f1: float
    macro_f1: float
    """Two-class macro-F1 of this label (its positive and negative class)."""
    accuracy: float
    average_precision: float | None
    """``None`` when the label has one class only in the data scored."""
    roc_auc: float | None
    support: int
    """Positive rows in the data."""
    predicted: int
    """Rows decided positive."""


@dataclass(frozen=True)
class Scores:
    """Every score of a set of predictions at one set of thresholds."""

    metric: str
    """The headline metric's name: ``f1_custom``, ``macro_f1``, ``main_f1`` or ``accuracy``."""
    macro_f1: float
    main_f1: float
    """F1 of the main (first) label."""
    accuracy: float
    per_label: dict[str, LabelScores]
    f1_custom: float | None = None
    """The Datathon 2022 metric, when the labels are the Datathon's."""

    @property
    def headline(self) -> float:
        """The value of :attr:`metric`."""
        return float(getattr(self, self.metric))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scores:
        """From :func:`odio.metrics.score`'s nested form."""
        return cls(
            metric=data["metric"],
            macro_f1=data["macro_f1"],
            main_f1=data["main_f1"],
            accuracy=data["accuracy"],
            f1_custom=data.get("f1_custom"),
            per_label={k: LabelScores(**v) for k, v in data["per_label"].items()},
        )

    def to_dict(self) -> dict[str, Any]:
        """:func:`odio.metrics.score`'s nested form (as in ``metrics.json``)."""
        out: dict[str, Any] = {
            "metric": self.metric,
            "macro_f1": self.macro_f1,
            "main_f1": self.main_f1,
            "accuracy": self.accuracy,
        }
        if self.f1_custom is not None:
            out["f1_custom"] = self.f1_custom
        out["per_label"] = {k: asdict(v) for k, v in self.per_label.items()}
        return out


@dataclass(frozen=True)
class ScorePair:
    """The same predictions scored at 0.5 and at the tuned thresholds."""

    at_half: Scores
    """At threshold 0.5 for every label."""
    tuned: Scores
    """At the thresholds tuned on out-of-fold predictions."""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScorePair:
        """From :func:`odio.metrics.score_at_both`'s form."""
        return cls(Scores.from_dict(data[AT_HALF]), Scores.from_dict(data[TUNED]))


@dataclass(frozen=True)
class MeanStd:
    """A score's mean and standard deviation over folds."""

    mean: float
    std: float

    def __str__(self) -> str:
        return f"{self.mean:.4f} ± {self.std:.4f}"


@dataclass(frozen=True)
class FoldScores:
    """One fold of a cross-validation: sizes, time, held-out scores at 0.5, epochs."""

    fold: int
    train_rows: int
    val_rows: int
    seconds: float
    scores: Scores
    history: list[dict[str, float]] = field(default_factory=list)
    """Per-epoch losses, for backends that train in epochs."""


@dataclass(frozen=True)
class Evaluation:
    """A saved model scored on a labelled file (:func:`odio.inference.evaluate.evaluate`)."""

    labels: list[str]
    """The labels scored, the main label first."""
    thresholds: dict[str, float]
    metric: str
    decision_rule: str
    at_half: Scores
    tuned: Scores
    data: dict[str, Any]
    """How the file was read: rows read, used, dropped, label format."""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evaluation:
        """From :func:`odio.inference.evaluate.evaluate_run`'s result."""
        return cls(
            labels=list(data["labels"]),
            thresholds=dict(data["thresholds"]),
            metric=data["metric"],
            decision_rule=data["decision_rule"],
            at_half=Scores.from_dict(data[AT_HALF]),
            tuned=Scores.from_dict(data[TUNED]),
            data=dict(data["data"]),
        )
