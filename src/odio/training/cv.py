"""The k-fold harness: one member per fold, out-of-fold predictions, blended test predictions.

Texts are encoded once (:meth:`~odio.training.trainers.Trainer.encode`); for each fold the
trainer fits a member on the other folds (the held-out fold is passed as ``validation``
for trainers that stop early on it), which then predicts the held-out rows (each training
row gets exactly one out-of-fold probability) and the test rows. The test probabilities of
the fold members are averaged ("blending"). :func:`fit_folds` runs it for one backend of a
run and returns the members as a :class:`~odio.models.blend.Blend`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from tqdm.auto import tqdm

from odio.config import RunConfig
from odio.data.labelled import LabelledData
from odio.errors import OdioError
from odio.metrics import headline, score, tune_thresholds
from odio.models.blend import Blend
from odio.text.augment import augment
from odio.text.preprocess import preprocess_many
from odio.training.trainers import Trainer, backend_name, default_preprocess

log = logging.getLogger(__name__)


@dataclass
class FoldResult:
    """What one fold produced: sizes, held-out scores at threshold 0.5, time, history."""

    fold: int
    train_rows: int
    val_rows: int
    scores: dict[str, Any]
    seconds: float
    history: list[dict[str, float]] = field(default_factory=list)
    """Per-epoch losses, for trainers that train in epochs."""


@dataclass
class CVResult:
    """Out-of-fold and blended test probabilities, per-fold results and the fold members."""

    labels: list[str]
    fold_ids: np.ndarray
    oof: np.ndarray
    folds: list[FoldResult]
    members: list[Any]
    test: np.ndarray | None = None

    def fold_summary(self) -> dict[str, dict[str, float]]:
        """Mean and standard deviation over folds of the headline metric, macro-F1 and the
        main label's F1 (each fold's held-out scores at threshold 0.5)."""
        names = dict.fromkeys([self.folds[0].scores["metric"], "macro_f1", "main_f1"])
        return {
            name: {
                "mean": float(np.mean([f.scores[name] for f in self.folds])),
                "std": float(np.std([f.scores[name] for f in self.folds])),
            }
            for name in names
        }


def cross_validate(
    trainer: Trainer,
    texts: Sequence[str],
    Y: np.ndarray,
    labels: Sequence[str],
    fold_ids: np.ndarray,
    *,
    known: np.ndarray | None = None,
    exclude: np.ndarray | None = None,
    test_texts: Sequence[str] | None = None,
    metric: str = "auto",
    progress: bool = True,
) -> CVResult:
    """Fit one member per fold and collect out-of-fold and blended test probabilities.

    Args:
        trainer: fits the members (see :mod:`odio.training.trainers`).
        texts: normalised training texts.
        Y: ``(n, n_labels)`` 0/1 labels.
        labels: label names.
        fold_ids: fold of every row (from :func:`odio.data.folds.make_folds`); ``-1``
            marks rows of extra sources, in the training set of every fold and never scored
            (the out-of-fold result covers the other rows, which come first).
        known: ``(n, n_labels)`` bool, the labels each row has (``None``: all); an unknown
            label is left out of that label's fit.
        exclude: the fold whose training set must not hold each row (default
            ``fold_ids``; an augmented copy of a tweet is excluded where its original is
            held out; ``-1``: in every fold's training set).
        test_texts: normalised test texts, predicted by every fold member and averaged.
        metric: the headline metric of the fold scores (see :func:`odio.metrics.score`).
        progress: show progress bars (folds, and epochs for trainers that have them).

    Example:
        >>> from odio.config import TfidfConfig
        >>> from odio.training.tfidf import TfidfTrainer
        >>> texts = ["odio a todos", "que lindo dia", "los odio", "buen dia"] * 5
        >>> Y = np.array([[1], [0], [1], [0]] * 5)
        >>> res = cross_validate(TfidfTrainer(TfidfConfig(min_df=1)), texts, Y, ["Odio"],
        ...                      np.arange(20) % 2, progress=False)
        >>> res.oof.shape, len(res.members)
        ((20, 1), 2)
    """
    Y = np.atleast_2d(np.asarray(Y))
    fold_ids = np.asarray(fold_ids)
    n_folds = int(fold_ids.max()) + 1
    exclude = fold_ids if exclude is None else np.asarray(exclude)
    scored = int((fold_ids >= 0).sum())
    if not (fold_ids[:scored] >= 0).all():
        raise ValueError("rows of extra sources (fold -1) must come after the scored rows")
    inputs = trainer.encode(texts)
    test_inputs = None if test_texts is None else trainer.encode(test_texts)
    oof = np.full(Y.shape, np.nan)
    test_sum = None if test_inputs is None else np.zeros((len(test_inputs), Y.shape[1]))
    folds: list[FoldResult] = []
    members: list[Any] = []
    bar = tqdm(range(n_folds), desc="folds", unit="fold", disable=not progress)
    for fold in bar:
        name = f"fold {fold} ({fold + 1}/{n_folds})"
        bar.set_description(name)
        val = fold_ids == fold
        train_idx, val_idx = np.flatnonzero(exclude != fold), np.flatnonzero(val)
        val_inputs = [inputs[i] for i in val_idx]
        start = time.perf_counter()
        fitted = trainer.fit(
            [inputs[i] for i in train_idx],
            Y[train_idx],
            validation=(val_inputs, Y[val_idx]),
            known=None if known is None else known[train_idx],
            progress=name if progress else None,
        )
        oof[val_idx] = trainer.predict(fitted.member, val_inputs)
        if test_sum is not None and test_inputs is not None:
            test_sum += trainer.predict(fitted.member, test_inputs)
        seconds = time.perf_counter() - start
        result = FoldResult(
            fold=fold,
            train_rows=len(train_idx),
            val_rows=len(val_idx),
            scores=score(Y[val_idx], oof[val_idx], labels, metric=metric),
            seconds=seconds,
            history=list(fitted.history),
        )
        value = headline(result.scores)
        log.debug("fold %d: %s %.4f (%.1fs)", fold, result.scores["metric"], value, seconds)
        bar.set_postfix({result.scores["metric"]: f"{value:.3f}"})
        folds.append(result)
        members.append(fitted.member)
    oof = oof[:scored]
    if np.isnan(oof).any():
        raise AssertionError("some training rows got no out-of-fold prediction")
    return CVResult(
        labels=list(labels),
        fold_ids=fold_ids,
        oof=oof,
        folds=folds,
        members=members,
        test=None if test_sum is None else test_sum / n_folds,
    )


class FoldsFit(NamedTuple):
    """One backend cross-validated: the harness's result, its members as a blend, and the
    thresholds tuned on its out-of-fold probabilities."""

    result: CVResult
    blend: Blend
    thresholds: np.ndarray


def fit_folds(
    config: RunConfig,
    train: LabelledData,
    test: LabelledData | None,
    fold_ids: np.ndarray,
    *,
    sources: Sequence[LabelledData] = (),
    progress: bool = True,
) -> FoldsFit:
    """Cross-validate one backend (``config.model``) in ``fold_ids``, with its normalisation
    (``config.preprocess``, or the backend's default). Rows of extra ``sources`` join the
    training set of every fold; only ``train``'s rows are scored.

    Example:
        >>> fit = fit_folds(RunConfig(), train, None, fold_ids)  # doctest: +SKIP
        >>> len(fit.blend.members) == len(fit.result.folds)  # doctest: +SKIP
        True
    """
    backend = backend_name(config.model)
    preprocess = config.preprocess or default_preprocess(backend)
    texts = [t for data in (train, *sources) for t in data.texts]
    Y = np.vstack([train.Y, *(s.Y for s in sources)])
    known = np.vstack(
        [np.ones(s.Y.shape, dtype=bool) if s.known is None else s.known for s in (train, *sources)]
    )
    folds = np.concatenate([fold_ids, *(np.full(len(s.texts), -1) for s in sources)])
    exclude = folds.copy()
    if config.augment.active:
        copies, origin = augment(texts, config.augment.model_dump(), seed=config.cv.seed)
        log.info("augmentation: %d obfuscated copies of training tweets", len(copies))
        texts += copies
        Y, known = np.vstack([Y, Y[origin]]), np.vstack([known, known[origin]])
        folds = np.concatenate([folds, np.full(len(copies), -1)])
        exclude = np.concatenate([exclude, exclude[origin]])
    result = cross_validate(
        create_trainer(config),
        preprocess_many(texts, preprocess),
        Y,
        train.labels,
        folds,
        known=None if known.all() else known,
        exclude=exclude,
        test_texts=None if test is None else preprocess_many(test.texts, preprocess),
        metric=config.headline(train.labels),
        progress=progress,
    )
    blend = Blend(
        result.members,
        preprocess,
        backend=backend,
        base_model=None if backend == "tfidf" else config.model,
    )
    thresholds = tune_thresholds(
        train.Y,
        result.oof,
        config.objectives(train.labels),
        rule=config.thresholds.decision_rule,
    )
    return FoldsFit(result, blend, thresholds)


def create_trainer(config: RunConfig) -> Trainer:
    """The trainer for ``config.model`` with the run's settings.

    >>> create_trainer(RunConfig()).backend
    'tfidf'
    """
    name = backend_name(config.model)
    if name == "tfidf":
        from odio.training.tfidf import TfidfTrainer

        return TfidfTrainer(config.tfidf, seed=config.cv.seed)
    if name == "stack":
        raise OdioError("a stack is not one backend: train it with odio.training.run.train_run")
    from odio.training.finetune import EncoderTrainer

    return EncoderTrainer(config.model, config.transformer, seed=config.cv.seed)
