from __future__ import annotations

import numpy as np
import pytest

from odio.data.folds import make_folds
from odio.errors import OdioError


@pytest.fixture
def Y():
    rng = np.random.default_rng(0)
    return (rng.random((200, 4)) < [0.4, 0.2, 0.1, 0.1]).astype(int)


@pytest.mark.parametrize("split", ["auto", "stratified", "kfold"])
def test_same_seed_same_folds_every_row_once(Y, split):
    a = make_folds(Y, 5, 42, split)
    assert np.array_equal(a, make_folds(Y, 5, 42, split))
    assert sorted(np.unique(a).tolist()) == [0, 1, 2, 3, 4]
    assert np.bincount(a).min() >= 35
    assert not np.array_equal(a, make_folds(Y, 5, 7, split))


def test_stratified_keeps_label_rates(Y):
    folds = make_folds(Y, 5, 42, "stratified")
    for j in range(Y.shape[1]):
        per_fold = [Y[folds == k, j].sum() for k in range(5)]
        assert max(per_fold) - min(per_fold) <= 2


def test_single_label_is_stratified():
    y = np.array([1] * 10 + [0] * 40)
    folds = make_folds(y, 5)
    assert [y[folds == k].sum() for k in range(5)] == [2] * 5


def test_too_many_folds():
    with pytest.raises(OdioError, match="cannot make 5 folds from 3 rows"):
        make_folds(np.ones((3, 1)), 5)


def test_one_label_with_fewer_positives_than_folds_spreads_them():
    Y = np.zeros((20, 1), dtype=int)
    Y[:3] = 1  # 3 positives, 5 folds: iterstrat alone refuses a single column
    folds = make_folds(Y, n_folds=5, seed=1)
    assert sorted(np.bincount(folds).tolist()) == [4, 4, 4, 4, 4]
    assert len(set(folds[:3].tolist())) == 3  # each positive in a fold of its own
