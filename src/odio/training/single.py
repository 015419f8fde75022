"""One model on every training row, no folds (``cv.folds: 1``): stage 1 of a staged schedule.

A cross-validation fits one model per fold so that every training row is scored by a model
that did not see it. Stage 1 of a staged schedule wants the opposite: one model that has
seen everything (the main file and every extra source, each source with its own head when
it says ``head: own``), for the k folds of stage 2 to start from (``transformer.init``).
With no held-out rows there is nothing to stop early on, so it trains ``max_epochs``
epochs, and it has no out-of-fold scores and no tuned thresholds (0.5); a test set is
still scored. The run directory it writes has the model (one member, ``fold_0``) that
``--init`` reads.

Example:
    >>> import odio
    >>> run = odio.fit("examples/tweets_sample.csv", {"cv": {"folds": 1}},
    ...                progress=False)
    >>> run.metrics["folds"], run.oof_predictions is None
    ([], True)
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from odio.config import RunConfig
from odio.data.labelled import LabelledData
from odio.errors import OdioError
from odio.text.preprocess import preprocess_many
from odio.training.cv import CVResult, FoldResult, FoldsFit, create_trainer
from odio.training.plan import RunPlan
from odio.training.rows import training_rows

__all__ = ["fit_single"]


def fit_single(
    config: RunConfig,
    plan: RunPlan,
    train: LabelledData,
    test: LabelledData | None,
    *,
    sources: Sequence[LabelledData] = (),
    progress: bool = True,
    checkpoints: Path | None = None,
) -> FoldsFit:
    """Fit one member on every row of ``train`` and ``sources``; score ``test`` with it.

    The result has no out-of-fold probabilities (``result.oof`` is ``None``) and its
    thresholds are 0.5; its one fold entry records the rows, time and epoch history.
    With ``checkpoints``, an encoder keeps a resume point there and continues from the one
    found there (:mod:`odio.training.resume`).
    """
    if plan.preprocess is None:
        raise OdioError("cv.folds is 1: a stack needs out-of-fold predictions; give folds >= 2")
    rows = training_rows(config, train, sources, np.full(len(train.texts), -1))
    trainer = create_trainer(config.model_copy(update={"model": plan.model}))
    if checkpoints is not None:
        trainer = trainer.at(checkpoints)
    start = time.perf_counter()
    inputs = trainer.encode(preprocess_many(rows.texts, plan.preprocess))
    fitted = trainer.fit(
        inputs,
        rows.Y,
        known=None if rows.known.all() else rows.known,
        progress="one model (no folds)" if progress else None,
    )
    test_probs = None
    if test is not None:
        test_inputs = trainer.encode(preprocess_many(test.texts, plan.preprocess))
        test_probs = trainer.predict(fitted.member, test_inputs)
    seconds = time.perf_counter() - start
    member = fitted.member
    if hasattr(member, "to"):
        member = member.to("cpu")
    result = CVResult(
        labels=list(train.labels),
        fold_ids=np.full(len(train.texts), -1),
        oof=None,
        folds=[FoldResult(0, len(rows.texts), 0, {}, seconds, list(fitted.history))],
        members=[member],
        test=test_probs,
    )
    return FoldsFit(result, plan.blend([member]), np.full(len(train.labels), 0.5))
