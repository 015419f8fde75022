"""A blend: fold members averaged, one normalisation, one shared tokenisation."""

from __future__ import annotations

import numpy as np
import pytest

from odio.inference.detector import Detector
from odio.models.blend import Blend
from odio.models.protocols import TokenisedMember


def test_members_of_a_run_share_one_tokenisation(tiny_run, sample_frame, monkeypatch):
    blend = Detector.load(tiny_run).model
    assert isinstance(blend, Blend)
    texts = sample_frame["text"].tolist()
    normalised = blend.prepare(texts)
    separate = np.mean([m.predict_proba(normalised) for m in blend.members], axis=0)
    assert all(isinstance(m, TokenisedMember) for m in blend.members)
    assert len({id(m.tokenizer) for m in blend.members}) == 1  # loaded once

    calls = []
    from odio.text.tokens import encode

    def counting(tokenizer, batch, max_length):
        calls.append(len(batch))
        return encode(tokenizer, batch, max_length)

    monkeypatch.setattr("odio.models.blend.encode", counting)
    shared = blend.predict_proba(texts)
    assert calls == [len(texts)]  # two members, one tokenisation
    assert np.allclose(shared, separate, atol=1e-6)


def test_results_come_back_in_input_order(tiny_run, sample_frame):
    detector = Detector.load(tiny_run)
    texts = sample_frame["text"].tolist()[:40]
    forward = detector.predict_proba(texts)
    backward = detector.predict_proba(texts[::-1])
    assert np.allclose(forward, backward[::-1], atol=1e-6)
    assert detector.predict_proba([]).shape == (0, len(detector.labels))


def test_model_directory_holds_the_tokenizer_once(tiny_run):
    model = tiny_run / "model"
    assert (model / "tokenizer" / "tokenizer.json").is_file()
    assert not list(model.glob("fold_*/tokenizer*.json"))


def test_members_must_agree_on_labels(tfidf_run):
    member = Detector.load(tfidf_run).model.members[0]
    other = Detector.load(tfidf_run).model.members[0]
    other.n_labels = 2
    with pytest.raises(ValueError, match="same labels"):
        Blend([member, other], Detector.load(tfidf_run).model.preprocess, backend="tfidf")
