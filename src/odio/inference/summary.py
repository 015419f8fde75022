"""What a loaded model is, in one dict: ``odio info``, ``GET /v1/model`` and the CLI tables.

:func:`model_summary` gathers what a user asks of a model before trusting it: its labels,
thresholds and decision rule, backend and runtime, members, base model, normalisation, its
headline metric out-of-fold and on its test set, an ONNX export's facts, the library
versions it was trained with, and (given its directory) its size on disk.
:func:`format_summary` prints it for a terminal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from odio.inference.detector import Detector
from odio.models.modeldir import read_config
from odio.versions import VERSION


def model_summary(detector: Detector, directory: str | Path | None = None) -> dict[str, Any]:
    """The model's description (paths left out, so it can be shown to anyone).

    Args:
        detector: a loaded model.
        directory: where it was loaded from, for its size on disk and the library versions
            it was trained with.

    Example:
        >>> summary = model_summary(Detector.load("runs/example"))  # doctest: +SKIP
        >>> summary["labels"], summary["scores_tuned"]["test"]  # doctest: +SKIP
        (['Odio', 'Mujeres', ...], 0.8052)
    """
    described = detector.model.describe()
    info = detector.info
    metrics = info.get("metrics", {})
    metric = info.get("metric", "f1_custom")
    onnx = info.get("onnx") or {}
    summary: dict[str, Any] = {
        "odio_version": VERSION,
        "backend": detector.backend,
        "runtime": detector.runtime,
        "base_model": public_model_name(described.get("base_model")),
        "members": len(described.get("members") or described.get("bases") or []),
        "labels": detector.labels,
        "thresholds": {
            lab: float(t) for lab, t in zip(detector.labels, detector.thresholds, strict=True)
        },
        "decision_rule": detector.decision_rule,
        "preprocess": described.get("preprocess"),  # none for a stack: per base
        "metric": metric,
        "scores_tuned": {
            split: metrics[split]["tuned"].get(metric)
            for split in ("oof", "test")
            if "tuned" in metrics.get(split, {})
        },
        "onnx": {k: onnx[k] for k in ("file", "quantization", "opset") if k in onnx} or None,
    }
    if "distilled_from" in info:
        teacher = info["distilled_from"]
        summary["distilled_from"] = {
            "members": teacher.get("members"),
            "teacher": teacher.get("teacher"),
        }
    if directory is not None:
        files = [p for p in Path(directory).rglob("*") if p.is_file()]
        summary["megabytes"] = round(sum(p.stat().st_size for p in files) / 1e6, 1)
        summary["trained_with"] = read_config(Path(directory)).get("versions") or {}
    return summary


def format_summary(summary: dict[str, Any]) -> str:
    """``odio info``'s text: one fact per line, thresholds and scores included.

    >>> print(format_summary({"backend": "tfidf", "labels": ["Odio"],
    ...                       "thresholds": {"Odio": 0.46}, "scores_tuned": {"test": 0.81},
    ...                       "metric": "main_f1"}))  # doctest: +NORMALIZE_WHITESPACE
    backend         tfidf
    labels          Odio
    thresholds      Odio 0.46
    main_f1 tuned   test 0.8100
    """
    rows: list[tuple[str, str]] = []
    simple = ("backend", "runtime", "base_model", "members", "decision_rule", "megabytes")
    for key in simple:
        if summary.get(key) is not None:
            rows.append((key.replace("_", " "), str(summary[key])))
    if summary.get("labels"):
        rows.append(("labels", ", ".join(summary["labels"])))
    if summary.get("thresholds"):
        shown = ", ".join(f"{lab} {t:.2f}" for lab, t in summary["thresholds"].items())
        rows.append(("thresholds", shown))
    scores = {k: v for k, v in (summary.get("scores_tuned") or {}).items() if v is not None}
    if scores:
        shown = ", ".join(f"{split} {value:.4f}" for split, value in scores.items())
        rows.append((f"{summary.get('metric', 'f1_custom')} tuned", shown))
    if summary.get("onnx"):
        rows.append(("onnx", ", ".join(f"{k} {v}" for k, v in summary["onnx"].items())))
    if summary.get("distilled_from"):
        teacher = summary["distilled_from"]
        rows.append(("distilled from", f"{teacher['members']} {teacher['teacher']} members"))
    if summary.get("trained_with"):
        shown = ", ".join(f"{k} {v}" for k, v in summary["trained_with"].items())
        rows.append(("trained with", shown))
    if summary.get("odio_version"):
        rows.append(("odio now", summary["odio_version"]))
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}   {value}" for name, value in rows)


def public_model_name(name: str | None) -> str | None:
    """A base model's name as shown to others: a hub id as is, a local directory by its
    last part only (a machine's paths are nobody else's business).

    >>> public_model_name("pysentimiento/robertuito-base-uncased")
    'pysentimiento/robertuito-base-uncased'
    >>> public_model_name("/home/ana/.cache/hf-offline/multilingual-e5-small")
    'multilingual-e5-small'
    """
    if not name:
        return name
    hub_like = name.count("/") <= 1 and not name.startswith((".", "/", "~")) and "\\" not in name
    if hub_like and not Path(name).expanduser().exists():
        return name
    return Path(name.replace("\\", "/").rstrip("/")).name or None
