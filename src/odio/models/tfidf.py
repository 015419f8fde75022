"""TF-IDF (character and word n-grams) with one logistic regression per label: the member.

A strong, fast baseline that shares the harness with the encoders. Fitted by
:class:`odio.training.tfidf.TfidfTrainer`; saved without pickle: vocabularies and settings
in JSON, arrays in safetensors.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from safetensors.numpy import load_file, save_file
from sklearn.feature_extraction.text import TfidfVectorizer

from odio.config import TfidfConfig
from odio.errors import OdioError
from odio.models.modelconfig import check_member, first_line, read_json_object

MEMBER_CONFIG, VOCABULARY, WEIGHTS = "config.json", "vocabulary.json", "weights.safetensors"
"""The files of a TF-IDF member folder."""
TOKEN_PATTERN = r"(?u)\b\w+\b"  # keep one-letter words: "q", "k", "wn" matter in tweets


def build_vectorizers(config: TfidfConfig) -> dict[str, TfidfVectorizer]:
    """The unfitted ``char`` (``char_wb``) and ``word`` vectorizers of ``config``, in the
    order their features are stacked.

    >>> list(build_vectorizers(TfidfConfig()))
    ['char', 'word']
    """
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

    def features(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The ``(n, n_features)`` TF-IDF matrix: the vectorizers' blocks side by side."""
        return sp.hstack([v.transform(texts) for v in self.vectorizers.values()]).tocsr()

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
        vocab = read_json_object(directory / VOCABULARY, "a TF-IDF vocabulary")
        tensors = load_file(str(directory / WEIGHTS))
        vectorizers = build_vectorizers(config)
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
