"""The Detector: a trained model, its labels and thresholds, as one object to use.

It wraps a text model (a :class:`~odio.models.blend.Blend` of fold members, or a
:class:`~odio.models.stack.Stack`) and adds what using it needs: label names, decisions at
per-label thresholds tuned on out-of-fold predictions, explanations, and the model
directory it saves to and loads from (:mod:`odio.models.modeldir`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from odio.errors import OdioError
from odio.metrics import DECISION_RULES, decide
from odio.models import modeldir
from odio.models.blend import Blend
from odio.models.protocols import TextModel
from odio.text.context import has_context, join_contexts, split_context
from odio.text.preprocess import PreprocessOptions

if TYPE_CHECKING:
    from odio.inference.explain import Explanation


HF_PREFIX = "hf:"
"""``hf:ID`` names an existing sequence-classification checkpoint (see :meth:`Detector.from_hf`)."""


class Prediction(dict[str, Any]):
    """One text's probabilities and decisions, as a dict (JSON-ready) and with attributes.

    Example:
        >>> p = Prediction({"Odio": 0.9, "Mujeres": 0.2}, {"Odio": True, "Mujeres": False})
        >>> p.positive, p["decisions"]["Odio"], p.probabilities["Mujeres"]
        (['Odio'], True, 0.2)
    """

    def __init__(self, probabilities: dict[str, float], decisions: dict[str, bool]) -> None:
        super().__init__(probabilities=probabilities, decisions=decisions)

    @property
    def probabilities(self) -> dict[str, float]:
        """Label -> probability."""
        return self["probabilities"]

    @property
    def decisions(self) -> dict[str, bool]:
        """Label -> decided positive (at its threshold, under the decision rule)."""
        return self["decisions"]

    @property
    def positive(self) -> list[str]:
        """The labels decided positive."""
        return [label for label, yes in self.decisions.items() if yes]

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v:.3f}" for k, v in self.probabilities.items())
        return f"Prediction(positive={self.positive}, {shown})"


class Detector:
    """A text model with labels and decision thresholds.

    Args:
        model: what scores raw texts (see :class:`~odio.models.protocols.TextModel`).
        labels: label names, the main label first.
        thresholds: one per label (default 0.5), in [0, 1].
        decision_rule: ``independent`` or ``targets_require_main`` (see
            :data:`odio.metrics.DECISION_RULES`).
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
        decision_rule: str = "independent",
        info: dict[str, Any] | None = None,
    ) -> None:
        if decision_rule not in DECISION_RULES:
            raise ValueError(
                f"decision_rule must be one of {DECISION_RULES}, got {decision_rule!r}"
            )
        self.model = model
        self.decision_rule = decision_rule
        """``independent``, or ``targets_require_main`` (no target label without the main)."""
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
        if not np.all((self.thresholds >= 0) & (self.thresholds <= 1)):
            raise ValueError(f"thresholds must be in [0, 1], got {self.thresholds.tolist()}")
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

    @property
    def uses_context(self) -> bool:
        """Whether the model was trained with conversation context (``data.context``)."""
        context = (self.info.get("data") or {}).get("context") or {}
        return isinstance(context, dict) and bool(context.get("path") or context.get("column"))

    def predict_proba(
        self, texts: Sequence[str], context: Sequence[str | None] | None = None
    ) -> np.ndarray:
        """``(n, n_labels)`` probabilities of raw texts, in input order.

        Texts are normalised once; members sharing a tokenizer (the folds of a run) share
        one tokenisation, and score length-sorted batches padded to their longest row.

        Args:
            texts: the tweets, or (with ``context`` left out) tweets already joined with
                their context by :func:`odio.text.context.join_context`, as the server's
                batcher hands them over.
            context: each tweet's conversation context (what it replies to or quotes;
                ``None`` or empty where it has none), read apart from the tweet by a model
                trained with context (:attr:`uses_context`) and left out for the others
                (whose ``config.json`` says they were trained without).
        """
        if isinstance(texts, str):
            raise TypeError("predict_proba takes a list of texts; use predict for one text")
        if context is not None:
            texts = join_contexts(texts, _listed(context, len(texts)))
        if "data" in self.info and not self.uses_context and any(map(has_context, texts)):
            texts = [split_context(text)[0] for text in texts]
        return self.model.predict_proba(texts)

    def decide(self, probabilities: np.ndarray) -> np.ndarray:
        """0/1 decisions for probabilities from :meth:`predict_proba`, under the decision
        rule."""
        return decide(probabilities, self.thresholds, self.decision_rule)

    def with_thresholds(
        self, thresholds: Mapping[str, float] | None = None, *, decision_rule: str | None = None
    ) -> Detector:
        """A Detector sharing this one's model, with some thresholds (or the rule) changed.

        Example:
            >>> strict = detector.with_thresholds({"Odio": 0.8})  # doctest: +SKIP
        """
        changed = dict(zip(self.labels, self.thresholds.tolist(), strict=True))
        for label, value in (thresholds or {}).items():
            if label not in changed:
                raise OdioError(
                    f"unknown label {label!r}; the model's labels are: {', '.join(self.labels)}"
                )
            if not 0 <= value <= 1:
                raise OdioError(f"threshold of {label!r} must be in [0, 1], got {value}")
            changed[label] = float(value)
        return Detector(
            self.model,
            self.labels,
            thresholds=list(changed.values()),
            decision_rule=decision_rule or self.decision_rule,
            info=self.info,
        )

    @overload
    def predict(  # type: ignore[overload-overlap]
        self, texts: str, context: str | None = None
    ) -> Prediction: ...

    @overload
    def predict(
        self, texts: Sequence[str], context: Sequence[str | None] | None = None
    ) -> list[Prediction]: ...

    def predict(
        self, texts: str | Sequence[str], context: str | Sequence[str | None] | None = None
    ) -> Prediction | list[Prediction]:
        """Per text a :class:`Prediction`: ``{"probabilities": {label: p}, "decisions":
        {label: bool}}``, also as attributes; one text gives one Prediction.

        ``context`` is the conversation context: for one text, the text it answers; for a
        list, one per text (``None`` where a text has none); see :meth:`predict_proba`.

        Example:
            >>> Detector.load("runs/example").predict("qué rico el completo").positive
            ... # doctest: +SKIP
            []
            >>> Detector.load("runs/context").predict(
            ...     "que se vuelvan todos", context="llegan 500 migrantes al norte")
            ... # doctest: +SKIP
        """
        single = isinstance(texts, str)
        if isinstance(texts, str):
            if context is not None and not isinstance(context, str):
                raise TypeError("one text takes one context (a str or None)")
            P = self.predict_proba(join_contexts([texts], [context]))
        else:
            if isinstance(context, str):
                raise TypeError("a list of texts takes a list of contexts, one per text")
            P = self.predict_proba(join_contexts(texts, _listed(context, len(texts))))
        D = self.decide(P)
        out = [
            Prediction(
                {lab: float(p) for lab, p in zip(self.labels, row, strict=True)},
                {lab: bool(d) for lab, d in zip(self.labels, drow, strict=True)},
            )
            for row, drow in zip(P, D, strict=True)
        ]
        return out[0] if single else out

    def __repr__(self) -> str:
        members = self.model.describe()
        parts = len(members.get("members") or members.get("bases") or [])
        thresholds = ", ".join(
            f"{lab}: {t:.2f}" for lab, t in zip(self.labels, self.thresholds, strict=True)
        )
        return (
            f"Detector(backend={self.backend!r}, runtime={self.runtime!r}, "
            f"{'bases' if self.backend == 'stack' else 'members'}={parts}, "
            f"thresholds={{{thresholds}}}, decision_rule={self.decision_rule!r})"
        )

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
            rule=self.decision_rule,
            max_words=MAX_WORDS if max_words is None else max_words,
        )

    def config(self) -> dict[str, Any]:
        """What ``config.json`` holds."""
        return modeldir.model_config(
            self.model.describe(), self.labels, self.thresholds, self.info, self.decision_rule
        )

    def save(self, directory: str | Path) -> Path:
        """Write the self-describing model directory; returns its path."""
        directory = Path(directory)
        modeldir.save_model(
            directory, self.model, self.labels, self.thresholds, self.info, self.decision_rule
        )
        return directory

    @classmethod
    def from_hf(
        cls,
        source: str,
        labels: Mapping[str, str | int] | Sequence[str] | None = None,
        *,
        preprocess: PreprocessOptions | None = None,
        thresholds: Sequence[float] | None = None,
        max_length: int = 128,
        threads: int | None = None,
    ) -> Detector:
        """An existing sequence-classification checkpoint (a published hate-speech model) as
        a Detector: evaluate, predict, serve, explain, check and export it like any other.

        Args:
            source: a Hugging Face hub id or a local directory (``save_pretrained``).
            labels: odio label -> the checkpoint's class name or index, e.g.
                ``{"Odio": "hateful"}``; ``None`` keeps every class under its own name.
            preprocess: the normalisation to apply first (default: RoBERTuito's, what
                pysentimiento's models expect).
            thresholds: one per label (default 0.5).
            max_length: token limit.
            threads: ``torch.set_num_threads`` (process-wide).

        Example:
            >>> hate = Detector.from_hf("pysentimiento/robertuito-hate-speech",
            ...                         {"Odio": "hateful"})  # doctest: +SKIP
        """
        from odio.models.encoder import checkpoint_member, torch

        if threads:
            torch.set_num_threads(threads)
        member = checkpoint_member(source, labels, max_length=max_length)
        blend = Blend(
            [member], preprocess or PreprocessOptions(), backend="transformer", base_model=source
        )
        labels = member.meta()["class_index"]  # the odio label of each class, in order
        return cls(blend, list(labels), thresholds=thresholds)

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
            directory: the model directory, or the run directory that holds it; ``hf:ID``
                loads a sequence-classification checkpoint with its own class names
                (:meth:`from_hf`).
            runtime: for transformer models, ``torch`` or ``onnx``; ``None`` picks ONNX
                Runtime when the members are ONNX files (written by ``odio export``).
            threads: CPU threads for inference (``torch.set_num_threads``, which is
                process-wide, or ONNX Runtime's intra-op threads); ``None`` keeps the
                default. TF-IDF models ignore it.

        Example:
            >>> Detector.load("runs/e5/model-int8", threads=2).runtime  # doctest: +SKIP
            'onnx'
        """
        if str(directory).startswith(HF_PREFIX):
            if runtime not in (None, "torch"):
                raise OdioError(f"{directory} runs with PyTorch; export it to use ONNX")
            return cls.from_hf(str(directory)[len(HF_PREFIX) :], threads=threads)
        model, config = modeldir.load_model(directory, runtime=runtime, threads=threads)
        labels = config["labels"]
        return cls(
            model,
            labels,
            thresholds=[config["thresholds"][lab] for lab in labels],
            decision_rule=config.get("decision_rule", "independent"),
            info={k: v for k, v in config.items() if k not in modeldir.OWN_KEYS},
        )


def _listed(context: Sequence[str | None] | None, n: int) -> list[str | None] | None:
    """``context`` as a list of ``n``, checked (a mismatch is an :class:`OdioError`)."""
    if context is None:
        return None
    if isinstance(context, str):
        raise TypeError("give one context per text (a list), not a single str")
    listed = list(context)
    if len(listed) != n:
        raise OdioError(f"{n} texts but {len(listed)} contexts: give one per text (None: none)")
    return listed
