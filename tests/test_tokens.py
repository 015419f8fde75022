"""Inference tokenisation: once per batch, shared by the fold members of a run."""

from __future__ import annotations

import numpy as np

from odio.detector import Detector, TokenisedMember
from odio.tokens import encode, length_batches, load_tokenizer, pad, tokenizer_key


def test_members_of_a_run_share_one_tokenisation(tiny_run, sample_frame, monkeypatch):
    detector = Detector.load(tiny_run)
    texts = sample_frame["text"].tolist()
    normalised = detector.normalise(texts)
    separate = np.mean([m.predict_proba(normalised) for m in detector.members], axis=0)
    assert all(isinstance(m, TokenisedMember) for m in detector.members)
    assert len({m.encoding_key() for m in detector.members}) == 1

    calls = []

    def counting(tokenizer, batch, max_length):
        calls.append(len(batch))
        return encode(tokenizer, batch, max_length)

    monkeypatch.setattr("odio.transformer.encode", counting)
    shared = detector.predict_proba(texts)
    assert calls == [len(texts)]  # two members, one tokenisation
    assert np.allclose(shared, separate, atol=1e-6)


def test_results_come_back_in_input_order(tiny_run, sample_frame):
    detector = Detector.load(tiny_run)
    texts = sample_frame["text"].tolist()[:40]
    forward = detector.predict_proba(texts)
    backward = detector.predict_proba(texts[::-1])
    assert np.allclose(forward, backward[::-1], atol=1e-6)
    assert detector.predict_proba([]).shape == (0, len(detector.labels))


def test_tokenizer_key_ignores_call_state_but_not_length(tiny_encoder):
    tokenizer = load_tokenizer(tiny_encoder)
    before = tokenizer_key(tokenizer, 128)
    encode(tokenizer, ["hola weon"], 16)  # sets truncation on the fast tokenizer
    assert tokenizer_key(tokenizer, 128) == before
    assert tokenizer_key(load_tokenizer(tiny_encoder), 128) == before
    assert tokenizer_key(tokenizer, 64) != before


def test_length_batches_and_padding():
    ids = [[0, 5, 2], [0, 2], [0, 5, 6, 7, 2], [0, 9, 2]]
    batches = [b.tolist() for b in length_batches(ids, 2)]
    assert batches == [[2, 0], [3, 1]]
    input_ids, mask = pad([ids[r] for r in batches[0]], pad_id=1)
    assert input_ids.shape == (2, 5) and input_ids.dtype == np.int64
    assert mask.sum(axis=1).tolist() == [5, 3]
    assert input_ids[1, 3:].tolist() == [1, 1]
