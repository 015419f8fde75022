"""TF-IDF (character and word n-grams) with one logistic regression per label: the member.

A strong, fast baseline that shares the harness with the encoders. Fitted by
:class:`odio.training.tfidf.TfidfTrainer`; saved without pickle: vocabularies and settings
in JSON, arrays in safetensors.

When the training texts carry conversation context (:mod:`odio.text.context`), the member
has a second block of features: the context's character and word n-grams, from vectorizers
of their own (``context_char``, ``context_word``) fitted on the contexts, so that "odio" in
the tweet and "odio" in the tweet it answers are different features. A member fitted
without context has no such block and reads every text whole, exactly as before.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from safetensors.numpy import load_file, save_file
from sklearn.feature_extraction.text import TfidfVectorizer

from odio.config import TfidfConfig
from odio.errors import OdioError
from odio.models.modelconfig import check_member, first_line, read_json_object
from odio.text.context import has_context, split_context

MEMBER_CONFIG, VOCABULARY, WEIGHTS = "config.json", "vocabulary.json", "weights.safetensors"
"""The files of a TF-IDF member folder."""
log = logging.getLogger(__name__)

TOKEN_PATTERN = r"(?u)\b\w+\b"  # keep one-letter words: "q", "k", "wn" matter in tweets
CONTEXT_PREFIX = "context_"
"""Names the vectorizers of the context block (``context_char``, ``context_word``)."""


def build_vectorizers(config: TfidfConfig, *, context: bool = False) -> dict[str, TfidfVectorizer]:
    """The unfitted ``char`` (``char_wb``) and ``word`` vectorizers of ``config``, in the
    order their features are stacked; with ``context``, then the same two for the context.

    >>> list(build_vectorizers(TfidfConfig())), len(build_vectorizers(TfidfConfig(), context=True))
    (['char', 'word'], 4)
    """
    tweet = _vectorizers(config)
    if not context:
        return tweet
    return {**tweet, **{CONTEXT_PREFIX + k: v for k, v in _vectorizers(config).items()}}


def fit_vectorizers(config: TfidfConfig, texts: Sequence[str]) -> dict[str, TfidfVectorizer]:
    """The vectorizers of ``config`` fitted on ``texts``: the tweet block on the tweets, and,
    when some texts carry a context, the context block on those contexts (left out, with a
    warning, when they hold no n-gram seen ``min_df`` times).

    >>> fitted = fit_vectorizers(TfidfConfig(min_df=1), ["hola\x1ete odio", "chao"])
    >>> list(fitted), "odio" in fitted["context_word"].vocabulary_
    (['char', 'word', 'context_char', 'context_word'], True)
    """
    if not any(has_context(t) for t in texts):
        vectorizers = build_vectorizers(config)
        for vectorizer in vectorizers.values():
            vectorizer.fit(texts)
        return vectorizers
    tweets, contexts = zip(*(split_context(t) for t in texts), strict=True)
    vectorizers = build_vectorizers(config, context=True)
    given = [c for c in contexts if c]
    for key, vectorizer in vectorizers.items():
        if not key.startswith(CONTEXT_PREFIX):
            vectorizer.fit(tweets)
            continue
        try:
            vectorizer.fit(given)
        except ValueError:  # no context n-gram reaches min_df: no block to learn from
            log.warning(
                "the contexts hold no n-gram seen %d times: no context features", config.min_df
            )
            return {k: v for k, v in vectorizers.items() if not k.startswith(CONTEXT_PREFIX)}
    return vectorizers


def _vectorizers(config: TfidfConfig) -> dict[str, TfidfVectorizer]:
    common = {"sublinear_tf": True, "lowercase": True, "dtype": np.float64}
    return {
        "char": TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=tuple(config.char_ngrams),
            min_df=config.min_df,
            **common,
        ),
        "word": TfidfVectorizer(
            analyzer="word",
            ngram_range=tuple(config.word_ngrams),
            token_pattern=TOKEN_PATTERN,
            min_df=config.min_df,
            **common,
        ),
    }


class TfidfModel:
    """Fitted vectorizers and one linear model per label: ``sigmoid(coef @ x + intercept)``.

    Args:
        config: the settings it was fitted with.
        vectorizers: fitted ``char`` and ``word`` vectorizers (see :func:`build_vectorizers`).
        coef: ``(n_labels, n_features)`` weights, one column per feature of :meth:`features`.
        intercept: ``(n_labels,)`` intercepts.
        seed: the seed it was fitted with.
        sources: ``(source_coef, source_intercept)``, ``(m, n_features)`` and ``(m,)``: the
            models of extra sources that keep their own notion of hate (``head: own``); their
            ``m`` probabilities are features after the TF-IDF ones (``coef`` then has
            ``n_features + m`` columns).

    Example:
        >>> from odio.training.tfidf import TfidfTrainer
        >>> texts = ["odio a todos", "que lindo dia", "los odio", "buen dia"] * 3
        >>> model = TfidfTrainer(TfidfConfig(min_df=1)).fit(texts, np.array([[1], [0]] * 6)).member
        >>> model.predict_proba(["odio"]).shape
        (1, 1)
    """

    def __init__(
        self,
        config: TfidfConfig,
        vectorizers: dict[str, TfidfVectorizer],
        coef: np.ndarray,
        intercept: np.ndarray,
        seed: int = 42,
        sources: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        self.config = config
        self.vectorizers = vectorizers
        self.coef = coef
        self.intercept = intercept
        self.seed = seed
        self.n_labels = len(intercept)
        self.sources = sources

    @property
    def uses_context(self) -> bool:
        """Whether it has a block of context features (it was fitted with context)."""
        return any(key.startswith(CONTEXT_PREFIX) for key in self.vectorizers)

    def features(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The ``(n, n_features)`` TF-IDF matrix: the vectorizers' blocks side by side.

        A member without a context block reads the tweets alone (a context it is given
        is left out); one with a block reads the tweet with the tweet's vectorizers and the
        context with the context's."""
        if not self.uses_context:
            if any(has_context(t) for t in texts):
                texts = [split_context(t)[0] for t in texts]
            return sp.hstack([v.transform(texts) for v in self.vectorizers.values()]).tocsr()
        parts = [split_context(t) for t in texts]
        tweets, contexts = [p[0] for p in parts], [p[1] for p in parts]
        return sp.hstack(
            [
                v.transform(contexts if key.startswith(CONTEXT_PREFIX) else tweets)
                for key, v in self.vectorizers.items()
            ]
        ).tocsr()

    def decision_function(self, texts: Sequence[str]) -> np.ndarray:
        """Logits ``(n, n_labels)``."""
        return np.asarray(self.with_sources(self.features(texts)) @ self.coef.T) + self.intercept

    def with_sources(self, X: sp.csr_matrix) -> sp.csr_matrix:
        """The TF-IDF features followed by the extra sources' probabilities (if any)."""
        if self.sources is None:
            return X
        source_coef, source_intercept = self.sources
        S = 1.0 / (1.0 + np.exp(-(np.asarray(X @ source_coef.T) + source_intercept)))
        return sp.hstack([X, sp.csr_matrix(S)]).tocsr()

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities ``(n, n_labels)`` of normalised texts, in input order."""
        if not len(texts):
            return np.zeros((0, self.n_labels))
        return 1.0 / (1.0 + np.exp(-self.decision_function(texts)))

    def save(self, directory: str | Path) -> None:
        """Write ``config.json`` (settings), ``vocabulary.json`` and ``weights.safetensors``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        vocab = {}
        tensors = {"coef": self.coef, "intercept": self.intercept}
        if self.sources is not None:
            tensors["source_coef"], tensors["source_intercept"] = self.sources
        for key, vectorizer in self.vectorizers.items():
            vocab[key] = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
            tensors[f"{key}_idf"] = vectorizer.idf_
        meta = {
            "backend": "tfidf",
            "seed": self.seed,
            "config": self.config.model_dump(mode="json"),
            "context": self.uses_context,
            "sources": 0 if self.sources is None else len(self.sources[1]),
        }
        (directory / MEMBER_CONFIG).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        (directory / VOCABULARY).write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
        save_file(
            {k: np.ascontiguousarray(v) for k, v in tensors.items()},
            str(directory / WEIGHTS),
        )

    @classmethod
    def load(cls, directory: str | Path) -> TfidfModel:
        """Read a member written by :meth:`save` (JSON and safetensors: nothing is unpickled,
        nothing is run, nothing outside the folder is opened), checking every key it reads
        and that its arrays match its vocabulary. A problem is one line naming the file and
        the key."""
        directory = check_member(Path(directory))
        meta = read_json_object(directory / MEMBER_CONFIG, "a TF-IDF member's settings")
        try:
            config = TfidfConfig.model_validate(meta.get("config"))
        except ValueError as exc:
            raise OdioError(
                f"{directory / MEMBER_CONFIG}: key 'config' is not valid TF-IDF settings "
                f"({first_line(exc)})"
            ) from None
        seed = meta.get("seed", 42)
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise OdioError(
                f"{directory / MEMBER_CONFIG}: key 'seed' must be an integer, got {seed!r}"
            )
        n_sources = meta.get("sources", 0)  # members saved before sources have no key
        if not isinstance(n_sources, int) or isinstance(n_sources, bool) or n_sources < 0:
            raise OdioError(
                f"{directory / MEMBER_CONFIG}: key 'sources' must be a count, got {n_sources!r}"
            )
        context = meta.get("context", False)  # members saved before context have no key
        if not isinstance(context, bool):
            raise OdioError(
                f"{directory / MEMBER_CONFIG}: key 'context' must be true or false, got {context!r}"
            )
        vocab = read_json_object(directory / VOCABULARY, "a TF-IDF vocabulary")
        tensors = load_file(str(directory / WEIGHTS))
        vectorizers = build_vectorizers(config, context=context)
        for key in (*vectorizers, "coef", "intercept"):
            name = f"{key}_idf" if key in vectorizers else key
            if name not in tensors:
                raise OdioError(f"{directory / WEIGHTS}: has no {name!r} array")
        for key, vectorizer in vectorizers.items():
            terms = vocab.get(key)
            if (
                not isinstance(terms, list)
                or not all(isinstance(term, str) for term in terms)
                or len(set(terms)) != len(terms)
            ):
                raise OdioError(
                    f"{directory / VOCABULARY}: key {key!r} must be a list of distinct terms"
                )
            vectorizer.vocabulary = {term: i for i, term in enumerate(terms)}
            vectorizer._validate_vocabulary()
            vectorizer.idf_ = tensors[f"{key}_idf"]
            if vectorizer.idf_.shape != (len(terms),):
                raise OdioError(f"{directory}: {key}_idf does not match {VOCABULARY}")
        coef, intercept = tensors["coef"], tensors["intercept"]
        n_features = sum(len(vocab[key]) for key in vectorizers)
        wide = n_features + n_sources
        if coef.ndim != 2 or coef.shape[1] != wide or intercept.shape != coef.shape[:1]:
            raise OdioError(
                f"{directory}: {WEIGHTS} holds coef {coef.shape} and intercept "
                f"{intercept.shape}; {VOCABULARY} has {n_features} features and "
                f"{MEMBER_CONFIG} {n_sources} sources"
            )
        sources = None
        if n_sources:
            source_coef = tensors.get("source_coef")
            source_intercept = tensors.get("source_intercept")
            if (
                source_coef is None
                or source_intercept is None
                or source_coef.shape != (n_sources, n_features)
                or source_intercept.shape != (n_sources,)
            ):
                raise OdioError(
                    f"{directory}: {WEIGHTS} does not hold the {n_sources} source models "
                    f"({MEMBER_CONFIG}) over {n_features} features"
                )
            sources = (source_coef, source_intercept)
        return cls(config, vectorizers, coef, intercept, seed=seed, sources=sources)
