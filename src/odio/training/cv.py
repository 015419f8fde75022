"""The k-fold harness: one member per fold, out-of-fold predictions, blended test predictions.

Texts are encoded once (:meth:`~odio.training.trainers.Trainer.encode`); for each fold the
trainer fits a member on the other folds (the held-out fold is passed as ``validation``
for trainers that stop early on it), which then predicts the held-out rows (each training
row gets exactly one out-of-fold probability) and the test rows. The test probabilities of
the fold members are averaged ("blending"). :func:`fit_folds` runs it for one backend of a
run and returns the members as a :class:`~odio.models.blend.Blend`.

The folds are fitted by :func:`fit_fold`, run by an engine (:mod:`odio.training.engines`):
here one after another, or as Ray tasks; either way the results are put together in fold
order, so the out-of-fold and test probabilities do not depend on where the folds ran.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from tqdm.auto import tqdm

from odio.config import RunConfig
from odio.data.labelled import LabelledData
from odio.errors import OdioError
from odio.metrics import headline, score, tune_thresholds
from odio.models.blend import Blend
from odio.text.preprocess import preprocess_many
from odio.training.engines import Engine, LocalEngine
from odio.training.plan import RunPlan
from odio.training.resume import FOLD_DONE, keep_fold, read_fold
from odio.training.rows import training_rows
from odio.training.trainers import Trainer, backend_name

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
    oof: np.ndarray | None
    """``None`` for one model on every row (``cv.folds: 1``, :mod:`odio.training.single`)."""
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
    engine: Engine | None = None,
    checkpoints: Path | None = None,
) -> CVResult:
    """Fit one member per fold and collect out-of-fold and blended test probabilities.

    Args:
        trainer: fits the members (see :mod:`odio.training.trainers`).
        texts: normalised training texts.
        Y: ``(n, n_labels)`` 0/1 labels; further blocks of ``n_labels`` columns train the
            heads of extra sources (see :class:`~odio.training.rows.TrainingRows`), never scored.
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
        engine: where the folds run (default: here, one after another; see
            :mod:`odio.training.engines`). The results are assembled in fold order, so they
            do not depend on the engine.
        checkpoints: where each fold keeps its resume point and, once done, its output
            (``fold_K/``): a call with the same data continues a stopped one from there.

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
    engine = engine or LocalEngine()
    Y = np.atleast_2d(np.asarray(Y))
    scored_Y = Y[:, : len(labels)]  # the columns after them train the heads of sources
    fold_ids = np.asarray(fold_ids)
    n_folds = int(fold_ids.max()) + 1
    exclude = fold_ids if exclude is None else np.asarray(exclude)
    scored = int((fold_ids >= 0).sum())
    if not (fold_ids[:scored] >= 0).all():
        raise ValueError("rows of extra sources (fold -1) must come after the scored rows")
    inputs = trainer.encode(texts)
    test_inputs = None if test_texts is None else trainer.encode(test_texts)
    job = FoldJob(
        trainer,
        inputs,
        Y,
        fold_ids,
        test_inputs,
        known=known,
        exclude=exclude,
        bars=progress and not engine.remote,
        portable=engine.remote,
        checkpoints=checkpoints,
    )
    bar = tqdm(total=n_folds, desc="folds", unit="fold", disable=not progress)
    scores: dict[int, dict[str, Any]] = {}

    def started(fold: int) -> None:
        bar.set_description(fold_name(fold, n_folds))

    def done(fold: int, out: FoldOutput) -> None:
        scores[fold] = score(scored_Y[fold_ids == fold], out.oof, labels, metric=metric)
        value = headline(scores[fold])
        log.debug("fold %d: %s %.4f (%.1fs)", fold, scores[fold]["metric"], value, out.seconds)
        # folds finish in any order on Ray: name the one that did
        name = f"fold {fold} " * engine.remote + scores[fold]["metric"]
        bar.set_postfix({name: f"{value:.3f}"})
        bar.update(1)

    try:
        outputs = engine.run_folds(fit_fold, job, range(n_folds), started=started, done=done)
    finally:
        bar.close()
    oof = np.full(scored_Y.shape, np.nan)
    test_sum = None if test_inputs is None else np.zeros((len(test_inputs), len(labels)))
    folds: list[FoldResult] = []
    for fold, out in enumerate(outputs):
        val = fold_ids == fold
        oof[val] = out.oof
        if test_sum is not None and out.test is not None:
            test_sum += out.test  # in fold order, whatever order the folds finished in
        folds.append(
            FoldResult(
                fold=fold,
                train_rows=int((exclude != fold).sum()),
                val_rows=int(val.sum()),
                scores=scores[fold],
                seconds=out.seconds,
                history=list(out.history),
            )
        )
    oof = oof[:scored]
    if np.isnan(oof).any():
        raise AssertionError("some training rows got no out-of-fold prediction")
    return CVResult(
        labels=list(labels),
        fold_ids=fold_ids,
        oof=oof,
        folds=folds,
        members=[out.member for out in outputs],
        test=None if test_sum is None else test_sum / n_folds,
    )


@dataclass
class FoldJob:
    """What every fold of a cross-validation needs (shipped once to where folds run)."""

    trainer: Trainer
    inputs: list[Any]
    """The encoded training texts."""
    Y: np.ndarray
    fold_ids: np.ndarray
    test_inputs: list[Any] | None
    """The encoded test texts, or ``None``."""
    known: np.ndarray | None = None
    """The labels each row has (``None``: all)."""
    exclude: np.ndarray | None = None
    """The fold whose training set must not hold each row (``None``: ``fold_ids``)."""
    bars: bool = False
    """Show the trainer's progress bar, named after the fold."""
    portable: bool = False
    """Move the member to the CPU before returning it (it travels to another process)."""
    checkpoints: Path | None = None
    """Where each fold keeps its resume point and, once done, its output (``None``: no)."""


class FoldOutput(NamedTuple):
    """What one fold produced."""

    member: Any
    oof: np.ndarray
    """Probabilities of the held-out rows, in row order."""
    test: np.ndarray | None
    """Probabilities of the test rows."""
    seconds: float
    history: list[dict[str, float]]


def fold_name(fold: int, n_folds: int) -> str:
    """How progress names a fold: its number as in tables and plots, then its place.

    >>> fold_name(0, 5)
    'fold 0 (1/5)'
    """
    return f"fold {fold} ({fold + 1}/{n_folds})"


def fit_fold(job: FoldJob, fold: int) -> FoldOutput:
    """Fit a member on every fold but ``fold``, and predict ``fold`` and the test rows.

    Example:
        >>> from odio.training.tfidf import TfidfTrainer
        >>> texts = ["odio a todos", "que lindo dia", "los odio", "buen dia"] * 3
        >>> job = FoldJob(TfidfTrainer(), texts, np.array([[1], [0]] * 6), np.arange(12) % 2,
        ...               None)
        >>> fit_fold(job, 0).oof.shape
        (6, 1)
    """
    n_folds = int(job.fold_ids.max()) + 1
    exclude = job.fold_ids if job.exclude is None else job.exclude
    train_idx, val_idx = np.flatnonzero(exclude != fold), np.flatnonzero(job.fold_ids == fold)
    val_inputs = [job.inputs[i] for i in val_idx]
    trainer, done = job.trainer, None
    if job.checkpoints is not None:
        trainer = trainer.at(job.checkpoints / f"fold_{fold}")
        done = job.checkpoints / f"fold_{fold}" / FOLD_DONE
        if done.is_file():  # finished before the run was stopped
            return FoldOutput(*read_fold(done, trainer.load_member))
    start = time.perf_counter()
    fitted = trainer.fit(
        [job.inputs[i] for i in train_idx],
        job.Y[train_idx],
        validation=(val_inputs, job.Y[val_idx]),
        known=None if job.known is None else job.known[train_idx],
        progress=fold_name(fold, n_folds) if job.bars else None,
    )
    oof = trainer.predict(fitted.member, val_inputs)
    test = None
    if job.test_inputs is not None:
        test = trainer.predict(fitted.member, job.test_inputs)
    seconds = time.perf_counter() - start
    member = fitted.member
    if job.portable and hasattr(member, "to"):
        member = member.to("cpu")  # a GPU member must load where there is no GPU
    output = FoldOutput(member, oof, test, seconds, list(fitted.history))
    if done is not None:
        keep_fold(done, *output)
    return output


class FoldsFit(NamedTuple):
    """One backend cross-validated: the harness's result, its members as a blend, and the
    thresholds tuned on its out-of-fold probabilities."""

    result: CVResult
    blend: Blend
    thresholds: np.ndarray


def fit_folds(
    config: RunConfig,
    plan: RunPlan,
    train: LabelledData,
    test: LabelledData | None,
    fold_ids: np.ndarray,
    *,
    sources: Sequence[LabelledData] = (),
    progress: bool = True,
    engine: Engine | None = None,
    checkpoints: Path | None = None,
) -> FoldsFit:
    """Cross-validate one backend (``plan.model``) in ``fold_ids``, with the plan's
    normalisation, headline metric and threshold objectives, its folds run by ``engine``.
    Rows of extra ``sources`` join the training set of every fold; only ``train``'s rows
    are scored. ``config`` gives the backend's own settings and the augmentation.

    Example:
        >>> fit = fit_folds(config, plan_run(config, train.labels), train, None,
        ...                 fold_ids)  # doctest: +SKIP
        >>> len(fit.blend.members) == len(fit.result.folds)  # doctest: +SKIP
        True
    """
    if plan.preprocess is None:
        raise OdioError("a stack is not one backend: train it with odio.fit")
    rows = training_rows(config, train, sources, fold_ids)
    texts, Y, known, folds, exclude = rows.texts, rows.Y, rows.known, rows.folds, rows.exclude
    result = cross_validate(
        create_trainer(config.model_copy(update={"model": plan.model})),
        preprocess_many(texts, plan.preprocess),
        Y,
        train.labels,
        folds,
        known=None if known.all() else known,
        exclude=exclude,
        test_texts=None if test is None else preprocess_many(test.texts, plan.preprocess),
        metric=plan.metric,
        progress=progress,
        engine=engine,
        checkpoints=checkpoints,
    )
    blend = plan.blend(result.members)
    assert result.oof is not None  # cross_validate scores every row
    thresholds = tune_thresholds(train.Y, result.oof, plan.objectives, rule=plan.decision_rule)
    return FoldsFit(result, blend, thresholds)


def create_trainer(config: RunConfig) -> Trainer:
    """The trainer for ``config.model`` with the run's settings.

    >>> create_trainer(RunConfig()).backend
    'tfidf'
    """
    name = backend_name(config.model)
    if name == "tfidf":
        from odio.training.tfidf import TfidfTrainer

        return TfidfTrainer(config.tfidf, seed=config.cv.seed, labels=config.data.label_names)
    if name == "stack":
        raise OdioError("a stack is not one backend: train it with odio.fit")
    from odio.training.finetune import EncoderTrainer

    return EncoderTrainer(
        config.model, config.transformer, seed=config.cv.seed, labels=config.data.label_names
    )
