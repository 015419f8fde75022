"""The interface every trainer speaks, and how a trainer is chosen by model name.

A trainer turns texts into its inputs once (:meth:`Trainer.encode`: the texts themselves for
TF-IDF, token ids for an encoder), fits one member per call (:meth:`Trainer.fit`) and scores
inputs with a member it fitted (:meth:`Trainer.predict`, on the device it trained on). The
k-fold harness (:mod:`odio.training.cv`) only uses this interface, so it never asks which
model is inside. Trainers receive texts that are already normalised.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import numpy as np

from odio.errors import OdioError
from odio.models.stack import STACK_PREFIX, parse_stack
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

    def at(self, checkpoints: Path) -> Trainer:
        """This trainer, keeping its checkpoints and a resume point in ``checkpoints`` (and
        resuming from one there); a backend that trains in one pass returns itself."""
        ...

    def load_member(self, directory: Path) -> Any:
        """A member this trainer fitted, read back from where its ``save`` wrote it."""
        ...


def backend_name(model: str) -> str:
    """The backend that trains ``model``: ``tfidf``, ``stack`` for ``stack:a+b`` (see
    :mod:`odio.training.stacking`), or ``transformer`` for an encoder id.

    >>> backend_name("tfidf"), backend_name("pysentimiento/robertuito-base-uncased")
    ('tfidf', 'transformer')
    """
    if not model or not model.strip():
        raise OdioError("--model is empty: give 'tfidf' or a Hugging Face encoder")
    if model.startswith(STACK_PREFIX):
        for base in parse_stack(model):
            if base != "tfidf":
                check_encoder_name(base)
        return "stack"
    if model == "tfidf":
        return "tfidf"
    check_encoder_name(model)
    return "transformer"


HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]{0,95}(/[A-Za-z0-9][\w.-]{0,95})?")
"""What a Hugging Face hub id looks like: ``name`` or ``owner/name``."""


def check_encoder_name(model: str) -> None:
    """Refuse, before any data is read, a ``--model`` that is no encoder odio could load: a
    near miss of ``tfidf`` or ``stack:`` (a typo would otherwise be looked up on the hub,
    retried, and fail minutes later), a path that does not exist, or a name no hub id has.

    >>> check_encoder_name("pysentimiento/robertuito-base-uncased")
    >>> check_encoder_name("tfidff")
    Traceback (most recent call last):
    ...
    odio.errors.OdioError: --model 'tfidff' is not a backend odio knows; did you mean 'tfidf'?
    """
    if Path(model).expanduser().exists():
        return
    lowered = model.lower()
    stack_like = lowered.startswith("stack") and "/" not in model
    if stack_like or difflib.get_close_matches(lowered, ["tfidf"], cutoff=0.75):
        hint = "stack:BASE+BASE" if stack_like else "tfidf"
        raise OdioError(f"--model {model!r} is not a backend odio knows; did you mean {hint!r}?")
    first = Path(model).expanduser().parts[0] if Path(model).parts else ""
    path_like = model.startswith((".", "/", "~", "\\")) or model.count("/") > 1
    if path_like or ("/" in model and first not in ("", model) and Path(first).is_dir()):
        raise OdioError(f"--model {model!r}: model directory not found")
    if not HUB_ID.fullmatch(model):
        raise OdioError(
            f"--model {model!r} is neither 'tfidf', stack:BASE+BASE, a model directory nor "
            "a Hugging Face hub id (name or owner/name)"
        )


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
