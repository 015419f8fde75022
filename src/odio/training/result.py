"""A finished training run in memory: the fitted :class:`~odio.Detector`, typed scores, the
out-of-fold and test predictions, and :meth:`TrainedRun.save` to write the run directory.

A run directory holds::

    config.yaml            the run's settings (RunConfig): odio train --config reproduces it
    metrics.json           per-fold, mean ± std, out-of-fold and test scores; the data files
    oof.csv                every training row's out-of-fold probabilities and fold id
    test_predictions.csv   blended test probabilities (when a test set was given)
    model/                 the model directory (see :mod:`odio.models.modeldir`)

It is built aside and swapped in whole (:func:`odio.files.replacing`), and replaces only an
earlier run odio wrote (:func:`odio.files.check_replaceable`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from odio.config import RunConfig
from odio.data.labelled import LabelledData
from odio.errors import OdioError
from odio.files import check_replaceable, replacing
from odio.inference.detector import Detector
from odio.metrics import decide
from odio.models.protocols import TextModel
from odio.scores import FoldScores, MeanStd, ScorePair, Scores
from odio.training.plan import RunPlan


@dataclass
class TrainedRun:
    """What :func:`odio.fit` returns: the model, its honest scores and its predictions.

    Scores are typed (:class:`~odio.scores.Scores`): ``run.oof.tuned.f1_custom`` is the
    out-of-fold ``f1_custom`` at the tuned thresholds, ``run.test.at_half.macro_f1`` the
    test macro-F1 at 0.5. :attr:`metrics` is the same in ``metrics.json``'s nested form.

    Example:
        >>> run = odio.fit("examples/tweets_sample.csv", {"cv": {"folds": 3}},
        ...                progress=False)  # doctest: +SKIP
        >>> run.detector.predict("los odio a todos").positive  # doctest: +SKIP
        ['Odio']
        >>> run.save("runs/example")  # doctest: +SKIP
        PosixPath('runs/example')
    """

    config: RunConfig
    """The run's settings (the normalisation filled in): ``config.yaml``."""
    plan: RunPlan
    """The settings resolved for the run's labels."""
    metrics: dict[str, Any]
    """``metrics.json``: every score in its nested form; the typed fields read it."""
    oof_predictions: pd.DataFrame | None
    """``oof.csv``: row, id, fold, text, and per label truth, probability and decision
    (``None`` for one model on every row, ``cv.folds: 1``)."""
    test_predictions: pd.DataFrame | None
    """``test_predictions.csv``, when a test set was given."""
    info: dict[str, Any] = field(repr=False)
    """What the model directory keeps of the run (data settings, command, scores)."""
    model: Callable[[], TextModel] = field(repr=False)
    """Builds the fitted model (a blend of the fold members, or a stack)."""
    write_model: Callable[[Path], None] = field(repr=False)
    """Writes the model directory."""

    @property
    def labels(self) -> list[str]:
        """Label names, the main label first."""
        return list(self.plan.labels)

    @property
    def thresholds(self) -> dict[str, float]:
        """Per label, the threshold tuned on out-of-fold predictions."""
        return dict(self.metrics["thresholds"])

    @cached_property
    def folds(self) -> list[FoldScores]:
        """Each fold's held-out scores at 0.5."""
        return [
            FoldScores(
                fold=f["fold"],
                train_rows=f["train_rows"],
                val_rows=f["val_rows"],
                seconds=f["seconds"],
                scores=Scores.from_dict(f["scores"]),
                history=list(f["history"]),
            )
            for f in self.metrics["folds"]
        ]

    @cached_property
    def cv(self) -> dict[str, MeanStd]:
        """Mean ± std over folds of the headline metric, ``macro_f1`` and ``main_f1``."""
        return {name: MeanStd(**value) for name, value in self.metrics.get("cv", {}).items()}

    @cached_property
    def oof(self) -> ScorePair:
        """Out-of-fold scores of the training rows (each scored by the model that did not
        see it)."""
        if "oof" not in self.metrics:
            raise OdioError(
                "a run of one model on every row (cv.folds: 1) has no out-of-fold scores"
            )
        return ScorePair.from_dict(self.metrics["oof"])

    @cached_property
    def test(self) -> ScorePair | None:
        """The blended model's scores on the test set, when one was given."""
        return ScorePair.from_dict(self.metrics["test"]) if "test" in self.metrics else None

    @cached_property
    def detector(self) -> Detector:
        """The fitted model with its labels, tuned thresholds and decision rule."""
        return Detector(
            self.model(),
            self.labels,
            thresholds=[self.thresholds[label] for label in self.labels],
            decision_rule=self.plan.decision_rule,
            info=self.info,
        )

    @property
    def seconds(self) -> float:
        """Wall time of the training (data reading, folds, thresholds)."""
        return float(self.metrics["train_seconds"])

    def save(self, out_dir: str | Path, *, overwrite: bool = False) -> Path:
        """Write the run directory (what ``odio train --out`` writes), swapped in whole.

        Args:
            out_dir: a new or empty folder, or an earlier run (with ``overwrite``).
            overwrite: replace an earlier run at ``out_dir``.
        """
        inputs = [self.info["training"].get("train_path"), self.info["training"].get("test_path")]
        # checked again here, though train_run checks before training: files a user put
        # into the folder while the run trained stay theirs
        check_replaceable(out_dir, kind="run", overwrite=overwrite, inputs=inputs)
        start = time.perf_counter()
        with replacing(out_dir, what="the run", kind="run") as tmp:
            self.config.to_yaml(tmp / "config.yaml")
            if self.oof_predictions is not None:
                self.oof_predictions.to_csv(tmp / "oof.csv", index=False)
            if self.test_predictions is not None:
                self.test_predictions.to_csv(tmp / "test_predictions.csv", index=False)
            self.write_model(tmp / "model")
            # the run's whole time, writing included (train_seconds: without it)
            metrics = {
                **self.metrics,
                "seconds": round(self.seconds + time.perf_counter() - start, 2),
            }
            (tmp / "metrics.json").write_text(
                json.dumps(metrics, indent=2, ensure_ascii=False), encoding="utf-8"
            )
        self.metrics = metrics  # what was written
        return Path(out_dir)


def predictions_frame(
    data: LabelledData,
    P: np.ndarray,
    thresholds: np.ndarray,
    rule: str,
    fold_ids: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per input row: ``row`` (0-based position in the file), its id (when the
    file has an id column), fold, text, and per label the truth, probability and decision."""
    columns: dict[str, Any] = {"row": data.rows}
    if data.ids is not None:
        columns[data.report.id_column or "id"] = data.ids
    if fold_ids is not None:
        columns["fold"] = fold_ids
    columns["text"] = data.tweets
    if data.contexts is not None:
        columns["context"] = data.contexts
    decisions = decide(P, thresholds, rule)
    for j, label in enumerate(data.labels):
        columns[f"true_{label}"] = data.Y[:, j]
    for j, label in enumerate(data.labels):
        columns[f"prob_{label}"] = P[:, j]
    for j, label in enumerate(data.labels):
        columns[f"pred_{label}"] = decisions[:, j]
    return pd.DataFrame(columns)
