"""TF-IDF (character and word n-grams) with one logistic regression per label.

A strong, fast baseline that shares the harness with the transformer backend. Saved
without pickle: vocabularies and settings in JSON, arrays in safetensors.
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
from sklearn.linear_model import LogisticRegression

from odio.config import TfidfConfig, plain_data

log = logging.getLogger(__name__)

TOKEN_PATTERN = r"(?u)\b\w+\b"  # keep one-letter words: "q", "k", "wn" matter in tweets


class TfidfBackend:
    """Character (``char_wb``) and word n-gram TF-IDF, sublinear tf, logistic regression.

    Example:
        >>> texts = ["odio a todos", "que lindo dia", "los odio", "buen dia"] * 3
        >>> Y = np.array([[1], [0], [1], [0]] * 3)
        >>> model = TfidfBackend(TfidfConfig(min_df=1)).fit(texts, Y)
        >>> model.predict_proba(["odio"]).shape
        (1, 1)
    """

    name = "tfidf"

    def __init__(self, config: TfidfConfig | None = None, seed: int = 42) -> None:
        self.config = config or TfidfConfig()
        self.seed = seed

    def _vectorizers(self) -> dict[str, TfidfVectorizer]:
        c = self.config
        common = {"sublinear_tf": True, "lowercase": True, "dtype": np.float64}
        return {
            "char": TfidfVectorizer(
                analyzer="char_wb", ngram_range=tuple(c.char_ngrams), min_df=c.min_df, **common
            ),
            "word": TfidfVectorizer(
                analyzer="word",
                ngram_range=tuple(c.word_ngrams),
                token_pattern=TOKEN_PATTERN,
                min_df=c.min_df,
                **common,
            ),
        }

    def features(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The ``(n, n_features)`` TF-IDF matrix: the ``vectorizers_`` blocks side by side,
        in their order (``char`` then ``word``); ``coef_`` has one column per feature."""
        return sp.hstack([v.transform(texts) for v in self.vectorizers_.values()]).tocsr()

    def fit(
        self,
        texts: Sequence[str],
        Y: np.ndarray,
        validation: tuple[Sequence[str], np.ndarray] | None = None,
    ) -> TfidfBackend:
        """Fit the vectorizers and one logistic regression per label column of ``Y``.

        ``validation`` is accepted for the common interface and not used.
        """
        Y = np.atleast_2d(np.asarray(Y))
        self.vectorizers_ = self._vectorizers()
        for vectorizer in self.vectorizers_.values():
            vectorizer.fit(texts)
        X = self.features(texts)
        n_features, n_labels = X.shape[1], Y.shape[1]
        self.coef_ = np.zeros((n_labels, n_features))
        self.intercept_ = np.zeros(n_labels)
        for j in range(n_labels):
            y = Y[:, j]
            if y.min() == y.max():
                # One class only in this training split: predict its rate, do not crash.
                rate = np.clip(y.mean(), 1e-6, 1 - 1e-6)
                self.intercept_[j] = np.log(rate / (1 - rate))
                log.warning("label %d has a single class in this training split", j)
                continue
            clf = LogisticRegression(
                C=self.config.C,
                class_weight=self.config.class_weight,
                solver="liblinear",
                max_iter=self.config.max_iter,
                random_state=self.seed,
            ).fit(X, y)
            self.coef_[j] = clf.coef_[0]
            self.intercept_[j] = clf.intercept_[0]
        return self

    def decision_function(self, texts: Sequence[str]) -> np.ndarray:
        """Logits ``(n, n_labels)``."""
        return np.asarray(self.features(texts) @ self.coef_.T) + self.intercept_

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities ``(n, n_labels)``, in input order."""
        if not len(texts):
            return np.zeros((0, len(self.intercept_)))
        return 1.0 / (1.0 + np.exp(-self.decision_function(texts)))

    def save(self, directory: str | Path) -> None:
        """Write ``config.json`` (settings, vocabularies) and ``weights.safetensors``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        vocab = {}
        tensors = {"coef": self.coef_, "intercept": self.intercept_}
        for key, vectorizer in self.vectorizers_.items():
            terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
            vocab[key] = terms
            tensors[f"{key}_idf"] = vectorizer.idf_
        meta = {"backend": self.name, "seed": self.seed, "config": plain_data(self.config)}
        (directory / "config.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        (directory / "vocabulary.json").write_text(
            json.dumps(vocab, ensure_ascii=False), encoding="utf-8"
        )
        save_file(
            {k: np.ascontiguousarray(v) for k, v in tensors.items()},
            str(directory / "weights.safetensors"),
        )

    @classmethod
    def load(cls, directory: str | Path) -> TfidfBackend:
        """Read a model written by :meth:`save`."""
        directory = Path(directory)
        meta = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        config = TfidfConfig(
            **{k: tuple(v) if isinstance(v, list) else v for k, v in meta["config"].items()}
        )
        model = cls(config, seed=meta["seed"])
        vocab = json.loads((directory / "vocabulary.json").read_text(encoding="utf-8"))
        tensors = load_file(str(directory / "weights.safetensors"))
        model.vectorizers_ = model._vectorizers()
        for key, vectorizer in model.vectorizers_.items():
            vectorizer.vocabulary = {term: i for i, term in enumerate(vocab[key])}
            vectorizer._validate_vocabulary()
            vectorizer.idf_ = tensors[f"{key}_idf"]
        model.coef_ = tensors["coef"]
        model.intercept_ = tensors["intercept"]
        return model
