"""Stacking, trained: bases cross-validated in the run's folds, then a nested meta-model.

Every base of ``stack:A+B`` is cross-validated with the run's folds and its own
normalisation, or reused from a finished run directory after checking that its rows,
labels and folds are this run's (so an encoder trained for an hour is not retrained to be
stacked). The meta-model (:class:`~odio.models.stack.StackMeta`) is then scored honestly
by **nested** cross-validation: the meta-model that scores fold *k* is fitted only on the
other folds' rows, whose base probabilities are themselves out-of-fold. The shipped
meta-model is fitted on every out-of-fold row and applied to the bases' blended
probabilities.
"""

from __future__ import annotations

import functools
import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from odio.config import RunConfig, StackConfig
from odio.data.labelled import LabelledData
from odio.errors import OdioError
from odio.metrics import score, score_at_both, tune_thresholds
from odio.models.blend import Blend
from odio.models.modeldir import (
    find_model_dir,
    load_model,
    model_config,
    read_config,
    save_model,
    write_model,
)
from odio.models.stack import Stack, StackMeta, parse_stack, stack_description
from odio.runs import RunData, is_run_dir, read_run
from odio.training.cv import CVResult, FoldResult, fit_folds
from odio.training.engines import Engine
from odio.training.plan import RunPlan

log = logging.getLogger(__name__)


def nested_oof(
    base_probs: Sequence[np.ndarray], Y: np.ndarray, fold_ids: np.ndarray, config: StackConfig
) -> np.ndarray:
    """Stacked out-of-fold probabilities: fold *k*'s rows are scored by a meta-model fitted
    on the other folds' rows only.

    >>> Y = np.array([[1], [0]] * 10)
    >>> P = [Y * 0.8 + 0.1, np.full((20, 1), 0.5)]
    >>> nested_oof(P, Y, np.arange(20) % 4, StackConfig()).shape
    (20, 1)
    """
    oof = np.full(Y.shape, np.nan)
    for fold in np.unique(fold_ids):
        held = fold_ids == fold
        meta = StackMeta.fit([P[~held] for P in base_probs], Y[~held], config)
        oof[held] = meta.predict_proba([P[held] for P in base_probs])
    return oof


@dataclass
class StackBase:
    """One base of a stack after cross-validation: its predictions and how to save it."""

    spec: str
    backend: str
    runtime: str
    oof: np.ndarray
    test: np.ndarray | None
    cv: dict[str, Any]
    thresholds: np.ndarray
    """The base's own thresholds, tuned on its out-of-fold predictions."""
    seconds: list[float]
    """Training seconds per fold (zeros for a reused run)."""
    save: Callable[[Path], None]
    """Writes the base's Detector directory."""
    load: Callable[[], Blend]
    """The base's fold members, as a blend (a reused run's are read from its folder)."""

    def metrics(
        self, train: LabelledData, test: LabelledData | None, *, metric: str, rule: str
    ) -> dict[str, Any]:
        """The base's own scores, at 0.5 and at its own tuned thresholds."""
        out: dict[str, Any] = {
            "model": self.spec,
            "backend": self.backend,
            "cv": self.cv,
            "thresholds": dict(zip(train.labels, self.thresholds.tolist(), strict=True)),
            "oof": score_at_both(
                train.Y, self.oof, train.labels, self.thresholds, metric=metric, rule=rule
            ),
        }
        if test is not None and self.test is not None:
            out["test"] = score_at_both(
                test.Y, self.test, test.labels, self.thresholds, metric=metric, rule=rule
            )
        return out


@dataclass
class StackResult:
    """The stack's nested cross-validation, and its bases."""

    result: CVResult
    bases: list[StackBase]
    meta: StackMeta
    thresholds: np.ndarray
    """The stack's thresholds, tuned on its nested out-of-fold predictions."""

    def model(self) -> Stack:
        """The stacked model, in memory (a reused run's members are read from its folder)."""
        return Stack(
            [b.load() for b in self.bases],
            self.meta,
            specs=[b.spec for b in self.bases],
            base_thresholds=[b.thresholds.tolist() for b in self.bases],
        )

    def save_model(self, directory: Path, info: dict[str, Any], decision_rule: str) -> None:
        """Write the stacked model directory: each base saved (or copied from its run)."""
        description = stack_description(
            [(b.spec, b.backend, b.runtime) for b in self.bases], self.meta
        )
        config = model_config(description, self.result.labels, self.thresholds, info, decision_rule)

        def write_bases(directory: Path) -> None:
            for entry, base in zip(config["bases"], self.bases, strict=True):
                base.save(directory / entry["dir"])

        write_model(directory, config, write_bases)


def cross_validate_stack(
    config: RunConfig,
    plan: RunPlan,
    train: LabelledData,
    test: LabelledData | None,
    fold_ids: np.ndarray,
    *,
    sources: Sequence[LabelledData] = (),
    progress: bool = True,
    engine: Engine | None = None,
) -> StackResult:
    """Cross-validate (or reuse) every base in ``fold_ids`` (its folds run by ``engine``),
    then the nested meta-model; the bases and the meta-model share ``plan``'s metric,
    threshold objectives and decision rule.

    Example:
        >>> cfg = RunConfig(model="stack:tfidf+runs/e5small")  # doctest: +SKIP
        >>> stacked = cross_validate_stack(cfg, plan_run(cfg, train.labels), train, test,
        ...                              fold_ids)  # doctest: +SKIP
        >>> stacked.result.oof.shape  # doctest: +SKIP
        (2256, 5)
    """
    specs = parse_stack(config.model)
    metric = plan.metric
    bases = []
    for i, spec in enumerate(specs, 1):
        log.info("stack base %d/%d: %s", i, len(specs), spec)
        if is_run_dir(spec):
            bases.append(_reuse_run(Path(spec), train, test, fold_ids))
        else:
            base_plan = plan.for_base(spec, config.preprocess)
            bases.append(
                _fit_base(config, base_plan, train, test, fold_ids, sources, progress, engine)
            )
    base_oof = [b.oof for b in bases]
    oof = nested_oof(base_oof, train.Y, fold_ids, config.stack)
    meta = StackMeta.fit(base_oof, train.Y, config.stack)
    test_probs = None
    if test is not None:
        test_probs = meta.predict_proba([b.test for b in bases if b.test is not None])
    folds = []
    for fold in range(int(fold_ids.max()) + 1):
        held = fold_ids == fold
        folds.append(
            FoldResult(
                fold=fold,
                train_rows=int((~held).sum()),
                val_rows=int(held.sum()),
                scores=score(train.Y[held], oof[held], train.labels, metric=metric),
                seconds=sum(b.seconds[fold] for b in bases),
            )
        )
    result = CVResult(
        labels=train.labels,
        fold_ids=fold_ids,
        oof=oof,
        folds=folds,
        members=[],
        test=test_probs,
    )
    thresholds = tune_thresholds(train.Y, oof, plan.objectives, rule=plan.decision_rule)
    return StackResult(result, bases, meta, thresholds)


def _fit_base(
    config: RunConfig,
    plan: RunPlan,
    train: LabelledData,
    test: LabelledData | None,
    fold_ids: np.ndarray,
    sources: Sequence[LabelledData],
    progress: bool,
    engine: Engine | None,
) -> StackBase:
    result, blend, thresholds = fit_folds(
        config, plan, train, test, fold_ids, sources=sources, progress=progress, engine=engine
    )
    assert result.oof is not None  # cross_validate scores every row
    return StackBase(
        spec=plan.model,
        backend=blend.backend,
        runtime=blend.runtime,
        oof=result.oof,
        test=result.test,
        cv=result.fold_summary(),
        thresholds=thresholds,
        seconds=[f.seconds for f in result.folds],
        save=lambda directory: save_model(directory, blend, train.labels, thresholds, {}),
        load=lambda: blend,
    )


def _reuse_run(
    path: Path, train: LabelledData, test: LabelledData | None, fold_ids: np.ndarray
) -> StackBase:
    """A finished run as a base, after checking it was trained on these rows and folds."""
    run = read_run(path)
    if run.metrics.get("backend") == "stack":
        raise OdioError(f"{path} is itself a stack; stack its bases instead")
    if run.labels != train.labels:
        raise OdioError(f"{path} was trained on labels {run.labels}, this run on {train.labels}")
    oof_frame = run.frame("oof")
    if (
        len(oof_frame) != len(train.rows)
        or not np.array_equal(oof_frame["row"].to_numpy(), np.asarray(train.rows))
        or not np.array_equal(oof_frame["fold"].to_numpy(), fold_ids)
    ):
        raise OdioError(
            f"{path} was not cross-validated on these training rows with these folds "
            "(same file, --folds, --seed and --split are needed to reuse it)"
        )
    oof = _checked_probs(run, "oof", train)
    test_probs = None
    if test is not None:
        if run.test is None:
            raise OdioError(f"{path} has no test_predictions.csv: train it with this --test")
        if len(run.test) != len(test.rows) or not np.array_equal(
            run.test["row"].to_numpy(), np.asarray(test.rows)
        ):
            raise OdioError(f"{path}'s test predictions are not for this --test file's rows")
        test_probs = _checked_probs(run, "test", test)
    model_dir = find_model_dir(path / "model")
    saved = read_config(model_dir)
    return StackBase(
        spec=str(path),
        backend=run.metrics["backend"],
        runtime=saved.get("runtime") or "torch",
        oof=oof,
        test=test_probs,
        cv=run.metrics["cv"],
        thresholds=run.thresholds,
        seconds=[0.0] * (int(fold_ids.max()) + 1),
        save=functools.partial(_copy_model, model_dir),
        load=functools.partial(_load_blend, model_dir),
    )


def _load_blend(model_dir: Path) -> Blend:
    model, _ = load_model(model_dir)
    if not isinstance(model, Blend):
        raise OdioError(f"{model_dir} is itself a stack; stack its bases instead")
    return model


def _copy_model(model_dir: Path, directory: Path) -> None:
    shutil.copytree(model_dir, directory, dirs_exist_ok=True)


def _checked_probs(run: RunData, which: str, data: LabelledData) -> np.ndarray:
    """A reused run's probabilities, after checking its true labels are ``data``'s."""
    Y, P = run.arrays(which)
    if not np.array_equal(Y, data.Y) or np.isnan(P).any():
        raise OdioError(
            f"{run.path}: its {which} true labels or probabilities differ from this run's "
            "(another min_votes, or an edited file?)"
        )
    return P
