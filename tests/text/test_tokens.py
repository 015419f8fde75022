"""Tokenisation helpers: length-sorted batches, padding, the padding id."""

from __future__ import annotations

import numpy as np

from odio.text.tokens import encode, length_batches, load_tokenizer, pad, pad_id


def test_encode_truncates_and_does_not_pad(tiny_encoder):
    tokenizer = load_tokenizer(tiny_encoder)
    ids = encode(tokenizer, ["hola weon " * 40, "hola"], 16)
    assert len(ids[0]) == 16 and len(ids[1]) < 16
    assert encode(tokenizer, [], 16) == []
    assert pad_id(tokenizer) == 1


def test_length_batches_and_padding():
    ids = [[0, 5, 2], [0, 2], [0, 5, 6, 7, 2], [0, 9, 2]]
    batches = [b.tolist() for b in length_batches(ids, 2)]
    assert batches == [[2, 0], [3, 1]]
    input_ids, mask = pad([ids[r] for r in batches[0]], pad_id=1)
    assert input_ids.shape == (2, 5) and input_ids.dtype == np.int64
    assert mask.sum(axis=1).tolist() == [5, 3]
    assert input_ids[1, 3:].tolist() == [1, 1]
