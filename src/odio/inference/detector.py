"""The Detector: a trained model, its labels and thresholds, as one object to use.

It wraps a text model (a :class:`~odio.models.blend.Blend` of fold members, or a
:class:`~odio.models.stack.Stack`) and adds what using it needs: label names, decisions at
per-label thresholds tuned on out-of-fold predictions, explanations, and the model
directory it saves to and loads from (:mod:`odio.models.modeldir`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from odio.metrics import binarize
from odio.models import modeldir
from odio.models.protocols import TextModel

if TYPE_CHECKING:
    from odio.inference.explain import Explanation


class Detector:
    """A text model with labels and decision thresholds.

    Args:
        model: what scores raw texts (see :class:`~odio.models.protocols.TextModel`).
        labels: label names, the main label first.
        thresholds: one per label (default 0.5).
        info: run facts kept in ``config.json`` (metrics, data settings).

    Example:
        >>> from odio.config import TfidfConfig
        >>> from odio.models.blend import Blend
        >>> from odio.text.preprocess import PreprocessOptions
        >>> from odio.training.tfidf import TfidfTrainer
        >>> texts, Y = ["te odio weon", "buen dia", "odio a todos", "lindo dia"], [[1], [0]] * 2
        >>> member = TfidfTrainer(TfidfConfig(min_df=1)).fit(texts, np.array(Y)).member
        >>> det = Detector(Blend([member], PreprocessOptions(), backend="tfidf"), ["Odio"])
        >>> det.predict(["odio"])[0]["decisions"]
        {'Odio': True}
    """

    def __init__(
        self,
        model: TextModel,
        labels: Sequence[str],
        *,
        thresholds: Sequence[float] | np.ndarray | None = None,
        info: dict[str, Any] | None = None,
    ) -> None:
        self.model = model
        self.labels = list(labels)
        if model.n_labels != len(self.labels):
            raise ValueError(f"the model has {model.n_labels} labels, {len(self.labels)} named")
        self.thresholds = (
            np.full(len(self.labels), 0.5)
            if thresholds is None
            else np.asarray(thresholds, dtype=float)
        )
        if self.thresholds.shape != (len(self.labels),):
            raise ValueError("one threshold per label is needed")
        self.info = dict(info or {})
        """Run facts kept in ``config.json`` (metrics, data settings, export facts)."""

    @property
    def backend(self) -> str:
        """``tfidf``, ``transformer`` or ``stack``."""
        return self.model.backend

    @property
    def runtime(self) -> str:
        """What runs the model: ``scikit-learn``, ``torch``, ``onnx`` (joined for a stack)."""
        return self.model.runtime

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """``(n, n_labels)`` probabilities of raw texts, in input order.

        Texts are normalised once; members sharing a tokenizer (the folds of a run) share
        one tokenisation, and score length-sorted batches padded to their longest row.
        """
        return self.model.predict_proba(texts)

    def decide(self, probabilities: np.ndarray) -> np.ndarray:
        """0/1 decisions for probabilities from :meth:`predict_proba`."""
        return binarize(probabilities, self.thresholds)

    def predict(self, texts: Sequence[str]) -> list[dict[str, dict[str, Any]]]:
        """Per text: ``{"probabilities": {label: p}, "decisions": {label: bool}}``."""
        P = self.predict_proba(texts)
        D = self.decide(P)
        return [
            {
                "probabilities": {lab: float(p) for lab, p in zip(self.labels, row, strict=True)},
                "decisions": {lab: bool(d) for lab, d in zip(self.labels, drow, strict=True)},
            }
            for row, drow in zip(P, D, strict=True)
        ]

    def explain(
        self,
        text: str,
        labels: Sequence[str] | None = None,
        *,
        method: str | None = None,
        max_words: int | None = None,
    ) -> Explanation:
        """Which words of ``text`` push each label's probability up or down, in log-odds.

        TF-IDF models are decomposed exactly (``linear``); other models are explained by
        removing one word at a time (``occlusion``), for texts of at most ``max_words``
        words (default :data:`odio.inference.explain.MAX_WORDS`). See
        :func:`odio.inference.explain.explain`.

        Example:
            >>> detector = Detector.load("runs/tfidf/model")  # doctest: +SKIP
            >>> detector.explain("ándate a tu país").top("Odio", 2)  # doctest: +SKIP
            ([('país', 0.975...), ('ándate', 0.830...)], [])
        """
        from odio.inference.explain import MAX_WORDS, explain

        return explain(
            self.model,
            self.labels,
            self.thresholds,
            text,
            labels,
            method=method,
            max_words=MAX_WORDS if max_words is None else max_words,
        )

    def config(self) -> dict[str, Any]:
        """What ``config.json`` holds."""
        return modeldir.model_config(self.model.describe(), self.labels, self.thresholds, self.info)

    def save(self, directory: str | Path) -> Path:
        """Write the self-describing model directory; returns its path."""
        directory = Path(directory)
        modeldir.save_model(directory, self.model, self.labels, self.thresholds, self.info)
        return directory

    @classmethod
    def load(
        cls,
        directory: str | Path,
        *,
        runtime: str | None = None,
        threads: int | None = None,
    ) -> Detector:
        """Read a directory written by :meth:`save` (or a run directory holding ``model/``).

        Args:
            directory: the model directory, or the run directory that holds it.
            runtime: for transformer models, ``torch`` or ``onnx``; ``None`` picks ONNX
                Runtime when the members are ONNX files (written by ``odio export``).
            threads: CPU threads for inference (``torch.set_num_threads``, which is
                process-wide, or ONNX Runtime's intra-op threads); ``None`` keeps the
                default. TF-IDF models ignore it.

        Example:
            >>> Detector.load("runs/e5/model-int8", threads=2).runtime  # doctest: +SKIP
            'onnx'
        """
        model, config = modeldir.load_model(directory, runtime=runtime, threads=threads)
        labels = config["labels"]
        return cls(
            model,
            labels,
            thresholds=[config["thresholds"][lab] for lab in labels],
            info={k: v for k, v in config.items() if k not in modeldir.OWN_KEYS},
        )
