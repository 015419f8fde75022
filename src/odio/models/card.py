"""The model card: a ``README.md`` written into every model directory from its ``config.json``.

It opens with YAML front matter in the form model hubs read (language, licence, datasets,
base model, tags, metrics with their values), then says what the model is, its scores
(cross-validation, out-of-fold, test, per label), how to use it, what it is for and not
for, its known limitations (with functional-test results when a suite was run), and how it
was trained.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

LICENSE = "other"
"""The card's licence when the run sets none: a model inherits the terms of its training
data and base model, which odio cannot know."""


def model_card(config: dict[str, Any]) -> str:
    """A Markdown model card from a model's ``config.json`` contents.

    Example:
        >>> card = model_card({"backend": "tfidf", "labels": ["Odio"], "members": ["fold_0"],
        ...                    "thresholds": {"Odio": 0.5}, "odio_version": "0.2.0"})
        >>> card.splitlines()[0], "## Intended use" in card
        ('---', True)
    """
    labels = config["labels"]
    import yaml  # only to write a model: not on the import path of the Detector

    meta = yaml.safe_dump(front_matter(config), sort_keys=False, allow_unicode=True).rstrip()
    lines = ["---", meta]
    lines += ["---", "", "# odio hate-speech detector", ""]
    lines += [
        f"- backend: `{config['backend']}`"
        + (f", base model `{config['base_model']}`" if config.get("base_model") else ""),
        _members_line(config),
        f"- runtime: {_runtime_line(config)}",
        f"- labels: {', '.join(labels)} (the first is the main label)",
        "- thresholds (tuned on out-of-fold predictions): "
        + ", ".join(f"{k} {v:.2f}" for k, v in config["thresholds"].items())
        + f"; decision rule: {config.get('decision_rule', 'independent')}",
        f"- odio version: {config['odio_version']}",
    ]
    lines += _distilled(config)
    lines += _metrics_section(config)
    lines += [
        "",
        "## Use",
        "",
        "```python",
        "from odio import Detector",
        "detector = Detector.load('path/to/model')",
        "detector.predict('texto de un tweet')",
        "```",
        "",
        "or `odio predict path/to/model tweets.csv -o scored.csv`, `odio serve path/to/model`.",
        "",
        "## Intended use",
        "",
        "Flagging Spanish tweets (Chilean Spanish first) that may be hateful, and the group the "
        "hate targets, to help human moderators and researchers prioritise and measure. Its "
        "decisions are probabilities at tuned thresholds: review them, and re-tune the "
        "thresholds (`--threshold`, `Detector.with_thresholds`) for your costs of misses and "
        "false alarms.",
        "",
        "## Out of scope",
        "",
        "- Automated sanctions, account suspensions or legal decisions without human review.",
        "- Judging individuals, or any use that profiles people by group.",
        "- Other languages, or text far from tweets (long documents, transcripts), without "
        "evaluating it there first (`odio evaluate`, `odio check`).",
        "",
        "## Limitations and biases",
        "",
        "- It learned from the annotations it was trained on: their definitions of hate, their "
        "annotators' disagreement and their topics (the Datathon 2022 tweets are Chilean, from "
        "2021-2022) shape what it flags.",
        "- Scores on the test set it was tuned beside overstate how it does elsewhere; scores "
        "on other datasets are usually much lower.",
        "- Lexical models react to words more than meaning: counter-speech that quotes hate, "
        "reclaimed or friendly insults (weón, culiao) and mentions of groups may be flagged, "
        "and obfuscated slurs may be missed.",
    ]
    lines += _functional_tests(config)
    lines += _training_section(config)
    return "\n".join(lines) + "\n"


def front_matter(config: dict[str, Any]) -> dict[str, Any]:
    """The card's YAML metadata (Hugging Face model-card fields).

    >>> front_matter({"backend": "tfidf", "labels": ["Odio"]})["tags"][:2]
    ['odio', 'hate-speech']
    """
    data = config.get("data") or {}
    meta: dict[str, Any] = {
        "language": ["es"],
        "license": config.get("license", LICENSE),
        "library_name": "odio",
        "pipeline_tag": "text-classification",
        "tags": ["odio", "hate-speech", "spanish", "tweets", str(config.get("backend"))],
    }
    train = (config.get("training") or {}).get("train_path") or data.get("train_path")
    if train:
        meta["datasets"] = [Path(str(train)).name]
    if config.get("base_model"):
        meta["base_model"] = str(config["base_model"])
    results = _results(config)
    if results:
        meta["model-index"] = [{"name": "odio", "results": results}]
    return meta


def _results(config: dict[str, Any]) -> list[dict[str, Any]]:
    """``model-index`` results: the test scores at the tuned thresholds (out-of-fold if no
    test set was given), one entry per split."""
    metrics = config.get("metrics") or {}
    out = []
    for split, name in (("test", "test"), ("oof", "out-of-fold (optimistic)")):
        scores = (metrics.get(split) or {}).get("tuned")
        if not scores:
            continue
        values = [
            {"type": key, "value": round(float(scores[key]), 4), "name": f"{key} ({name})"}
            for key in dict.fromkeys([scores.get("metric", "f1_custom"), "macro_f1", "accuracy"])
            if scores.get(key) is not None
        ]
        out.append(
            {
                "task": {"type": "text-classification", "name": "hate speech detection"},
                "dataset": {"name": name, "type": split},
                "metrics": values,
            }
        )
    return out


def _metrics_section(config: dict[str, Any]) -> list[str]:
    labels = config["labels"]
    metrics = config.get("metrics") or {}
    metric = config.get("metric", "f1_custom")
    rows = []
    if "cv" in metrics and metric in metrics["cv"]:
        cv = metrics["cv"][metric]
        rows.append(
            f"| cross-validation (mean ± std over folds, 0.5) | "
            f"{cv['mean']:.4f} ± {cv['std']:.4f} | |"
        )
    for split in ("oof", "test"):
        for key, name in (("at_0.5", "0.5"), ("tuned", "tuned")):
            s = (metrics.get(split) or {}).get(key)
            if s and metric in s:
                first = s["per_label"][labels[0]]["f1"]
                rows.append(f"| {split} at {name} thresholds | {s[metric]:.4f} | {first:.4f} |")
    if not rows:
        return []
    lines = [
        "",
        "## Metrics",
        "",
        f"| evaluation | {metric} | F1({labels[0]}) |",
        "|---|---|---|",
        *rows,
    ]
    tuned = (metrics.get("test") or metrics.get("oof") or {}).get("tuned")
    if tuned:
        which = "test" if "test" in metrics else "out-of-fold"
        lines += [
            "",
            f"Per label, {which}, at the tuned thresholds:",
            "",
            "| label | precision | recall | F1 | support |",
            "|---|---|---|---|---|",
        ]
        for label in labels:
            m = tuned["per_label"][label]
            lines.append(
                f"| {label} | {m['precision']:.4f} | {m['recall']:.4f} | {m['f1']:.4f} "
                f"| {m['support']} |"
            )
    if "oof" in metrics:
        lines += [
            "",
            "Out-of-fold scores at tuned thresholds are optimistic: the thresholds were tuned "
            "on those same predictions.",
        ]
    return lines


def _distilled(config: dict[str, Any]) -> list[str]:
    """What a distilled model was distilled from, and how it scores beside its teacher (when
    the teacher's run had a test set)."""
    source = config.get("distilled_from")
    if not isinstance(source, dict):
        return []
    # distill writes the teacher's model name under "teacher", and the teacher's and the
    # student's test scores (a run trained with a test set) under "teacher" and "student"
    teacher = source.get("teacher")
    of = f" of `{teacher}`" if isinstance(teacher, str) else ""
    lines = [
        "",
        "## Distilled",
        "",
        f"One student model trained on the soft labels of `{source.get('run')}`, an ensemble "
        f"of {source.get('members')} fold models{of}: its out-of-fold probabilities for "
        f"{source.get('rows')} training tweets and its blended probabilities for "
        f"{source.get('unlabelled_rows', 0)} unlabelled ones; it keeps the teacher's "
        "thresholds.",
    ]
    scored = len(lines)
    for name in ("teacher", "student"):
        scores = source.get(name)
        test = scores.get("test") if isinstance(scores, dict) else None
        tuned = test.get("tuned") if isinstance(test, dict) else None
        if isinstance(tuned, dict) and tuned.get("metric") in tuned:
            metric = tuned["metric"]
            lines.append(f"- {name}, test at the tuned thresholds: {metric} {tuned[metric]:.4f}")
    if len(lines) == scored:
        lines.append("- no test scores: the teacher's run had no test set")
    return lines


def _functional_tests(config: dict[str, Any]) -> list[str]:
    checks = config.get("functional_tests")
    if not checks:
        return [
            "",
            "No functional test suite was run for this card; `odio check MODEL` runs the one "
            "odio ships (Chilean Spanish: derogation, threats, slurs, counter-speech, friendly "
            "insults, obfuscation).",
        ]
    lines = ["", f"Functional tests ({checks.get('suite', 'suite')}):", ""]
    lines += [f"- {name}: {value:.2f}" for name, value in (checks.get("accuracy") or {}).items()]
    return lines


def _training_section(config: dict[str, Any]) -> list[str]:
    training = config.get("training") or {}
    data = config.get("data") or {}
    lines = ["", "## Training", ""]
    if training.get("command"):
        lines += ["```bash", training["command"], "```", ""]
    lines.append(
        f"{len(config.get('members') or [])} fold models of a k-fold cross-validation"
        if config.get("members")
        else "A stacked model over base models cross-validated in the same folds"
        if config.get("backend") == "stack"
        else "See the run's config.yaml"
    )
    if data:
        lines.append(
            f"; text column `{data.get('text_column', 'text')}`, labels read as "
            f"{data.get('label_format', 'votes')}"
            + (f" (min_votes {data['min_votes']})" if data.get("label_format") == "votes" else "")
            + "."
        )
    if training.get("config"):
        import yaml

        lines += [
            "",
            "```yaml",
            yaml.safe_dump(training["config"], sort_keys=False, allow_unicode=True).rstrip(),
            "```",
        ]
    return lines


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
