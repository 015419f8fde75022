"""Scoring a saved model on a labelled file, at 0.5 and at its tuned thresholds."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from odio.config import DataConfig
from odio.data.labelled import load_labelled
from odio.inference.detector import Detector
from odio.metrics import score_at_both


def evaluate_run(
    model_path: str | Path,
    data_path: str | Path,
    *,
    min_votes: int | None = None,
    runtime: str | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Score a saved model on a labelled file at 0.5 and at its tuned thresholds.

    The text column, labels and ``min_votes`` are those the model was trained with
    (``min_votes`` can be overridden); ``runtime`` and ``threads`` are those of
    :meth:`Detector.load`.
    """
    detector = Detector.load(model_path, runtime=runtime, threads=threads)
    data_info = detector.info.get("data", {})
    config = DataConfig(
        text_column=data_info.get("text_column", "text"),
        labels=detector.labels,
        min_votes=min_votes or data_info.get("min_votes", 2),
    )
    data = load_labelled(data_path, config, training=False)
    P = detector.predict_proba(data.texts)
    return {
        "data": asdict(data.report),
        "labels": detector.labels,
        "thresholds": dict(zip(detector.labels, detector.thresholds.tolist(), strict=True)),
        **score_at_both(data.Y, P, detector.labels, detector.thresholds),
    }
