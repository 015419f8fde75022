"""The interface every trainer speaks, and how a trainer is chosen by model name.

A trainer turns texts into its inputs once (:meth:`Trainer.encode`: the texts themselves for
TF-IDF, token ids for an encoder), fits one member per call (:meth:`Trainer.fit`) and scores
inputs with a member it fitted (:meth:`Trainer.predict`, on the device it trained on). The
k-fold harness (:mod:`odio.training.cv`) only uses this interface, so it never asks which
model is inside. Trainers receive texts that are already normalised.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

import numpy as np

from odio.errors import OdioError
from odio.text.preprocess import PreprocessOptions


class Fitted(NamedTuple):
    """What one :meth:`Trainer.fit` produced."""

    member: Any
    """The fitted member (see :class:`odio.models.protocols.Member`)."""
    history: list[dict[str, float]]
    """Per-epoch losses and validation scores (empty for one-pass backends)."""


class Trainer(Protocol):
    """Fits members of one backend."""

    backend: str
    """The backend of the members it fits (``tfidf``, ``transformer``)."""

    def encode(self, texts: Sequence[str]) -> list[Any]:
        """Inputs of normalised texts, one per text; computed once per cross-validation."""
        ...

    def fit(
        self,
        inputs: Sequence[Any],
        Y: np.ndarray,
        validation: tuple[Sequence[Any], np.ndarray] | None = None,
        *,
        known: np.ndarray | None = None,
        progress: str | None = None,
    ) -> Fitted:
        """Fit a new member on inputs and a ``(n, n_labels)`` 0/1 matrix; ``validation`` may
        drive early stopping; ``known`` (bool, same shape) leaves unknown labels out of the
        fit; ``progress`` names the progress bar (``None``: no bar)."""
        ...

    def predict(self, member: Any, inputs: Sequence[Any]) -> np.ndarray:
        """``(n, n_labels)`` probabilities of inputs, with a member this trainer fitted."""
        ...


def backend_name(model: str) -> str:
    """The backend that trains ``model``: ``tfidf``, ``stack`` for ``stack:a+b`` (see
    :mod:`odio.training.stacking`), or ``transformer`` for an encoder id.

    >>> backend_name("tfidf"), backend_name("pysentimiento/robertuito-base-uncased")
    ('tfidf', 'transformer')
    """
    if not model or not model.strip():
        raise OdioError("--model is empty: give 'tfidf' or a Hugging Face encoder")
    if model.startswith("stack:"):
        return "stack"
    return "tfidf" if model == "tfidf" else "transformer"


def default_preprocess(backend: str) -> PreprocessOptions:
    """The normalisation a backend uses unless the run says otherwise.

    Transformers get the full RoBERTuito normalisation (what the encoder saw in
    pretraining). TF-IDF keeps handles, links, hashtags and emoji as written: their raw
    character n-grams carry signal (chosen by out-of-fold f1_custom on the Datathon
    training set, ``benchmarks/tfidf_sweep.py``); laughter, repetition and newlines are
    still normalised.

    >>> default_preprocess("tfidf").emoji
    False
    """
    if backend == "tfidf":
        return PreprocessOptions(user=False, url=False, hashtag=False, emoji=False)
    return PreprocessOptions()
