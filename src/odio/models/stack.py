"""A stacked model: base blends, and a logistic regression per label on their log-odds.

``--model stack:tfidf+pysentimiento/robertuito-base-uncased`` cross-validates every base in
the run's folds, each with its own normalisation, then fits :class:`StackMeta` on their
out-of-fold probabilities (:mod:`odio.training.stacking`). At prediction time a
:class:`Stack` scores raw texts with every base and combines their probabilities.

A saved stacked model is a directory with ``config.json`` (``backend: stack``, the bases and
the meta-model's coefficients), ``README.md`` and one model directory per base
(``base_0/``, ``base_1/``, ...), each usable on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from odio.errors import OdioError
from odio.metrics import logit
from odio.models.blend import Blend
from odio.text.preprocess import replace_surrogates

if TYPE_CHECKING:  # odio.config builds pydantic models on import: training only
    from odio.config import StackConfig

STACK_PREFIX = "stack:"


def parse_stack(model: str) -> list[str]:
    """The base models of a ``stack:a+b`` model string.

    >>> parse_stack("stack:tfidf+pysentimiento/robertuito-base-uncased")
    ['tfidf', 'pysentimiento/robertuito-base-uncased']
    """
    if not model.startswith(STACK_PREFIX):
        raise OdioError(f"{model!r} is not a stack: write stack:BASE+BASE, e.g. stack:tfidf+MODEL")
    bases = [b.strip() for b in model[len(STACK_PREFIX) :].split("+")]
    if len(bases) < 2 or not all(bases):
        raise OdioError(
            f"{model!r}: a stack needs two or more bases joined by '+', e.g. stack:tfidf+MODEL"
        )
    if any(b.startswith(STACK_PREFIX) for b in bases):
        raise OdioError(f"{model!r}: a stack cannot contain another stack")
    if len(set(bases)) != len(bases):
        raise OdioError(f"{model!r}: a base is listed twice")
    return bases


@dataclass
class StackMeta:
    """Per-label logistic regressions on the bases' log-odds.

    Example:
        >>> from odio.config import StackConfig
        >>> rng = np.random.default_rng(0)
        >>> Y = rng.integers(0, 2, (60, 1))
        >>> bases = [np.clip(Y * 0.6 + rng.random((60, 1)) * 0.4, 0, 1), rng.random((60, 1))]
        >>> meta = StackMeta.fit(bases, Y, StackConfig())
        >>> meta.coef[0][0] > abs(meta.coef[0][1])  # the informative base weighs more
        True
    """

    features: str
    coef: list[list[float]]
    """Per label, one weight per feature column."""
    intercept: list[float]

    def design(self, base_probs: Sequence[np.ndarray], label: int) -> np.ndarray:
        """The meta-model's input for one label: bases' log-odds, base by base."""
        if self.features == "all":
            return np.hstack([logit(P) for P in base_probs])
        return np.column_stack([logit(P[:, label]) for P in base_probs])

    @classmethod
    def fit(cls, base_probs: Sequence[np.ndarray], Y: np.ndarray, config: StackConfig) -> StackMeta:
        """Fit one logistic regression per label (a label with one class in ``Y``
        predicts its rate)."""
        from sklearn.linear_model import LogisticRegression  # training only: a slow import

        meta = cls(config.features, [], [])
        for j in range(Y.shape[1]):
            X, y = meta.design(base_probs, j), Y[:, j]
            if y.min() == y.max():
                meta.coef.append([0.0] * X.shape[1])
                meta.intercept.append(float(logit(y.mean())))
                continue
            model = LogisticRegression(C=config.C, max_iter=1000).fit(X, y)
            meta.coef.append(model.coef_[0].tolist())
            meta.intercept.append(float(model.intercept_[0]))
        return meta

    def predict_proba(self, base_probs: Sequence[np.ndarray]) -> np.ndarray:
        """``(n, n_labels)`` stacked probabilities from the bases' probabilities."""
        columns = [
            self.design(base_probs, j) @ np.asarray(w) + b
            for j, (w, b) in enumerate(zip(self.coef, self.intercept, strict=True))
        ]
        return 1 / (1 + np.exp(-np.column_stack(columns)))

    def to_dict(self) -> dict[str, Any]:
        return {"features": self.features, "coef": self.coef, "intercept": self.intercept}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StackMeta:
        return cls(data["features"], data["coef"], data["intercept"])


class Stack:
    """Base blends and a :class:`StackMeta` (a :class:`~.protocols.TextModel`).

    Each base reads the raw texts and normalises them its own way, so the stack's
    :meth:`prepare` leaves them as they are.

    Args:
        bases: the base blends, in the meta-model's feature order.
        meta: the fitted meta-model.
        specs: what each base was trained from (``tfidf``, an encoder, a run directory).
        base_thresholds: each base's own tuned thresholds (kept so a base directory stays
            usable on its own).
    """

    backend = "stack"

    def __init__(
        self,
        bases: Sequence[Blend],
        meta: StackMeta,
        *,
        specs: Sequence[str],
        base_thresholds: Sequence[Sequence[float]],
    ) -> None:
        if len({b.n_labels for b in bases}) != 1 or len(meta.coef) != bases[0].n_labels:
            raise OdioError("the bases and the meta-model of a stack have different labels")
        self.bases = list(bases)
        self.meta = meta
        self.specs = list(specs)
        self.base_thresholds = [list(t) for t in base_thresholds]
        self.n_labels = bases[0].n_labels
        self.runtime = "+".join(b.runtime for b in self.bases)

    def prepare(self, texts: Sequence[str]) -> list[str]:
        """The raw texts (lone surrogates replaced): every base normalises them its own way."""
        return [replace_surrogates(text) for text in texts]

    def score(self, prepared: Sequence[str]) -> np.ndarray:
        """Stacked probabilities: the meta-model over every base's probabilities."""
        return self.meta.predict_proba([base.predict_proba(prepared) for base in self.bases])

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """``(n, n_labels)`` stacked probabilities of raw texts, in input order."""
        return self.score(self.prepare(texts))

    def describe(self) -> dict[str, Any]:
        """Its ``config.json`` entries (see :func:`stack_description`)."""
        return stack_description(
            [(spec, b.backend, b.runtime) for spec, b in zip(self.specs, self.bases, strict=True)],
            self.meta,
        )


def stack_description(bases: Sequence[tuple[str, str, str]], meta: StackMeta) -> dict[str, Any]:
    """A stack's ``config.json`` entries; ``bases`` are ``(model, backend, runtime)``.

    >>> stack_description([("tfidf", "tfidf", "scikit-learn")], StackMeta("label", [], []))
    ... # doctest: +NORMALIZE_WHITESPACE
    {'backend': 'stack', 'runtime': 'scikit-learn',
     'bases': [{'dir': 'base_0', 'model': 'tfidf', 'backend': 'tfidf'}],
     'meta': {'features': 'label', 'coef': [], 'intercept': []}}
    """
    return {
        "backend": "stack",
        "runtime": "+".join(runtime for _, _, runtime in bases),
        "bases": [
            {"dir": f"base_{i}", "model": model, "backend": backend}
            for i, (model, backend, _) in enumerate(bases)
        ],
        "meta": meta.to_dict(),
    }
