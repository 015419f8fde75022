"""Fitting the TF-IDF member: vectorizers, then one logistic regression per label."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from odio.config import TfidfConfig
from odio.models.tfidf import TfidfModel, fit_vectorizers
from odio.training.trainers import Fitted

log = logging.getLogger(__name__)


class TfidfTrainer:
    """Fits :class:`~odio.models.tfidf.TfidfModel` members; its inputs are the texts.

    Example:
        >>> texts = ["odio a todos", "que lindo dia", "los odio", "buen dia"] * 3
        >>> fitted = TfidfTrainer(TfidfConfig(min_df=1)).fit(texts, np.array([[1], [0]] * 6))
        >>> fitted.member.n_labels, fitted.history
        (1, [])
    """

    backend = "tfidf"

    def __init__(
        self,
        config: TfidfConfig | None = None,
        seed: int = 42,
        labels: Sequence[str] | None = None,
    ) -> None:
        self.config = config or TfidfConfig()
        self.seed = seed
        self.labels = None if labels is None else list(labels)

    def at(self, checkpoints: Path) -> TfidfTrainer:
        """TF-IDF fits in one pass: nothing to resume, the same trainer."""
        return self

    def load_member(self, directory: Path) -> TfidfModel:
        """A member written by :meth:`TfidfModel.save`."""
        return TfidfModel.load(directory)

    def encode(self, texts: Sequence[str]) -> list[str]:
        """TF-IDF reads normalised texts as they are."""
        return list(texts)

    def fit(
        self,
        inputs: Sequence[str],
        Y: np.ndarray,
        validation: tuple[Sequence[str], np.ndarray] | None = None,
        *,
        known: np.ndarray | None = None,
        progress: str | None = None,
    ) -> Fitted:
        """Fit on texts and a ``(n, n_labels)`` 0/1 matrix; each label's regression sees only
        the rows where it is ``known`` (the vectorizers see every text). ``validation`` and
        ``progress`` are part of the common interface; TF-IDF fits in one pass and uses
        neither.

        ``Y`` may hold probabilities (distillation): each row then counts as a positive with
        weight ``p`` and a negative with weight ``1 - p`` (the cross-entropy against soft
        targets), without class re-weighting, so the model learns those probabilities.

        ``Y`` may have more columns than the run's ``labels``: each further column is an
        extra source's own label (``head: own``, see :class:`odio.training.rows.TrainingRows`),
        fitted on that source's rows alone; its probability is then a feature of every
        label's model. A source model never sees the main file's rows, so its probabilities
        for them are out-of-sample, as they will be for new tweets.

        The solver runs with one BLAS thread: liblinear's dot products then add up in the
        same order on any machine, so the fitted weights do not depend on the number of
        cores or on the engine running the fold (with 2 threads they moved by ~1e-9), and
        the fit is faster (1.3 s instead of 4.3 s for 2 labels of the Datathon set).
        """
        with threadpool_limits(limits=1, user_api="blas"):
            return self._fit(inputs, Y, known)

    def _fit(self, inputs: Sequence[str], Y: np.ndarray, known: np.ndarray | None) -> Fitted:
        Y = np.atleast_2d(np.asarray(Y, dtype=float))
        soft = not np.isin(Y, (0, 1)).all()
        vectorizers = fit_vectorizers(self.config, inputs)
        main = len(self.labels) if self.labels else Y.shape[1]
        model = TfidfModel(self.config, vectorizers, np.zeros((main, 0)), np.zeros(main), self.seed)
        X = model.features(inputs)
        own = [  # the sources' own labels that have rows of both classes to learn from
            j
            for j in range(main, Y.shape[1])
            if known is not None and len(set(Y[known[:, j], j].tolist())) == 2
        ]
        if own:
            source_coef = np.zeros((len(own), X.shape[1]))
            source_intercept = np.zeros(len(own))
            for k, j in enumerate(own):
                source_coef[k], source_intercept[k] = self._fit_label(X, Y, known, j, soft)
            model.sources = (source_coef, source_intercept)
            X = model.with_sources(X)
        model.coef = np.zeros((main, X.shape[1]))
        for j in range(main):
            model.coef[j], model.intercept[j] = self._fit_label(X, Y, known, j, soft)
        return Fitted(model, [])

    def _fit_label(
        self, X: Any, Y: np.ndarray, known: np.ndarray | None, j: int, soft: bool
    ) -> tuple[np.ndarray, float]:
        """Label ``j``'s weights and intercept, fitted on the rows where it is known."""
        rows = slice(None) if known is None else known[:, j]
        y = Y[rows, j]
        if soft:
            return self._fit_soft(X[rows], y)
        if y.min() == y.max():
            # One class only in this training split: predict its rate, do not crash.
            rate = np.clip(y.mean(), 1e-6, 1 - 1e-6)
            log.warning("label %d has a single class in this training split", j)
            return np.zeros(X.shape[1]), float(np.log(rate / (1 - rate)))
        clf = LogisticRegression(
            C=self.config.C,
            class_weight=self.config.class_weight,
            solver="liblinear",
            max_iter=self.config.max_iter,
            random_state=self.seed,
        ).fit(X[rows], y)
        return clf.coef_[0], float(clf.intercept_[0])

    def _fit_soft(self, X: Any, p: np.ndarray) -> tuple[np.ndarray, float]:
        """A logistic regression on soft targets: each row twice, as 1 (weight p) and 0."""
        stacked = sp.vstack([X, X]).tocsr()
        y = np.concatenate([np.ones(len(p)), np.zeros(len(p))])
        weights = np.concatenate([p, 1 - p])
        clf = LogisticRegression(
            C=self.config.C,
            solver="liblinear",
            max_iter=self.config.max_iter,
            random_state=self.seed,
        ).fit(stacked, y, sample_weight=weights)
        return clf.coef_[0], float(clf.intercept_[0])

    def predict(self, member: TfidfModel, inputs: Sequence[str]) -> np.ndarray:
        """Probabilities of encoded (here: normalised) texts."""
        return member.predict_proba(inputs)
