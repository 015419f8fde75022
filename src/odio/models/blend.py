"""Fold members blended: one normalisation, one tokenisation, the mean of their probabilities.

This is what ``odio train`` ships for a single backend: the k fold models of the
cross-validation, each trained on k-1 folds, averaged ("blending"). Members that share a
tokenizer (the folds of an encoder run do; a model directory holds it once) share one
encoding of each batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from odio.models.protocols import Member, TokenisedMember
from odio.text.preprocess import PreprocessOptions, preprocess_many
from odio.text.tokens import encode

TOKENIZER_DIR = "tokenizer"
"""Where a blend of encoder members saves their shared tokenizer, beside the fold folders."""


class Blend:
    """Members averaged behind one normalisation (a :class:`~.protocols.TextModel`).

    Args:
        members: fitted fold members with the same labels.
        preprocess: the normalisation the members were trained on.
        backend: ``tfidf`` or ``transformer``.
        runtime: what runs the members (default: ``scikit-learn`` for TF-IDF, else ``torch``).
        base_model: the encoder the members were fine-tuned from (``None`` for TF-IDF).

    Example:
        >>> from odio.config import TfidfConfig
        >>> from odio.training.tfidf import TfidfTrainer
        >>> texts, Y = ["te odio weon", "buen dia", "odio a todos", "lindo dia"], [[1], [0]] * 2
        >>> member = TfidfTrainer(TfidfConfig(min_df=1)).fit(texts, np.array(Y)).member
        >>> blend = Blend([member, member], PreprocessOptions(), backend="tfidf")
        >>> blend.prepare(["Te odio @pepe"]), blend.predict_proba(["odio"]).shape
        (['Te odio @usuario'], (1, 1))
    """

    def __init__(
        self,
        members: Sequence[Member],
        preprocess: PreprocessOptions,
        *,
        backend: str,
        runtime: str | None = None,
        base_model: str | None = None,
    ) -> None:
        if not members:
            raise ValueError("a blend needs at least one member")
        if len({m.n_labels for m in members}) != 1:
            raise ValueError("the members of a blend must have the same labels")
        self.members = list(members)
        self.preprocess = preprocess
        self.backend = backend
        self.runtime = runtime or ("scikit-learn" if backend == "tfidf" else "torch")
        self.base_model = base_model
        self.n_labels = self.members[0].n_labels

    def prepare(self, texts: Sequence[str]) -> list[str]:
        """The texts normalised as the members were trained on them."""
        return preprocess_many(texts, self.preprocess)

    def score(self, prepared: Sequence[str]) -> np.ndarray:
        """``(n, n_labels)`` mean probability of the members, for normalised texts.

        Members with the same tokenizer and token limit get one shared tokenisation.
        """
        total = np.zeros((len(prepared), self.n_labels))
        encoded: dict[tuple[int, int], list[list[int]]] = {}
        for member in self.members:
            if isinstance(member, TokenisedMember):
                key = (id(member.tokenizer), member.max_length)
                if key not in encoded:
                    encoded[key] = encode(member.tokenizer, prepared, member.max_length)
                total += member.predict_encoded(encoded[key])
            else:
                total += member.predict_proba(prepared)
        return total / len(self.members)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """``(n, n_labels)`` blended probabilities of raw texts, in input order."""
        return self.score(self.prepare(texts))

    @property
    def tokenizer(self) -> Any:
        """The tokenizer the members share (``None`` for TF-IDF members)."""
        tokenizers = {
            id(m.tokenizer): m.tokenizer for m in self.members if isinstance(m, TokenisedMember)
        }
        if len(tokenizers) > 1:
            raise ValueError("the members of this blend do not share one tokenizer")
        return next(iter(tokenizers.values()), None)

    def describe(self) -> dict[str, Any]:
        """Its ``config.json`` entries: backend, runtime, base model, normalisation, members."""
        return {
            "backend": self.backend,
            "runtime": self.runtime,
            "base_model": self.base_model,
            "preprocess": self.preprocess.to_dict(),
            "members": [f"fold_{i}" for i in range(len(self.members))],
        }

    def save(self, directory: Path) -> None:
        """Write the shared tokenizer (if any) once and each member into its fold folder."""
        tokenizer = self.tokenizer
        if tokenizer is not None:
            tokenizer.save_pretrained(directory / TOKENIZER_DIR)
        for name, member in zip(self.describe()["members"], self.members, strict=True):
            member.save(directory / name)
