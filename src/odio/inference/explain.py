"""Word-level explanations: which words push each label's probability up or down.

Scores are per whitespace word of the text as the model reads it (normalised; a stack
reads the raw text, each base normalising it its own way), one per
word and label, in log-odds units, so every backend reads the same way:

- ``linear`` (TF-IDF members): the exact decomposition of each member's logit,
  ``intercept + sum(coef * x)``. ``char_wb`` n-grams never cross a whitespace word, so each
  one's contribution goes to the words that produce it, split equally over its
  occurrences; a word n-gram is split equally over the words it spans. Averaged over
  members, the word scores plus :attr:`Explanation.base` (the mean intercept) add up to
  the mean member logit. (The Detector's probability is the mean of the members'
  probabilities, which is close to, but not exactly, the sigmoid of that mean logit.)
- ``occlusion`` (transformers, PyTorch or ONNX, and anything else): a word's score is
  ``logit(p(text)) - logit(p(text without the word))`` with the ensemble's probabilities.
  Scores need not add up to anything. An ``n``-word text needs ``n + 1`` variants of
  ``n`` words each, so the work grows with the square of the text's length: variants are
  built and scored :data:`OCCLUSION_BATCH` at a time (memory stays linear), and a text of
  more than ``max_words`` words (default :data:`MAX_WORDS`) is refused.

:func:`odio.reports.explain.format_explanation` renders one for a terminal (``odio explain``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from odio.errors import OdioError
from odio.inference import MAX_WORDS
from odio.metrics import decide, logit
from odio.models.blend import Blend
from odio.models.protocols import TextModel
from odio.models.tfidf import TfidfModel

METHODS = ("linear", "occlusion")
"""``linear``: exact log-odds decomposition (TF-IDF); ``occlusion``: remove one word."""
OCCLUSION_BATCH = 64
"""Occlusion variants built and scored at a time."""


@dataclass(frozen=True)
class Explanation:
    """Per-word log-odds contributions of one text, for some of a model's labels.

    Example:
        >>> e = Explanation(
        ...     text="Te odio", normalised="Te odio", words=["Te", "odio"], labels=["Odio"],
        ...     probabilities={"Odio": 0.8}, decisions={"Odio": True},
        ...     thresholds={"Odio": 0.5}, scores={"Odio": [0.1, 1.2]}, method="linear",
        ... )
        >>> e.pairs("Odio")
        [('Te', 0.1), ('odio', 1.2)]
        >>> e.top("Odio", 1)
        ([('odio', 1.2)], [])
    """

    text: str
    """The raw text."""
    normalised: str
    """The text as the model reads it (normalised; a stack reads the raw text)."""
    words: list[str]
    """Whitespace words of ``normalised``, the units that get a score."""
    labels: list[str]
    """The labels explained, in the model's order."""
    probabilities: dict[str, float]
    """The Detector's blended probability per label."""
    decisions: dict[str, bool]
    """Probability at or above the label's tuned threshold."""
    thresholds: dict[str, float]
    """The model's tuned threshold per label."""
    scores: dict[str, list[float]]
    """Per label, one log-odds contribution per word (positive: pushes the label up)."""
    method: str
    """``linear`` or ``occlusion`` (see the module docstring)."""
    base: dict[str, float] | None = None
    """``linear`` only: the mean intercept, so ``base + sum(scores)`` is the mean logit."""

    def pairs(self, label: str) -> list[tuple[str, float]]:
        """``(word, score)`` for every word, in text order."""
        return list(zip(self.words, self._scores(label), strict=True))

    def top(
        self, label: str, n: int = 5
    ) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        """The ``n`` words pushing ``label`` up most, and the ``n`` pushing it down most."""
        pairs = self.pairs(label)
        up = sorted((p for p in pairs if p[1] > 0), key=lambda p: -p[1])
        down = sorted((p for p in pairs if p[1] < 0), key=lambda p: p[1])
        return up[:n], down[:n]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict of every field."""
        return {
            "text": self.text,
            "normalised": self.normalised,
            "words": list(self.words),
            "labels": list(self.labels),
            "probabilities": {k: float(v) for k, v in self.probabilities.items()},
            "decisions": {k: bool(v) for k, v in self.decisions.items()},
            "thresholds": {k: float(v) for k, v in self.thresholds.items()},
            "scores": {k: [float(s) for s in v] for k, v in self.scores.items()},
            "method": self.method,
            "base": None if self.base is None else {k: float(v) for k, v in self.base.items()},
        }

    def _scores(self, label: str) -> list[float]:
        if label not in self.scores:
            raise OdioError(f"label {label!r} is not explained here; it has {self.labels}")
        return self.scores[label]


def explain(
    model: TextModel,
    model_labels: Sequence[str],
    thresholds: np.ndarray,
    text: str,
    labels: Sequence[str] | None = None,
    *,
    method: str | None = None,
    rule: str = "independent",
    max_words: int = MAX_WORDS,
) -> Explanation:
    """Explain one raw text with a model, its labels and its decision thresholds (what
    :meth:`odio.inference.detector.Detector.explain` passes).

    Args:
        model: the model (a blend or a stack).
        model_labels: its label names.
        thresholds: its decision threshold per label.
        text: one raw tweet; the model prepares (normalises) it.
        labels: labels to explain (default: all of the model's), in any order.
        method: ``linear`` or ``occlusion``; ``None`` picks ``linear`` when every member
            is a TF-IDF model, else ``occlusion``.
        rule: the decision rule (see :func:`odio.metrics.decide`).
        max_words: most words the ``occlusion`` method explains (its cost grows with the
            square of the word count); ``linear`` takes any length.

    Raises:
        OdioError: an empty text (no words once normalised), a text over ``max_words`` words
            for occlusion, an unknown label or method.

    Example:
        >>> from odio.config import TfidfConfig
        >>> from odio.text.preprocess import PreprocessOptions
        >>> from odio.training.tfidf import TfidfTrainer
        >>> texts, Y = ["te odio", "buen dia", "odio a todos", "lindo dia"], [[1], [0], [1], [0]]
        >>> member = TfidfTrainer(TfidfConfig(min_df=1)).fit(texts, np.array(Y)).member
        >>> blend = Blend([member], PreprocessOptions(), backend="tfidf")
        >>> e = explain(blend, ["Odio"], np.array([0.5]), "odio el dia")
        >>> e.method, e.words, [s > 0 for s in e.scores["Odio"]]
        ('linear', ['odio', 'el', 'dia'], [True, False, False])
    """
    index = label_indices(model_labels, labels)
    normalised = model.prepare([text])[0]
    words = normalised.split()
    if not words:
        raise OdioError("nothing to explain: the text is empty once normalised")
    method = method or default_method(model)
    if method == "occlusion" and len(words) > max_words:
        raise OdioError(
            f"the text has {len(words)} words once normalised; an explanation by occlusion "
            f"takes at most {max_words} (it scores the text once without each word)"
        )
    base: np.ndarray | None = None
    if method == "linear":
        scores, base = linear_scores(_tfidf_members(model), words)
        probabilities = model.score([normalised])[0]
    elif method == "occlusion":
        scores, probabilities = occlusion(words, model.score)
    else:
        raise OdioError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    decisions = decide(probabilities[None, :], thresholds, rule)[0]
    chosen = {model_labels[j]: j for j in index}
    return Explanation(
        text=text,
        normalised=normalised,
        words=words,
        labels=list(chosen),
        probabilities={lab: float(probabilities[j]) for lab, j in chosen.items()},
        decisions={lab: bool(decisions[j]) for lab, j in chosen.items()},
        thresholds={lab: float(thresholds[j]) for lab, j in chosen.items()},
        scores={lab: scores[:, j].tolist() for lab, j in chosen.items()},
        method=method,
        base=None if base is None else {lab: float(base[j]) for lab, j in chosen.items()},
    )


def default_method(model: TextModel) -> str:
    """``linear`` when every member is a TF-IDF model, else ``occlusion``."""
    return "linear" if _linear_members(model) else "occlusion"


def label_indices(model_labels: Sequence[str], labels: Sequence[str] | None) -> list[int]:
    """Positions of ``labels`` in ``model_labels`` (model order, no repeats; ``None``: all).

    >>> label_indices(["Odio", "Mujeres"], ["Mujeres", "Odio", "Mujeres"])
    [0, 1]
    >>> label_indices(["Odio"], ["odio"])
    Traceback (most recent call last):
    ...
    odio.errors.OdioError: unknown label 'odio'; the model's labels are: Odio
    """
    if labels is None:
        return list(range(len(model_labels)))
    if not labels:
        raise OdioError("give at least one label to explain")
    for label in labels:
        if label not in model_labels:
            raise OdioError(
                f"unknown label {label!r}; the model's labels are: {', '.join(model_labels)}"
            )
    return [j for j, label in enumerate(model_labels) if label in labels]


def occlusion(
    words: Sequence[str],
    predict: Callable[[list[str]], np.ndarray],
    *,
    batch_size: int = OCCLUSION_BATCH,
) -> tuple[np.ndarray, np.ndarray]:
    """Each word's effect on the log-odds: ``logit(p(text)) - logit(p(text without it))``.

    Args:
        words: whitespace words of a normalised text.
        predict: ``(n, n_labels)`` probabilities of normalised texts (for a Detector,
            :meth:`~odio.models.protocols.TextModel.score`); called with the full text
            first and then one text per removed word, ``batch_size`` texts per call.
        batch_size: variants built and scored per call, so that memory grows with the
            text's length, not with its square.

    Returns:
        ``(scores, probabilities)``: ``(n_words, n_labels)`` scores, and the full text's
        ``(n_labels,)`` probabilities.

    Example:
        >>> def predict(texts):  # "odio" is hateful, nothing else matters
        ...     return np.array([[0.9 if "odio" in t.split() else 0.5] for t in texts])
        >>> scores, p = occlusion(["te", "odio"], predict)
        >>> scores.round(3).tolist(), p.tolist()
        ([[0.0], [2.197]], [0.9])
    """
    words = list(words)

    def variant(i: int) -> str:  # 0: the text; i: without word i - 1
        return " ".join(words if i == 0 else words[: i - 1] + words[i:])

    n = len(words) + 1
    P = np.vstack(
        [
            np.asarray(predict([variant(i) for i in range(start, min(start + batch_size, n))]))
            for start in range(0, n, batch_size)
        ]
    ).astype(np.float64)
    L = logit(P)
    return L[0] - L[1:], P[0]


def linear_scores(
    members: Sequence[TfidfModel], words: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Exact per-word log-odds of TF-IDF members, averaged over them.

    Returns:
        ``(scores, base)``: ``(n_words, n_labels)`` scores and the ``(n_labels,)`` mean
        intercept; ``base + scores.sum(0)`` is the mean of the members' logits of
        ``" ".join(words)``.
    """
    scores = np.mean([tfidf_word_scores(m, words) for m in members], axis=0)
    base = np.mean([np.asarray(m.intercept, dtype=np.float64) for m in members], axis=0)
    return scores, base


def tfidf_word_scores(member: TfidfModel, words: Sequence[str]) -> np.ndarray:
    """One TF-IDF member's ``(n_words, n_labels)`` share of ``coef @ x`` per word.

    Every feature's contribution ``coef * x`` goes to the words that produce it, so the
    rows add up to ``decision_function - intercept`` exactly.

    Example:
        >>> from odio.config import TfidfConfig
        >>> from odio.training.tfidf import TfidfTrainer
        >>> texts, Y = ["te odio", "buen dia", "odio a todos", "lindo dia"], [[1], [0], [1], [0]]
        >>> member = TfidfTrainer(TfidfConfig(min_df=1)).fit(texts, np.array(Y)).member
        >>> scores = tfidf_word_scores(member, ["odio", "el", "dia"])
        >>> logit = member.decision_function(["odio el dia"])[0]
        >>> bool(np.allclose(scores.sum(0) + member.intercept, logit))
        True
    """
    words = list(words)
    x = member.features([" ".join(words)]).tocsr()
    shares = _feature_shares(member, words)
    coef = np.asarray(member.coef, dtype=np.float64)
    scores = np.zeros((len(words), coef.shape[0]))
    for column, value in zip(x.indices, x.data, strict=True):
        owners = shares.get(int(column))
        if not owners:
            raise RuntimeError(f"TF-IDF feature {column} has a value but no word produced it")
        contribution = coef[:, column] * value
        for i, share in owners:
            scores[i] += share * contribution
    return scores


def _feature_shares(member: TfidfModel, words: list[str]) -> dict[int, list[tuple[int, float]]]:
    """Feature column -> ``(word index, share)`` pairs whose shares add up to 1."""
    text = " ".join(words)
    shares: dict[int, list[tuple[int, float]]] = {}
    offset = 0
    for name, vectorizer in member.vectorizers.items():
        spans = _term_spans(vectorizer, words)
        expected = Counter(vectorizer.build_analyzer()(text))
        if expected != Counter({term: len(s) for term, s in spans.items()}):
            raise RuntimeError(f"the {name!r} TF-IDF features do not split into whitespace words")
        vocabulary = vectorizer.vocabulary_
        for term, occurrences in spans.items():
            column = vocabulary.get(term)
            if column is None:
                continue
            owners = [
                (i, 1.0 / (len(occurrences) * len(spanned)))
                for spanned in occurrences
                for i in spanned
            ]
            shares[offset + column] = owners
        offset += len(vocabulary)
    return shares


def _term_spans(vectorizer: Any, words: list[str]) -> dict[str, list[tuple[int, ...]]]:
    """Term -> one tuple of word indices per occurrence (the words that occurrence spans)."""
    spans: dict[str, list[tuple[int, ...]]] = defaultdict(list)
    if vectorizer.analyzer == "char_wb":
        # char_wb pads and n-grams each whitespace word on its own
        analyze = vectorizer.build_analyzer()
        for i, word in enumerate(words):
            for term in analyze(word):
                spans[term].append((i,))
    elif vectorizer.analyzer == "word":
        preprocess, tokenize = vectorizer.build_preprocessor(), vectorizer.build_tokenizer()
        stop = vectorizer.get_stop_words() or ()
        tokens, owner = [], []
        for i, word in enumerate(words):
            for token in tokenize(preprocess(word)):
                if token not in stop:
                    tokens.append(token)
                    owner.append(i)
        low, high = vectorizer.ngram_range
        for n in range(low, high + 1):
            for start in range(len(tokens) - n + 1):
                term = " ".join(tokens[start : start + n])
                spans[term].append(tuple(sorted(set(owner[start : start + n]))))
    else:
        raise RuntimeError(f"cannot split {vectorizer.analyzer!r} TF-IDF features into words")
    return spans


def _linear_members(model: TextModel) -> list[TfidfModel]:
    """The TF-IDF members of a blend of TF-IDF members (empty for any other model)."""
    if isinstance(model, Blend) and all(isinstance(m, TfidfModel) for m in model.members):
        return list(model.members)  # type: ignore[arg-type]
    return []


def _tfidf_members(model: TextModel) -> list[TfidfModel]:
    members = _linear_members(model)
    if not members:
        raise OdioError("the linear method needs a TF-IDF model; use occlusion")
    return members
