"""The model card: a ``README.md`` written into every model directory from its ``config.json``."""

from __future__ import annotations

import json
from typing import Any


def model_card(config: dict[str, Any]) -> str:
    """A Markdown model card from a model's ``config.json`` contents."""
    labels = config["labels"]
    metrics = config.get("metrics", {})
    metric = config.get("metric", "f1_custom")
    lines = [
        "# odio hate-speech detector",
        "",
        f"- backend: `{config['backend']}`"
        + (f", base model `{config['base_model']}`" if config.get("base_model") else ""),
        _members_line(config),
        f"- runtime: {_runtime_line(config)}",
        f"- labels: {', '.join(labels)}",
        "- thresholds (tuned on out-of-fold predictions): "
        + ", ".join(f"{k} {v:.2f}" for k, v in config["thresholds"].items()),
        f"- odio version: {config['odio_version']}",
    ]
    if "data" in config:
        lines.append(f"- data: {json.dumps(config['data'], ensure_ascii=False)}")
    rows = []
    if "cv" in metrics:
        cv = metrics["cv"][metric]
        rows.append(
            f"| cross-validation (mean ± std over folds, 0.5) | "
            f"{cv['mean']:.4f} ± {cv['std']:.4f} | |"
        )
    for split in ("oof", "test"):
        for key, name in (("at_0.5", "0.5"), ("tuned", "tuned")):
            s = metrics.get(split, {}).get(key)
            if s:
                first = s["per_label"][labels[0]]["f1"]
                rows.append(f"| {split} at {name} thresholds | {s[metric]:.4f} | {first:.4f} |")
    if rows:
        lines += [
            "",
            "## Metrics",
            "",
            f"| evaluation | {metric} | F1({labels[0]}) |",
            "|---|---|---|",
            *rows,
        ]
        if "oof" in metrics:
            lines += [
                "",
                "Out-of-fold scores at tuned thresholds are optimistic: the "
                "thresholds were tuned on those same predictions.",
            ]
    lines += [
        "",
        "## Use",
        "",
        "```python",
        "from odio import Detector",
        "detector = Detector.load('path/to/model')",
        "detector.predict(['texto de un tweet'])",
        "```",
        "",
    ]
    return "\n".join(lines)


def _members_line(config: dict[str, Any]) -> str:
    if config["backend"] == "stack":
        bases = ", ".join(
            f"`{b['model']}` ({b['backend']}, `{b['dir']}/`)" for b in config["bases"]
        )
        return (
            f"- stacked: a logistic regression per label on the probabilities of {bases}, "
            "fitted on their out-of-fold predictions"
        )
    return f"- members: {len(config['members'])} fold models, probabilities averaged"


def _runtime_line(config: dict[str, Any]) -> str:
    runtime = config.get("runtime") or "torch"
    onnx = config.get("onnx")
    if runtime != "onnx" or not onnx:
        return runtime
    how = onnx.get("quantization") or "fp32"
    return f"ONNX Runtime, `fold_k/{onnx['file']}` ({how}, opset {onnx['opset']})"
