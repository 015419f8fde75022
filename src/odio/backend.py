"""The interface every model backend speaks, and how a backend is chosen by name.

The k-fold harness, the :class:`~odio.detector.Detector`, thresholds, reports and serving
only use this interface, so they never ask which model is inside. Backends receive texts
that are already normalised (:mod:`odio.preprocess` runs once, in the harness or the
Detector).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from odio.config import RunConfig
from odio.errors import OdioError
from odio.preprocess import PreprocessOptions


@runtime_checkable
class Backend(Protocol):
    """A multi-label text classifier (scikit-learn style: ``fit`` returns ``self``).

    ``name`` identifies the backend in saved models; ``load`` is a classmethod.
    """

    name: str

    def fit(
        self,
        texts: Sequence[str],
        Y: np.ndarray,
        validation: tuple[Sequence[str], np.ndarray] | None = None,
    ) -> Backend:
        """Learn from texts and a ``(n, n_labels)`` 0/1 matrix; ``validation`` may drive
        early stopping (backends without it ignore it)."""
        ...

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """``(n, n_labels)`` probabilities in input order."""
        ...

    def save(self, directory: str | Path) -> None:
        """Write the fitted model into ``directory`` (created if needed), without pickle."""
        ...

    @classmethod
    def load(cls, directory: str | Path) -> Backend:
        """Read a model written by :meth:`save`; runs no code from the files."""
        ...


def backend_name(model: str) -> str:
    """The backend that trains ``model``: ``tfidf``, ``stack`` for ``stack:a+b`` (see
    :mod:`odio.stack`), or ``transformer`` for an encoder id.

    >>> backend_name("tfidf"), backend_name("pysentimiento/robertuito-base-uncased")
    ('tfidf', 'transformer')
    """
    if not model or not model.strip():
        raise OdioError("--model is empty: give 'tfidf' or a Hugging Face encoder")
    if model.startswith("stack:"):
        return "stack"
    return "tfidf" if model == "tfidf" else "transformer"


def default_preprocess(name: str) -> PreprocessOptions:
    """The normalisation a backend uses unless the run says otherwise.

    Transformers get the full RoBERTuito normalisation (what the encoder saw in
    pretraining). TF-IDF keeps handles, links, hashtags and emoji as written: their raw
    character n-grams carry signal (chosen by out-of-fold f1_custom on the Datathon
    training set, ``benchmarks/tfidf_sweep.py``); laughter, repetition and newlines are
    still normalised.

    >>> default_preprocess("tfidf").emoji
    False
    """
    if name == "tfidf":
        return PreprocessOptions(user=False, url=False, hashtag=False, emoji=False)
    return PreprocessOptions()


def create_backend(config: RunConfig) -> Backend:
    """A new, unfitted backend for ``config.model`` with the run's settings.

    >>> create_backend(RunConfig()).name
    'tfidf'
    """
    name = backend_name(config.model)
    if name == "tfidf":
        from odio.tfidf import TfidfBackend

        return TfidfBackend(config.tfidf, seed=config.cv.seed)
    if name == "stack":
        raise OdioError("a stack is not one backend: train it with odio.run.train_run")
    from odio.transformer import TransformerBackend

    return TransformerBackend(config.model, config.transformer, seed=config.cv.seed)


def backend_class(name: str) -> type[Backend]:
    """The class that loads members saved by backend ``name``."""
    if name == "tfidf":
        from odio.tfidf import TfidfBackend

        return TfidfBackend
    if name == "transformer":
        from odio.transformer import TransformerBackend

        return TransformerBackend
    raise OdioError(f"this model was saved by backend {name!r}, which this odio does not know")
