"""The interfaces of a saved model's parts: fold members, and the models a Detector wraps.

A **member** is one fitted fold model: TF-IDF (:mod:`odio.models.tfidf`), an encoder run
by PyTorch (:mod:`odio.models.encoder`) or by ONNX Runtime (:mod:`odio.models.onnx`). It
scores normalised texts and saves itself without pickle; trainers (:mod:`odio.training`)
make members, nothing here trains.

A **text model** turns raw texts into probabilities: a :class:`~odio.models.blend.Blend`
(fold members averaged behind one normalisation) or a :class:`~odio.models.stack.Stack`
(a meta-model over blends). The Detector, thresholds, explanations and the service only
use this interface.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

HEAD_CONFIG = "odio_head.json"
"""The settings file of an encoder member folder, PyTorch or ONNX (n_labels, max_length,
base model, history; the ONNX graph's file)."""


@runtime_checkable
class Member(Protocol):
    """One fitted fold model.

    ``load`` (a classmethod with backend-specific arguments) reads what ``save`` wrote and
    runs no code from the files.
    """

    n_labels: int

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """``(n, n_labels)`` probabilities of normalised texts, in input order."""
        ...

    def save(self, directory: Path) -> None:
        """Write the member into ``directory`` (created if needed)."""
        ...


@runtime_checkable
class TokenisedMember(Member, Protocol):
    """A member that scores token ids, so members sharing a tokenizer share one encoding."""

    tokenizer: Any
    max_length: int

    def predict_encoded(self, ids: list[list[int]]) -> np.ndarray:
        """``(n, n_labels)`` probabilities of token ids (see :func:`odio.text.tokens.encode`)."""
        ...


class TextModel(Protocol):
    """Raw texts in, ``(n, n_labels)`` probabilities out.

    ``predict_proba(texts) == score(prepare(texts))``. :meth:`prepare` gives the text as the
    model reads it, whose whitespace words are what an explanation scores.
    """

    backend: str
    """``tfidf``, ``transformer`` or ``stack``."""
    runtime: str
    """What runs it: ``scikit-learn``, ``torch``, ``onnx`` (``+``-joined for a stack)."""
    n_labels: int

    def prepare(self, texts: Sequence[str]) -> list[str]:
        """The texts as the model reads them."""
        ...

    def score(self, prepared: Sequence[str]) -> np.ndarray:
        """Probabilities of texts returned by :meth:`prepare`."""
        ...

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities of raw texts."""
        ...

    def describe(self) -> dict[str, Any]:
        """The model's entries of ``config.json`` (backend, runtime, members or bases)."""
        ...
