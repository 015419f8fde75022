from __future__ import annotations

import numpy as np

from odio.config import TfidfConfig
from odio.models.tfidf import TfidfModel
from odio.training.tfidf import TfidfTrainer


def _fit(texts, Y, config=None):
    return TfidfTrainer(config or TfidfConfig()).fit(texts, Y).member


def test_save_load_identical_probabilities_without_pickle(tmp_path, sample_frame):
    texts = sample_frame["text"].tolist()
    Y = (sample_frame[["Odio", "Mujeres"]].to_numpy() >= 2).astype(int)
    model = _fit(texts, Y)
    model.save(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == [
        "config.json",
        "vocabulary.json",
        "weights.safetensors",
    ]
    loaded = TfidfModel.load(tmp_path / "m")
    assert np.array_equal(model.predict_proba(texts), loaded.predict_proba(texts))
    assert loaded.config == model.config


def test_learns_something(sample_frame):
    texts = sample_frame["text"].tolist()
    y = (sample_frame[["Odio"]].to_numpy() >= 2).astype(int)
    P = _fit(texts, y).predict_proba(texts)
    assert P[y[:, 0] == 1, 0].mean() > P[y[:, 0] == 0, 0].mean() + 0.2


def test_label_with_one_class_in_training_split_does_not_crash():
    texts = ["odio a todos", "buen dia", "los odio", "lindo dia"]
    Y = np.array([[1, 0], [0, 0], [1, 0], [0, 0]])
    P = _fit(texts, Y, TfidfConfig(min_df=1)).predict_proba(texts)
    assert P.shape == (4, 2) and np.all(P[:, 1] < 0.01)


def test_empty_input():
    model = _fit(["a b", "c d"], np.array([[1], [0]]), TfidfConfig(min_df=1))
    assert model.predict_proba([]).shape == (0, 1)
