"""The figures of ``odio report``, drawn with matplotlib and returned as PNG bytes.

Every function draws one figure (a grid with one panel per label, or one panel per quantity)
on its own Agg canvas: no pyplot, so nothing global is touched (no backend switch, no open
figure left behind) and it works on a machine without a display. matplotlib is the
``report`` extra and is imported only when a figure is drawn.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from odio.extras import require
from odio.metrics import binarize, confusion

_SET_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:purple")


def pr_curves(
    labels: Sequence[str],
    sets: Mapping[str, tuple[np.ndarray, np.ndarray]],
    thresholds: Sequence[float] | np.ndarray,
) -> bytes:
    """Precision against recall per label, one line per set, tuned threshold marked.

    Args:
        labels: label names (one panel each).
        sets: ``{set name: (Y, P)}``, 0/1 labels and probabilities of shape ``(n, labels)``.
        thresholds: the tuned threshold of every label.

    Example:
        >>> Y, P = np.array([[1], [0], [1]]), np.array([[0.9], [0.3], [0.6]])
        >>> pr_curves(["Odio"], {"test": (Y, P)}, [0.5])[:4]
        b'\\x89PNG'
    """
    from sklearn.metrics import average_precision_score, precision_recall_curve

    fig, axes = _grid(len(labels), "Precision-recall per label (● tuned threshold, × 0.5)")
    for j, (ax, label) in enumerate(zip(axes, labels, strict=True)):
        t = float(thresholds[j])
        for (name, (Y, P)), color in zip(sets.items(), _SET_COLORS, strict=False):
            y, p = Y[:, j].astype(int), P[:, j]
            if y.sum() == 0:
                continue
            precision, recall, _ = precision_recall_curve(y, p)
            ap = average_precision_score(y, p)
            ax.plot(recall, precision, color=color, lw=1.6, label=f"{name} (AP {ap:.2f})")
            for at, marker, size in ((t, "o", 8), (0.5, "x", 7)):
                point = _precision_recall_at(y, p, at)
                if point is not None:
                    ax.plot(
                        point[1],
                        point[0],
                        marker=marker,
                        ms=size,
                        color=color,
                        mec="black" if marker == "o" else color,
                        ls="none",
                    )
        prevalence = float(np.mean(next(iter(sets.values()))[0][:, j]))
        ax.axhline(prevalence, color="grey", lw=0.8, ls=":", label=f"chance ({prevalence:.2f})")
        ax.set(
            title=f"{label} (tuned t = {t:.2f})",
            xlabel="recall",
            ylabel="precision",
            xlim=(0, 1.01),
            ylim=(0, 1.03),
        )
        ax.grid(alpha=0.3)
        ax.legend(loc="lower left", fontsize=8)
    return _png(fig)


def calibration_curves(
    labels: Sequence[str], sets: Mapping[str, tuple[np.ndarray, np.ndarray]], bins: int = 10
) -> bytes:
    """Reliability diagram per label: observed positive rate against mean probability.

    Points are equal-width probability bins; the legend gives each set's expected
    calibration error (ECE: mean gap to the diagonal, weighted by the rows in each bin).

    Example:
        >>> Y, P = np.array([[1], [0], [1]]), np.array([[0.9], [0.3], [0.6]])
        >>> calibration_curves(["Odio"], {"test": (Y, P)})[:4]
        b'\\x89PNG'
    """
    fig, axes = _grid(len(labels), "Calibration (reliability) per label")
    for j, (ax, label) in enumerate(zip(axes, labels, strict=True)):
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":", label="perfectly calibrated")
        for (name, (Y, P)), color in zip(sets.items(), _SET_COLORS, strict=False):
            mean_p, rate, counts = reliability(Y[:, j], P[:, j], bins)
            keep = counts > 0
            ece = float(np.sum(counts[keep] * np.abs(rate[keep] - mean_p[keep])) / counts.sum())
            ax.plot(
                mean_p[keep],
                rate[keep],
                marker="o",
                ms=4,
                color=color,
                label=f"{name} (ECE {ece:.3f})",
            )
        ax.set(
            title=label,
            xlabel="mean predicted probability",
            ylabel="observed fraction positive",
            xlim=(0, 1),
            ylim=(0, 1.02),
        )
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)
    return _png(fig)


def reliability(
    y: np.ndarray, p: np.ndarray, bins: int = 10
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per equal-width probability bin: mean probability, fraction positive, row count.

    Empty bins give ``nan`` means and a count of 0.

    Example:
        >>> mean_p, rate, n = reliability(np.array([0, 1, 1]), np.array([0.1, 0.8, 0.9]), 2)
        >>> mean_p.round(2).tolist(), rate.tolist(), n.tolist()
        ([0.1, 0.85], [0.0, 1.0], [1, 2])
    """
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    which = np.clip((p * bins).astype(int), 0, bins - 1)
    counts = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = np.bincount(which, weights=p, minlength=bins) / counts
        rate = np.bincount(which, weights=y, minlength=bins) / counts
    return mean_p, rate, counts


def score_histograms(
    labels: Sequence[str],
    Y: np.ndarray,
    P: np.ndarray,
    thresholds: Sequence[float] | np.ndarray,
    title: str,
) -> bytes:
    """Per label, the probabilities of true positives and true negatives, threshold marked.

    Counts are on a log scale: negatives usually outnumber positives many times over and
    pile up near 0, and the interesting part is where the two overlap.

    Example:
        >>> Y, P = np.array([[1], [0], [1]]), np.array([[0.9], [0.3], [0.6]])
        >>> score_histograms(["Odio"], Y, P, [0.5], "test")[:4]
        b'\\x89PNG'
    """
    fig, axes = _grid(len(labels), f"Predicted probability by true label ({title})")
    edges = np.linspace(0, 1, 26)
    for j, (ax, label) in enumerate(zip(axes, labels, strict=True)):
        y, p = Y[:, j].astype(int), P[:, j]
        for value, color, name in ((0, "tab:blue", "negatives"), (1, "tab:red", "positives")):
            scores = p[y == value]
            legend = f"true {name} (n={len(scores)})"
            ax.hist(scores, edges, color=color, alpha=0.25)
            ax.hist(scores, edges, color=color, histtype="step", lw=1.8, label=legend)
        t = float(thresholds[j])
        ax.axvline(t, color="black", lw=1.5, label=f"tuned threshold {t:.2f}")
        ax.axvline(0.5, color="grey", lw=1, ls=":", label="0.5")
        ax.set_yscale("log")
        ax.set_ylim(0.7, max(len(y), 1) * 8)  # headroom above the bars for the legend
        ax.set(title=label, xlabel="predicted probability", ylabel="tweets (log scale)")
        ax.set_xlim(0, 1)
        ax.legend(loc="upper center", fontsize=8)
    return _png(fig)


def loss_curves(folds: Sequence[Mapping[str, Any]]) -> bytes:
    """Train (dashed) and validation (solid) loss per epoch, one colour per fold; next to it
    the validation ``f1_custom`` per epoch when the history has it. ★ marks each fold's
    lowest validation loss (the epoch whose weights are kept).

    Args:
        folds: the ``folds`` entries of ``metrics.json`` (``fold`` and ``history``).

    Example:
        >>> h = [{"epoch": 1, "train_loss": 0.5, "val_loss": 0.4, "val_macro_f1": 0.6},
        ...      {"epoch": 2, "train_loss": 0.3, "val_loss": 0.35, "val_macro_f1": 0.7}]
        >>> loss_curves([{"fold": 0, "history": h}])[:4]
        b'\\x89PNG'
    """
    with_f1 = any("val_macro_f1" in h for f in folds for h in f.get("history") or [])
    fig, axes = _grid(2 if with_f1 else 1, "Training history per fold", ncols=2, width=5.6)
    max_epoch = 1
    for k, fold in enumerate(folds):
        history = fold.get("history") or []
        if not history:
            continue
        color = f"C{k % 10}"
        epochs = [int(h["epoch"]) for h in history]
        max_epoch = max(max_epoch, *epochs)
        name = f"fold {fold.get('fold', k)}"
        val = [h.get("val_loss", math.nan) for h in history]
        train = [h.get("train_loss", math.nan) for h in history]
        axes[0].plot(epochs, train, color=color, ls="--", marker=".", lw=1.3)
        axes[0].plot(epochs, val, color=color, ls="-", marker="o", ms=4, lw=1.8, label=name)
        if not all(math.isnan(v) for v in val):
            best = int(np.nanargmin(val))
            axes[0].plot(epochs[best], val[best], marker="*", ms=13, color=color, mec="black")
        if with_f1:
            f1 = [h.get("val_macro_f1", math.nan) for h in history]
            axes[1].plot(epochs, f1, color=color, marker="o", ms=4, lw=1.8, label=name)
    from matplotlib.lines import Line2D

    style = [
        Line2D([], [], color="black", ls="--", label="train loss"),
        Line2D([], [], color="black", ls="-", label="validation loss"),
        Line2D([], [], color="black", marker="*", ms=11, ls="none", label="lowest val loss"),
    ]
    handles, _ = axes[0].get_legend_handles_labels()
    axes[0].legend(handles=handles + style, fontsize=8, loc="upper right")
    axes[0].set(title="Loss (train dashed, validation solid)", xlabel="epoch", ylabel="loss")
    if with_f1:
        axes[1].set(
            title="Validation f1_custom (threshold 0.5)", xlabel="epoch", ylabel="f1_custom"
        )
        axes[1].legend(fontsize=8, loc="lower right")
    for ax in axes:
        ax.set_xticks(range(1, max_epoch + 1))
        ax.grid(alpha=0.3)
    return _png(fig)


def _precision_recall_at(y: np.ndarray, p: np.ndarray, t: float) -> tuple[float, float] | None:
    """(precision, recall) when predicting ``p >= t``; ``None`` when nothing is predicted."""
    tp, fp, fn, _ = confusion(y, binarize(p, t))
    if not tp + fp:
        return None
    return tp / (tp + fp), tp / max(tp + fn, 1)


def _grid(n: int, title: str, *, ncols: int = 3, width: float = 4.3, height: float = 3.6):
    """A figure on an Agg canvas with ``n`` panels (``ncols`` per row) and a title."""
    require("matplotlib", "report", "odio report")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(width * ncols, height * nrows + 0.4), layout="constrained")
    FigureCanvasAgg(fig)  # non-interactive, per figure: pyplot's global backend is untouched
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=13)
    return fig, list(axes[:n])


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    fig.clear()  # a pyplot-free Figure is freed with its last reference; clear it now anyway
    return buffer.getvalue()
