"""Retraining on the labels so far gives one probability table per fold model."""

from __future__ import annotations

import numpy as np
import pytest

from odio.errors import OdioError
from odio.label.retrain import retrain


def test_member_probabilities_over_the_pool_and_tuned_thresholds(sample_frame):
    labels = ["Odio", "Mujeres"]
    pool = ["las mujeres no sirven pa nada", "buenos días a todos", ""]
    probs, cuts = retrain(sample_frame, pool, labels, folds=3, seed=1)
    assert probs.shape == (3, 3, 2) and cuts.shape == (2,)
    assert ((probs >= 0) & (probs <= 1)).all() and ((cuts > 0) & (cuts < 1)).all()
    assert not np.allclose(probs[0], probs[1])  # three fold models, not one copy
    # the hateful tweet scores higher on both labels than the greeting
    assert (probs.mean(0)[0] > probs.mean(0)[1]).all()


def test_the_labels_order_is_kept(sample_frame):
    a, cuts_a = retrain(sample_frame, ["hola"], ["Odio", "Mujeres"], folds=2)
    b, cuts_b = retrain(sample_frame, ["hola"], ["Mujeres", "Odio"], folds=2)
    assert np.allclose(a[..., ::-1], b) and np.allclose(cuts_a[::-1], cuts_b)


def test_an_empty_pool(sample_frame):
    probs, _ = retrain(sample_frame, [], ["Odio"], folds=2)
    assert probs.shape == (2, 0, 1)


def test_a_rare_label_early_in_a_project_means_fewer_folds_not_a_traceback(sample_frame):
    # one label, three positives: five stratified folds cannot be made (odio.fit would fail
    # inside the splitter); three can
    frame = sample_frame.head(12).assign(Odio=[1, 1, 1] + [0] * 9)
    probs, cuts = retrain(frame, ["hola", "te odio"], ["Odio"], folds=5)
    assert probs.shape == (3, 2, 1) and cuts.shape == (1,)


def test_a_single_positive_still_retrains_on_two_shuffled_folds(sample_frame):
    frame = sample_frame.head(8).assign(Odio=[1] + [0] * 7)
    probs, cuts = retrain(frame, ["x"], ["Odio"], folds=5)
    assert probs.shape == (2, 1, 1) and cuts.shape == (1,)


def test_a_label_nobody_marked_is_one_clear_error(sample_frame):
    with pytest.raises(OdioError, match="cannot retrain yet: .*'Mujeres' has no positive"):
        retrain(sample_frame.assign(Mujeres=0), ["x"], ["Odio", "Mujeres"])
