from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score

from odio.metrics import f1_custom, score, tune_thresholds


def test_f1_custom_is_half_main_label_half_mean_of_the_rest():
    rng = np.random.default_rng(1)
    Y = (rng.random((300, 5)) < 0.3).astype(int)
    pred = np.where(rng.random((300, 5)) < 0.2, 1 - Y, Y)
    expected = 0.5 * f1_score(Y[:, 0], pred[:, 0]) + 0.5 * np.mean(
        [f1_score(Y[:, j], pred[:, j]) for j in range(1, 5)]
    )
    assert f1_custom(Y, pred) == pytest.approx(expected)


def test_f1_custom_equals_f1_for_one_label():
    y = np.array([[1], [1], [0], [0]])
    p = np.array([[1], [0], [1], [0]])
    assert f1_custom(y, p) == pytest.approx(f1_score(y[:, 0], p[:, 0]))


def test_score_per_label_precision_recall():
    Y = np.array([[1, 0], [1, 1], [0, 0], [0, 1]])
    P = np.array([[0.9, 0.1], [0.4, 0.8], [0.6, 0.2], [0.1, 0.7]])
    s = score(Y, P, ["Odio", "Mujeres"])
    assert s["per_label"]["Odio"] == {
        "precision": 0.5,
        "recall": 0.5,
        "f1": 0.5,
        "support": 2,
        "predicted": 2,
    }
    assert s["per_label"]["Mujeres"]["f1"] == 1.0
    assert s["macro_f1"] == pytest.approx(0.75)
    assert s["f1_custom"] == pytest.approx(0.75)


def test_tuned_thresholds_beat_or_match_half():
    rng = np.random.default_rng(2)
    Y = (rng.random((400, 3)) < 0.2).astype(int)
    P = 0.3 * Y + rng.random((400, 3)) * 0.35  # separable near 0.33, below 0.5
    t = tune_thresholds(Y, P)
    assert ((t > 0.28) & (t < 0.4)).all()
    assert score(Y, P, "abc", t)["f1_custom"] > score(Y, P, "abc", 0.5)["f1_custom"]
