from __future__ import annotations

import json

import numpy as np
import pytest

from odio.config import TfidfConfig
from odio.data.folds import make_folds
from odio.training.cv import cross_validate
from odio.training.tfidf import TfidfTrainer

LABELS = ["Odio", "Mujeres", "Comunidad LGBTQ+", "Comunidades Migrantes", "Pueblos Originarios"]


@pytest.fixture(scope="module")
def data(sample_frame):
    return sample_frame["text"].tolist(), (sample_frame[LABELS].to_numpy() >= 2).astype(int)


def run(texts, Y, seed=42, test=None):
    folds = make_folds(Y, 4, seed)
    return cross_validate(
        TfidfTrainer(TfidfConfig()),
        texts,
        Y,
        LABELS,
        folds,
        test_texts=test,
        progress=False,
    )


def test_every_row_gets_exactly_one_out_of_fold_prediction(data):
    texts, Y = data
    res = run(texts, Y)
    assert res.oof.shape == Y.shape and not np.isnan(res.oof).any()
    assert sum(f.val_rows for f in res.folds) == len(texts)
    # each row is predicted by the member that did not train on it
    for fold, member in enumerate(res.members):
        rows = np.flatnonzero(res.fold_ids == fold)
        assert np.allclose(member.predict_proba([texts[i] for i in rows]), res.oof[rows])


def test_same_seed_same_oof(data):
    texts, Y = data
    assert np.array_equal(run(texts, Y).oof, run(texts, Y).oof)
    assert not np.array_equal(run(texts, Y, seed=1).oof, run(texts, Y).oof)


def test_test_probabilities_are_the_mean_over_folds(data):
    texts, Y = data
    res = run(texts, Y, test=texts[:10])
    expected = np.mean([m.predict_proba(texts[:10]) for m in res.members], axis=0)
    assert np.allclose(res.test, expected)
    summary = res.fold_summary()
    assert summary["f1_custom"]["mean"] == pytest.approx(
        np.mean([f.scores["f1_custom"] for f in res.folds])
    )


class _Recorder:
    """A trainer that remembers what each fit saw and predicts 0.5."""

    backend = "tfidf"

    def __init__(self):
        self.seen = []

    def encode(self, texts):
        return list(texts)

    def fit(self, inputs, Y, validation=None, *, known=None, progress=None):
        from odio.training.trainers import Fitted

        self.seen.append(set(inputs))
        return Fitted(None, [])

    def predict(self, member, inputs):
        return np.full((len(inputs), 1), 0.5)


def test_augmented_copies_never_train_the_fold_of_their_original():
    texts = ["a0", "b0", "a1", "b1", "extra", "a0*", "b1*"]
    folds = np.array([0, 0, 1, 1, -1, -1, -1])  # 2 scored folds, a source row, 2 copies
    exclude = np.array([0, 0, 1, 1, -1, 0, 1])  # each copy excluded where its original is held out
    trainer = _Recorder()
    Y = np.array([[1], [0], [1], [0], [1], [1], [0]])
    res = cross_validate(trainer, texts, Y, ["Odio"], folds, exclude=exclude, progress=False)
    assert trainer.seen == [{"a1", "b1", "extra", "b1*"}, {"a0", "b0", "extra", "a0*"}]
    assert res.oof.shape == (4, 1)  # only the scored rows


def test_augmentation_in_a_run(split_files, tmp_path):
    from odio.cli import main

    train, _ = split_files
    cfg = tmp_path / "aug.yaml"
    cfg.write_text("augment: {spacing: 0.5, leetspeak: 0.5}\ncv: {folds: 3}\n")
    out = tmp_path / "aug"
    assert main(["train", str(train), "--config", str(cfg), "--out", str(out), "-q"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    train_rows = [f["train_rows"] for f in metrics["folds"]]
    val_rows = [f["val_rows"] for f in metrics["folds"]]
    assert sum(val_rows) == 105 and all(
        t > 105 - v for t, v in zip(train_rows, val_rows, strict=True)
    )
