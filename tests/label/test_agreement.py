"""Krippendorff's alpha against the worked examples of Krippendorff's own paper."""

from __future__ import annotations

import math

import pytest

from odio.errors import OdioError
from odio.label.agreement import disagreements, krippendorff_alpha

# K. Krippendorff, "Computing Krippendorff's Alpha-Reliability" (2011), section A: two
# observers, binary data, ten units; alpha = 0.095.
BINARY_A = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
BINARY_B = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]

# The same paper, section C: four observers, nominal values 1-5, twelve units with
# missing values (None); alpha (nominal) = 0.743.
_ = None
NOMINAL = {
    "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, _, _, _],
    "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, _, 3],
    "C": [_, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, _],
    "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, _],
}


def test_binary_two_observers_matches_the_paper():
    votes = list(zip(BINARY_A, BINARY_B, strict=True))
    assert round(krippendorff_alpha(votes), 3) == 0.095


def test_nominal_four_observers_with_missing_votes_matches_the_paper():
    votes = list(zip(*NOMINAL.values(), strict=True))
    assert round(krippendorff_alpha(votes), 3) == 0.743


def test_annotator_order_and_unpairable_items_do_not_matter():
    votes = [list(v) for v in zip(*NOMINAL.values(), strict=True)]
    shuffled = [row[::-1] for row in votes] + [[None, 4, None, None]]  # a lone vote: unpairable
    assert krippendorff_alpha(shuffled) == pytest.approx(krippendorff_alpha(votes))


def test_perfect_agreement_is_one_and_systematic_disagreement_below_zero():
    assert krippendorff_alpha([[1, 1], [0, 0], [1, 1, 1]]) == 1.0
    assert krippendorff_alpha([[1, 0], [0, 1], [1, 0]]) < 0


def test_undefined_alpha_is_nan():
    assert math.isnan(krippendorff_alpha([]))
    assert math.isnan(krippendorff_alpha([[1, None], [0]]))  # no item with two votes
    assert math.isnan(krippendorff_alpha([[1, 1], [1, 1]]))  # no variation at all


def test_nan_is_a_missing_vote_and_a_bad_vote_is_one_clear_error():
    assert krippendorff_alpha([[1, 1, float("nan")], [0, 0]]) == 1.0
    with pytest.raises(OdioError, match="item 1"):
        krippendorff_alpha([[1, 1], [0, "yes"]])
    with pytest.raises(OdioError, match="integer"):
        krippendorff_alpha([[0.5, 1]])


def test_disagreements_most_disputed_first_and_only_disputed():
    votes = [[1, 1, 1], [1, 0, 0], [0, 0, None], [1, 0, None], [1, None, None], [0, 1, 1]]
    assert disagreements(votes, top=10) == [3, 1, 5]  # 1-1 split, then the 2-1 splits
    assert disagreements(votes, top=2) == [3, 1]
    assert disagreements(votes, top=0) == []
    with pytest.raises(OdioError):
        disagreements(votes, top=-1)
