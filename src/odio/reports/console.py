"""Console tables of results: a run's summary (``odio train``) and a score table
(``odio evaluate``)."""

from __future__ import annotations

from typing import Any


def format_summary(metrics: dict[str, Any]) -> str:
    """The console table of a run: per fold, mean ± std, out-of-fold, test.

    Example:
        >>> s = {"f1_custom": 0.8, "macro_f1": 0.7, "per_label": {"Odio": {"f1": 0.9}}}
        >>> m = {"labels": ["Odio"], "folds": [{"fold": 0, "scores": s}],
        ...      "cv": {k: {"mean": 0.8, "std": 0.0} for k in ("f1_custom", "macro_f1",
        ...             "f1_Odio")}, "oof": {"at_0.5": s, "tuned": s}}
        >>> print(format_summary(m).splitlines()[0])
        evaluation                  f1_custom  macro_f1   F1(Odio)
    """
    first = metrics["labels"][0]
    head = f"{'evaluation':<26} {'f1_custom':>10} {'macro_f1':>9} {'F1(' + first + ')':>10}"
    lines = [head, "-" * len(head)]

    def row(name: str, s: dict[str, Any]) -> str:
        return (
            f"{name:<26} {s['f1_custom']:>10.4f} {s['macro_f1']:>9.4f} "
            f"{s['per_label'][first]['f1']:>10.4f}"
        )

    for fold in metrics["folds"]:
        lines.append(row(f"fold {fold['fold']} (0.5)", fold["scores"]))
    cv = metrics["cv"]
    lines.append(
        f"{'mean ± std over folds':<26} "
        f"{cv['f1_custom']['mean']:.4f}±{cv['f1_custom']['std']:.3f} "
        f"{cv['macro_f1']['mean']:.4f} {cv['f1_' + first]['mean']:>10.4f}"
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
    """One row per stacked base: its own CV, out-of-fold and test f1_custom (same folds)."""
    first = metrics["labels"][0]
    head = (
        f"{'stack base (same folds)':<34} {'CV f1_custom':>14} {'OOF tuned':>9} "
        f"{'test 0.5':>8} {'test tuned':>10} {'F1(' + first + ')':>9}"
    )
    lines = [head, "-" * len(head)]
    for name, base in {**metrics["bases"], "stack": metrics}.items():
        cv = base["cv"]["f1_custom"]
        test = base.get("test")
        tail = (
            f"{test['at_0.5']['f1_custom']:>8.4f} {test['tuned']['f1_custom']:>10.4f} "
            f"{test['tuned']['per_label'][first]['f1']:>9.4f}"
            if test
            else f"{'-':>8} {'-':>10} {'-':>9}"
        )
        label = name if len(name) <= 34 else "..." + name[-31:]
        lines.append(
            f"{label:<34} {cv['mean']:>8.4f}±{cv['std']:.3f} "
            f"{base['oof']['tuned']['f1_custom']:>9.4f} {tail}"
        )
    return "\n".join(lines)


def format_scores(scores: dict[str, Any]) -> str:
    """Per-label precision / recall / F1 table of one :func:`odio.metrics.score` result."""
    lines = [f"{'label':<24} {'precision':>9} {'recall':>7} {'F1':>7} {'support':>8}"]
    for label, m in scores["per_label"].items():
        lines.append(
            f"{label:<24} {m['precision']:>9.4f} {m['recall']:>7.4f} {m['f1']:>7.4f} "
            f"{m['support']:>8d}"
        )
    lines.append(f"macro-F1 {scores['macro_f1']:.4f}   f1_custom {scores['f1_custom']:.4f}")
    return "\n".join(lines)
