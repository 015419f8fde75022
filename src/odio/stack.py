"""Stacking: base models cross-validated in the same folds, a logistic regression per label on
their out-of-fold probabilities.

``--model stack:tfidf+pysentimiento/robertuito-base-uncased`` cross-validates every base
with the run's folds, each with its own default normalisation. The meta-model of a label
is a logistic regression on the bases' log-odds for that label (``stack.features: all``
gives it every label's). Its score is honest because it is **nested**: the meta-model
that scores fold *k* is fitted only on the other folds' rows, whose base probabilities are
themselves out-of-fold. The shipped meta-model is then fitted on every out-of-fold row and
applied to the bases' blended probabilities.

A base can also be a finished run directory (it holds ``metrics.json`` and ``oof.csv``):
its out-of-fold and test predictions and its model are reused, after checking that its
rows, labels and folds are this run's, so an encoder trained for an hour is not retrained
to be stacked.

A saved stacked model is a directory with ``config.json`` (``backend: stack``, the
meta-model's coefficients), ``README.md`` and one Detector directory per base
(``base_0/``, ``base_1/``, ...).
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from odio import __version__
from odio.config import RunConfig, StackConfig
from odio.cv import CVResult, FoldResult
from odio.data import LabelledData
from odio.detector import CONFIG_FILE, Detector, find_model_dir, model_card
from odio.errors import OdioError
from odio.metrics import logit, score, score_at_both, tune_thresholds
from odio.rundir import RunData, is_run_dir, read_run

log = logging.getLogger(__name__)

STACK_PREFIX = "stack:"
_EPS = 1e-6


def parse_stack(model: str) -> list[str]:
    """The base models of a ``stack:a+b`` model string.

    >>> parse_stack("stack:tfidf+pysentimiento/robertuito-base-uncased")
    ['tfidf', 'pysentimiento/robertuito-base-uncased']
    """
    if not model.startswith(STACK_PREFIX):
        raise OdioError(f"{model!r} is not a stack: write stack:BASE+BASE, e.g. stack:tfidf+MODEL")
    bases = [b.strip() for b in model[len(STACK_PREFIX) :].split("+")]
    if len(bases) < 2 or not all(bases):
        raise OdioError(
            f"{model!r}: a stack needs two or more bases joined by '+', e.g. stack:tfidf+MODEL"
        )
    if any(b.startswith(STACK_PREFIX) for b in bases):
        raise OdioError(f"{model!r}: a stack cannot contain another stack")
    if len(set(bases)) != len(bases):
        raise OdioError(f"{model!r}: a base is listed twice")
    return bases


@dataclass
class StackMeta:
    """Per-label logistic regressions on the bases' log-odds.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> Y = rng.integers(0, 2, (60, 1))
        >>> bases = [np.clip(Y * 0.6 + rng.random((60, 1)) * 0.4, 0, 1), rng.random((60, 1))]
        >>> meta = StackMeta.fit(bases, Y, StackConfig())
        >>> meta.coef[0][0] > abs(meta.coef[0][1])  # the informative base weighs more
        True
    """

    features: str
    coef: list[list[float]]
    """Per label, one weight per feature column."""
    intercept: list[float]

    def design(self, base_probs: Sequence[np.ndarray], label: int) -> np.ndarray:
        """The meta-model's input for one label: bases' log-odds, base by base."""
        if self.features == "all":
            return np.hstack([logit(P, _EPS) for P in base_probs])
        return np.column_stack([logit(P[:, label], _EPS) for P in base_probs])

    @classmethod
    def fit(cls, base_probs: Sequence[np.ndarray], Y: np.ndarray, config: StackConfig) -> StackMeta:
        """Fit one logistic regression per label (a label with one class in ``Y``
        predicts its rate)."""
        meta = cls(config.features, [], [])
        for j in range(Y.shape[1]):
            X, y = meta.design(base_probs, j), Y[:, j]
            if y.min() == y.max():
                meta.coef.append([0.0] * X.shape[1])
                meta.intercept.append(float(logit(y.mean(), _EPS)))
                continue
            model = LogisticRegression(C=config.C, max_iter=1000).fit(X, y)
            meta.coef.append(model.coef_[0].tolist())
            meta.intercept.append(float(model.intercept_[0]))
        return meta

    def predict_proba(self, base_probs: Sequence[np.ndarray]) -> np.ndarray:
        """``(n, n_labels)`` stacked probabilities from the bases' probabilities."""
        columns = [
            self.design(base_probs, j) @ np.asarray(w) + b
            for j, (w, b) in enumerate(zip(self.coef, self.intercept, strict=True))
        ]
        return 1 / (1 + np.exp(-np.column_stack(columns)))

    def to_dict(self) -> dict[str, Any]:
        return {"features": self.features, "coef": self.coef, "intercept": self.intercept}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StackMeta:
        return cls(data["features"], data["coef"], data["intercept"])


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


class StackedDetector(Detector):
    """Base Detectors (each with its own normalisation and fold members) and a meta-model.

    Loaded by :meth:`Detector.load` when ``config.json`` says ``backend: stack``; used
    like any Detector (``predict_proba``, ``predict``, ``save``, ``explain``).
    """

    def __init__(
        self,
        bases: Sequence[Detector],
        meta: StackMeta,
        labels: Sequence[str],
        *,
        specs: Sequence[str],
        thresholds: Sequence[float] | np.ndarray | None = None,
        info: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            bases,
            labels,
            backend="stack",
            thresholds=thresholds,
            runtime="+".join(b.runtime for b in bases),
            info=info,
        )
        self.meta = meta
        self.specs = list(specs)
        for base in self.bases:
            if base.labels != self.labels:
                raise OdioError(f"a stack base has labels {base.labels}, the stack {self.labels}")

    @property
    def bases(self) -> list[Detector]:
        """The base Detectors (the stack's members)."""
        return self.members  # type: ignore[return-value]

    def normalise(self, texts: Sequence[str]) -> list[str]:
        """Texts as given: each base normalises them its own way."""
        return list(texts)

    def predict_proba_normalised(self, texts: Sequence[str]) -> np.ndarray:
        """Stacked probabilities (texts are raw: :meth:`normalise` is the identity)."""
        return self.meta.predict_proba([base.predict_proba(texts) for base in self.bases])

    def config(self) -> dict[str, Any]:
        return stack_config(
            self.labels,
            self.thresholds,
            [
                (spec, base.backend, base.runtime)
                for spec, base in zip(self.specs, self.bases, strict=True)
            ],
            self.meta,
            self.info,
        )

    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        write_stack(directory, self.config(), [base.save for base in self.bases])
        return directory

    @classmethod
    def load_dir(
        cls,
        directory: Path,
        config: dict[str, Any],
        *,
        runtime: str | None = None,
        threads: int | None = None,
    ) -> StackedDetector:
        """Read a stacked model; ``runtime`` and ``threads`` apply to transformer bases."""
        bases = []
        for entry in config["bases"]:
            base_runtime = runtime if entry["backend"] == "transformer" else None
            bases.append(
                Detector.load(directory / entry["dir"], runtime=base_runtime, threads=threads)
            )
        labels = config["labels"]
        own = {"odio_version", "backend", "runtime", "labels", "thresholds", "bases", "meta"}
        return cls(
            bases,
            StackMeta.from_dict(config["meta"]),
            labels,
            specs=[entry["model"] for entry in config["bases"]],
            thresholds=[config["thresholds"][lab] for lab in labels],
            info={k: v for k, v in config.items() if k not in own},
        )


def stack_config(
    labels: Sequence[str],
    thresholds: np.ndarray,
    bases: Sequence[tuple[str, str, str]],
    meta: StackMeta,
    info: dict[str, Any],
) -> dict[str, Any]:
    """What a stacked model's ``config.json`` holds; ``bases`` are (model, backend, runtime)."""
    return {
        "odio_version": __version__,
        "backend": "stack",
        "runtime": "+".join(runtime for _, _, runtime in bases),
        "labels": list(labels),
        "thresholds": {lab: float(t) for lab, t in zip(labels, thresholds, strict=True)},
        "bases": [
            {"dir": f"base_{i}", "model": model, "backend": backend}
            for i, (model, backend, _) in enumerate(bases)
        ],
        "meta": meta.to_dict(),
        **info,
    }


def write_stack(
    directory: Path, config: dict[str, Any], save_bases: Sequence[Callable[[Path], Any]]
) -> None:
    """Write a stacked model: each base into its ``config["bases"]`` folder, then
    ``config.json`` and the model card."""
    directory.mkdir(parents=True, exist_ok=True)
    for entry, save in zip(config["bases"], save_bases, strict=True):
        save(directory / entry["dir"])
    (directory / CONFIG_FILE).write_text(
        json.dumps(config, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    (directory / "README.md").write_text(model_card(config), encoding="utf-8")


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

    def metrics(self, train: LabelledData, test: LabelledData | None) -> dict[str, Any]:
        """The base's own scores, at 0.5 and at its own tuned thresholds."""
        out: dict[str, Any] = {
            "model": self.spec,
            "backend": self.backend,
            "cv": self.cv,
            "thresholds": dict(zip(train.labels, self.thresholds.tolist(), strict=True)),
            "oof": score_at_both(train.Y, self.oof, train.labels, self.thresholds),
        }
        if test is not None and self.test is not None:
            out["test"] = score_at_both(test.Y, self.test, test.labels, self.thresholds)
        return out


@dataclass
class StackResult:
    """The stack's nested cross-validation, and its bases."""

    result: CVResult
    bases: list[StackBase]
    meta: StackMeta
    thresholds: np.ndarray
    """The stack's thresholds, tuned on its nested out-of-fold predictions."""

    def save_model(self, directory: Path, info: dict[str, Any]) -> None:
        """Write the stacked model directory: each base saved (or copied from its run)."""
        described = [(b.spec, b.backend, b.runtime) for b in self.bases]
        config = stack_config(self.result.labels, self.thresholds, described, self.meta, info)
        write_stack(directory, config, [b.save for b in self.bases])


def cross_validate_stack(
    config: RunConfig,
    train: LabelledData,
    test: LabelledData | None,
    fold_ids: np.ndarray,
    *,
    progress: bool = True,
) -> StackResult:
    """Cross-validate (or reuse) every base in ``fold_ids``, then the nested meta-model.

    Example:
        >>> cfg = RunConfig(model="stack:tfidf+runs/e5small")  # doctest: +SKIP
        >>> stacked = cross_validate_stack(cfg, train, test, fold_ids)  # doctest: +SKIP
        >>> stacked.result.oof.shape  # doctest: +SKIP
        (2256, 5)
    """
    specs = parse_stack(config.model)
    bases = []
    for i, spec in enumerate(specs, 1):
        log.info("stack base %d/%d: %s", i, len(specs), spec)
        if is_run_dir(spec):
            bases.append(_reuse_run(Path(spec), train, test, fold_ids))
        else:
            bases.append(_fit_base(config, spec, train, test, fold_ids, progress))
    base_oof = [b.oof for b in bases]
    oof = nested_oof(base_oof, train.Y, fold_ids, config.stack)
    meta = StackMeta.fit(base_oof, train.Y, config.stack)
    test_probs = None
    if test is not None:
        test_probs = meta.predict_proba([b.test for b in bases])
    folds = []
    for fold in range(int(fold_ids.max()) + 1):
        held = fold_ids == fold
        folds.append(
            FoldResult(
                fold=fold,
                train_rows=int((~held).sum()),
                val_rows=int(held.sum()),
                scores=score(train.Y[held], oof[held], train.labels),
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
    return StackResult(result, bases, meta, tune_thresholds(train.Y, oof))


def _fit_base(
    config: RunConfig,
    spec: str,
    train: LabelledData,
    test: LabelledData | None,
    fold_ids: np.ndarray,
    progress: bool,
) -> StackBase:
    from odio.run import fit_folds

    sub = replace(config, model=spec)
    result, detector = fit_folds(sub, train, test, fold_ids, progress=progress)
    return StackBase(
        spec=spec,
        backend=detector.backend,
        runtime=detector.runtime,
        oof=result.oof,
        test=result.test,
        cv=result.fold_summary(),
        thresholds=detector.thresholds,
        seconds=[f.seconds for f in result.folds],
        save=detector.save,
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
    if (
        len(run.oof) != len(train.rows)
        or not np.array_equal(run.oof["row"].to_numpy(), np.asarray(train.rows))
        or not np.array_equal(run.oof["fold"].to_numpy(), fold_ids)
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
    model_config = json.loads((model_dir / CONFIG_FILE).read_text(encoding="utf-8"))
    return StackBase(
        spec=str(path),
        backend=run.metrics["backend"],
        runtime=model_config.get("runtime") or "torch",
        oof=oof,
        test=test_probs,
        cv=run.metrics["cv"],
        thresholds=run.thresholds,
        seconds=[0.0] * (int(fold_ids.max()) + 1),
        save=lambda directory: shutil.copytree(model_dir, directory, dirs_exist_ok=True),
    )


def _checked_probs(run: RunData, which: str, data: LabelledData) -> np.ndarray:
    """A reused run's probabilities, after checking its true labels are ``data``'s."""
    Y, P = run.arrays(which)
    if not np.array_equal(Y, data.Y) or np.isnan(P).any():
        raise OdioError(
            f"{run.path}: its {which} true labels or probabilities differ from this run's "
            "(another min_votes, or an edited file?)"
        )
    return P
