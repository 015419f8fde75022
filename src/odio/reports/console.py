"""Console tables of results: a run's summary (``odio train``) and a score table
(``odio evaluate``). The headline metric of the run comes first, named."""

from __future__ import annotations

from typing import Any

from odio.metrics import headline


def columns(metric: str, main: str) -> list[tuple[str, str]]:
    """``(key, heading)`` of the summary columns: the headline metric, then macro-F1 and the
    main label's F1 (each once).

    >>> columns("f1_custom", "Odio")
    [('f1_custom', 'f1_custom'), ('macro_f1', 'macro_f1'), ('main_f1', 'F1(Odio)')]
    >>> columns("macro_f1", "HS")
    [('macro_f1', 'macro_f1'), ('main_f1', 'F1(HS)')]
    """
    keys = dict.fromkeys([metric, "macro_f1", "main_f1"])
    return [(key, f"F1({main})" if key == "main_f1" else key) for key in keys]


def format_summary(metrics: dict[str, Any]) -> str:
    """The console table of a run: per fold, mean ± std, out-of-fold, test.

    Example:
        >>> s = {"metric": "macro_f1", "macro_f1": 0.7, "main_f1": 0.9}
        >>> m = {"labels": ["HS"], "metric": "macro_f1", "folds": [{"fold": 0, "scores": s}],
        ...      "cv": {k: {"mean": 0.8, "std": 0.0} for k in ("macro_f1", "main_f1")},
        ...      "oof": {"at_0.5": s, "tuned": s}}
        >>> print(format_summary(m).splitlines()[0])
        evaluation                    macro_f1      F1(HS)
    """
    cols = columns(metrics["metric"], metrics["labels"][0])
    head = f"{'evaluation':<26}" + "".join(f" {name:>11}" for _, name in cols)
    lines = [head, "-" * len(head)]

    def row(name: str, s: dict[str, Any]) -> str:
        return f"{name:<26}" + "".join(f" {s[key]:>11.4f}" for key, _ in cols)

    if "one_model" in metrics:  # cv.folds: 1
        one = metrics["one_model"]
        rows = one["train_rows"]
        lines.append(f"one model on all {rows:,} rows (no folds, no out-of-fold scores)")
        if "test" in metrics:
            lines.append(row("test (0.5)", metrics["test"]["at_0.5"]))
        return "\n".join(lines)
    for fold in metrics["folds"]:
        lines.append(row(f"fold {fold['fold']} (0.5)", fold["scores"]))
    cv = metrics["cv"]
    first, *rest = cols
    lines.append(
        f"{'mean ± std over folds':<26} "
        f"{cv[first[0]]['mean']:.4f}±{cv[first[0]]['std']:.3f}"
        + "".join(f" {cv[key]['mean']:>11.4f}" for key, _ in rest)
    )
    lines.append(row("out-of-fold (0.5)", metrics["oof"]["at_0.5"]))
    lines.append(row("out-of-fold (tuned)*", metrics["oof"]["tuned"]))
    if "test" in metrics:
        lines.append(row("test (0.5)", metrics["test"]["at_0.5"]))
        lines.append(row("test (tuned)", metrics["test"]["tuned"]))
    lines.append("* thresholds tuned on these out-of-fold predictions: optimistic")
    if "bases" in metrics:
        lines += ["", _format_bases(metrics)]
    return "\n".join(lines)


def _format_bases(metrics: dict[str, Any]) -> str:
    """One row per stacked base: its own CV, out-of-fold and test headline metric."""
    metric, first = metrics["metric"], metrics["labels"][0]
    head = (
        f"{'stack base (same folds)':<34} {'CV ' + metric:>14} {'OOF tuned':>9} "
        f"{'test 0.5':>8} {'test tuned':>10} {'F1(' + first + ')':>9}"
    )
    lines = [head, "-" * len(head)]
    for name, base in {**metrics["bases"], "stack": metrics}.items():
        cv = base["cv"][metric]
        test = base.get("test")
        tail = (
            f"{headline(test['at_0.5']):>8.4f} {headline(test['tuned']):>10.4f} "
            f"{test['tuned']['main_f1']:>9.4f}"
            if test
            else f"{'-':>8} {'-':>10} {'-':>9}"
        )
        label = name if len(name) <= 34 else "..." + name[-31:]
        lines.append(
            f"{label:<34} {cv['mean']:>8.4f}±{cv['std']:.3f} "
            f"{headline(base['oof']['tuned']):>9.4f} {tail}"
        )
    return "\n".join(lines)


def format_scores(scores: dict[str, Any]) -> str:
    """Per-label table of one :func:`odio.metrics.score` result, then the overall scores.

    >>> s = {"metric": "macro_f1", "macro_f1": 0.5, "main_f1": 0.4, "accuracy": 0.6,
    ...      "per_label": {"HS": {"precision": 0.5, "recall": 0.33, "f1": 0.4,
    ...      "macro_f1": 0.5, "accuracy": 0.6, "average_precision": None, "roc_auc": 0.7,
    ...      "support": 3, "predicted": 2}}}
    >>> print(format_scores(s).splitlines()[-1])
    macro_f1 0.5000 (headline)   accuracy 0.6000
    """
    head = (
        f"{'label':<24} {'precision':>9} {'recall':>7} {'F1':>7} {'macro-F1':>8} "
        f"{'accuracy':>8} {'AP':>6} {'ROC-AUC':>7} {'support':>8}"
    )
    lines = [head]
    for label, m in scores["per_label"].items():
        lines.append(
            f"{label:<24} {m['precision']:>9.4f} {m['recall']:>7.4f} {m['f1']:>7.4f} "
            f"{m['macro_f1']:>8.4f} {m['accuracy']:>8.4f} {_num(m['average_precision']):>6} "
            f"{_num(m['roc_auc']):>7} {m['support']:>8d}"
        )
    metric = scores["metric"]
    overall = [f"{metric} {scores[metric]:.4f} (headline)"]
    overall += [f"{key} {scores[key]:.4f}" for key in ("macro_f1", "accuracy") if key != metric]
    lines.append("   ".join(overall))
    return "\n".join(lines)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def format_predictions(texts: list[str], predictions: list[Any]) -> str:
    """``odio predict --text``: per text its labels decided positive, then every label's
    probability (``*`` marks a positive decision).

    >>> from odio.inference.detector import Prediction
    >>> p = Prediction({"Odio": 0.91, "Mujeres": 0.1}, {"Odio": True, "Mujeres": False})
    >>> print(format_predictions(["ándate a tu país"], [p]))
    ándate a tu país
      positive: Odio
      Odio 0.910*   Mujeres 0.100
    """
    blocks = []
    for text, prediction in zip(texts, predictions, strict=True):
        cells = [
            f"{label} {p:.3f}{'*' if prediction.decisions[label] else ''}"
            for label, p in prediction.probabilities.items()
        ]
        blocks.append(
            f"{text}\n  positive: {', '.join(prediction.positive) or 'none'}\n  "
            + "   ".join(cells)
        )
    return "\n".join(blocks)
