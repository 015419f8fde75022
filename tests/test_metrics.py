from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

from odio.metrics import (
    DEFAULT_GRID,
    decide,
    f1_custom,
    headline,
    resolve_metric,
    score,
    tune_thresholds,
)


def test_f1_custom_is_half_main_label_half_mean_of_the_rest():
    rng = np.random.default_rng(1)
    Y = (rng.random((300, 5)) < 0.3).astype(int)
    pred = np.where(rng.random((300, 5)) < 0.2, 1 - Y, Y)
    expected = 0.5 * f1_score(Y[:, 0], pred[:, 0]) + 0.5 * np.mean(
        [f1_score(Y[:, j], pred[:, j]) for j in range(1, 5)]
    )
    assert f1_custom(Y, pred) == pytest.approx(expected)


def test_f1_custom_equals_f1_for_one_label():
    y = np.array([[1], [1], [0], [0], [0]])
    p = np.array([[1], [0], [1], [0], [0]])
    assert f1_custom(y, p) == pytest.approx(f1_score(y[:, 0], p[:, 0]))  # the positive class


def test_score_per_label_precision_recall():
    Y = np.array([[1, 0], [1, 1], [0, 0], [0, 1]])
    P = np.array([[0.9, 0.1], [0.4, 0.8], [0.6, 0.2], [0.1, 0.7]])
    s = score(Y, P, ["Odio", "Mujeres"])
    assert s["per_label"]["Odio"] == {
        "precision": 0.5,
        "recall": 0.5,
        "f1": 0.5,
        "macro_f1": 0.5,
        "accuracy": 0.5,
        "average_precision": pytest.approx(0.8333333),
        "roc_auc": 0.75,
        "support": 2,
        "predicted": 2,
    }
    assert s["per_label"]["Mujeres"]["f1"] == 1.0
    assert s["metric"] == "f1_custom"
    assert s["macro_f1"] == pytest.approx(0.75)  # several labels: mean of each label's F1
    assert s["f1_custom"] == pytest.approx(0.75)
    assert s["accuracy"] == 0.5  # both labels right on 2 of 4 rows


def test_single_label_scores_are_the_ones_the_field_reports():
    """Binary shared tasks report the two-class macro-F1: scikit-learn's average="macro"."""
    rng = np.random.default_rng(3)
    y = (rng.random(500) < 0.4).astype(int)
    p = np.clip(y * 0.3 + rng.random(500) * 0.7, 0, 1)
    s = score(y[:, None], p[:, None], ["HS"], 0.5)
    pred = (p >= 0.5).astype(int)
    assert s["metric"] == "macro_f1" and "f1_custom" not in s
    assert s["macro_f1"] == pytest.approx(f1_score(y, pred, average="macro"))
    assert s["accuracy"] == pytest.approx(accuracy_score(y, pred))
    label = s["per_label"]["HS"]
    assert label["f1"] == pytest.approx(f1_score(y, pred))
    assert label["roc_auc"] == pytest.approx(roc_auc_score(y, p))
    assert label["average_precision"] == pytest.approx(average_precision_score(y, p))
    assert headline(s) == s["macro_f1"]


def test_headline_metric():
    assert resolve_metric("auto", ["Odio", "Mujeres"]) == "f1_custom"
    assert resolve_metric("auto", ["Odio"]) == "macro_f1"
    assert resolve_metric("auto", ["sexist", "aggressive"]) == "macro_f1"
    assert resolve_metric("accuracy", ["HS"]) == "accuracy"
    with pytest.raises(ValueError, match="f1_custom needs a main label"):
        resolve_metric("f1_custom", ["HS"])


def test_tuned_thresholds_beat_or_match_half():
    rng = np.random.default_rng(2)
    Y = (rng.random((400, 3)) < 0.2).astype(int)
    P = 0.3 * Y + rng.random((400, 3)) * 0.35  # separable near 0.33, below 0.5
    t = tune_thresholds(Y, P)
    assert ((t > 0.28) & (t < 0.4)).all()
    assert score(Y, P, "abc", t)["macro_f1"] > score(Y, P, "abc", 0.5)["macro_f1"]


@pytest.mark.parametrize("objective", ["f1", "macro_f1", "accuracy"])
def test_each_objective_is_maximised_on_the_grid(objective):
    rng = np.random.default_rng(4)
    y = (rng.random(300) < 0.3).astype(int)
    p = np.clip(y * 0.25 + rng.random(300) * 0.75, 0, 1)
    (t,) = tune_thresholds(y[:, None], p[:, None], objective)
    measure = {
        "f1": lambda pred: f1_score(y, pred),
        "macro_f1": lambda pred: f1_score(y, pred, average="macro"),
        "accuracy": lambda pred: accuracy_score(y, pred),
    }[objective]
    best = max(measure((p >= g).astype(int)) for g in DEFAULT_GRID)
    assert measure((p >= t).astype(int)) == pytest.approx(best)


def test_precision_and_recall_floors():
    rng = np.random.default_rng(5)
    y = (rng.random(400) < 0.3).astype(int)
    p = np.clip(y * 0.3 + rng.random(400) * 0.7, 0, 1)
    (t,) = tune_thresholds(y[:, None], p[:, None], "precision>=0.8")
    pred = (p >= t).astype(int)
    assert precision_score(y, pred) >= 0.8
    # the lowest grid threshold that keeps the precision floor: the most recall
    ok = [
        g for g in DEFAULT_GRID if precision_score(y, (p >= g).astype(int), zero_division=0) >= 0.8
    ]
    assert recall_score(y, pred) == pytest.approx(
        max(recall_score(y, (p >= g).astype(int)) for g in ok)
    )
    (r,) = tune_thresholds(y[:, None], p[:, None], "recall>=0.9")
    assert recall_score(y, (p >= r).astype(int)) >= 0.9
    with pytest.raises(ValueError, match="threshold objective must be"):
        tune_thresholds(y[:, None], p[:, None], "precision>=2")


def test_targets_can_require_the_main_label():
    P = np.array([[0.2, 0.9, 0.8], [0.7, 0.9, 0.1], [0.6, 0.1, 0.9]])
    assert decide(P, 0.5).tolist() == [[0, 1, 1], [1, 1, 0], [1, 0, 1]]
    assert decide(P, 0.5, "targets_require_main").tolist() == [[0, 0, 0], [1, 1, 0], [1, 0, 1]]
    Y = np.array([[0, 0, 0], [1, 1, 0], [1, 0, 1]])
    gated = score(Y, P, ["Odio", "Mujeres", "Comunidad LGBTQ+"], 0.5, rule="targets_require_main")
    assert gated["f1_custom"] == 1.0
