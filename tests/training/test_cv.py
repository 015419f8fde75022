from __future__ import annotations

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
