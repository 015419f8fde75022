"""The active-learning strategies rank what they promise, and refuse what they cannot use."""

from __future__ import annotations

import numpy as np
import pytest

from odio.errors import OdioError
from odio.label.strategies import STRATEGIES, rank

THRESHOLDS = np.array([0.5, 0.2])


def members(*blend_rows: list[float], spread: float = 0.0) -> np.ndarray:
    """Two members whose mean is ``blend_rows``, ``spread`` apart on every probability."""
    blend = np.array(blend_rows, dtype=float)
    return np.stack([blend - spread, blend + spread])


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_strategy_returns_a_permutation(strategy):
    probs = np.random.default_rng(0).random((3, 40, 2))
    texts = [f"tweet {i} " + "x" * (i % 7) for i in range(40)]
    order = rank(strategy, probs, THRESHOLDS, texts=texts, k=10)
    assert sorted(order.tolist()) == list(range(40))
    assert order.dtype.kind == "i"


def test_random_is_seeded_and_needs_only_the_pool_size():
    a = rank("random", None, None, texts=["t"] * 50, seed=3)
    assert a.tolist() == rank("random", None, None, texts=["t"] * 50, seed=3).tolist()
    assert a.tolist() != rank("random", None, None, texts=["t"] * 50, seed=4).tolist()
    with pytest.raises(OdioError, match="random strategy needs the pool"):
        rank("random", None, None)


def test_uncertainty_puts_the_tweet_on_a_threshold_first_on_each_label_scale():
    # tweets 0 and 3 far from both thresholds; tweet 1 at 0.45 on the main label (near
    # 0.5); tweet 2 at 0.19 on the rare label whose threshold is 0.2: relatively the closest
    probs = members([0.05, 0.01], [0.45, 0.01], [0.05, 0.19], [0.99, 0.9])
    assert rank("uncertainty", probs, THRESHOLDS).tolist() == [2, 1, 3, 0]


def test_committee_puts_the_split_vote_first_then_the_widest_spread():
    agree = [[0.9, 0.1], [0.8, 0.1], [0.05, 0.05]]  # members agree on every tweet
    split = [[0.9, 0.1], [0.2, 0.1], [0.05, 0.05]]  # members split on tweet 1's main label
    probs = np.array([agree, split, agree])
    probs[:, 2, 0] = [0.01, 0.3, 0.45]  # tweet 2: no vote changes sides, wide spread
    assert rank("committee", probs, THRESHOLDS).tolist() == [1, 2, 0]


def test_diverse_skips_a_near_copy_of_what_it_already_picked():
    # tweets 0 and 1 are the same chain tweet and both the most uncertain; tweet 2 differs
    texts = ["cadena copiada una y otra vez", "cadena copiada una y otra vez!", "otra cosa"]
    probs = members([0.5, 0.01], [0.5, 0.01], [0.4, 0.01])
    assert rank("uncertainty", probs, THRESHOLDS).tolist()[:2] == [0, 1]
    assert rank("diverse", probs, THRESHOLDS, texts=texts, k=2).tolist() == [0, 2, 1]


def test_wrong_inputs_are_one_clear_error():
    probs = np.full((2, 3, 2), 0.5)
    with pytest.raises(OdioError, match="unknown strategy 'smart'"):
        rank("smart", probs, THRESHOLDS)
    with pytest.raises(OdioError, match="needs a model's probabilities"):
        rank("uncertainty", None, THRESHOLDS)
    with pytest.raises(OdioError, match="needs a model's probabilities"):
        rank("committee", probs, None)
    with pytest.raises(OdioError, match="needs the pool's texts"):
        rank("diverse", probs, THRESHOLDS)
    with pytest.raises(OdioError, match="2 texts for 3"):
        rank("diverse", probs, THRESHOLDS, texts=["a", "b"])
    with pytest.raises(OdioError, match="3 thresholds for 2 labels"):
        rank("uncertainty", probs, np.array([0.5, 0.5, 0.5]))
    with pytest.raises(OdioError, match="members, tweets, labels"):
        rank("uncertainty", probs[0], THRESHOLDS)
