"""Entropy-based attention regularisation (EAR) on hand-made attention and a tiny RoBERTa."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from odio.config import FLAGS, TransformerConfig
from odio.models.encoder import EncoderClassifier, pretrained
from odio.training.encoder_data import Collator
from odio.training.finetune import EncoderTrainer
from odio.training.lit_module import FineTuner, attention_entropy

LABELS = ["Odio", "Mujeres", "Comunidad LGBTQ+", "Comunidades Migrantes", "Pueblos Originarios"]
FAST = {"max_epochs": 1, "batch_size": 16, "lr": 1e-3}


def test_uniform_attention_has_log_n_entropy_per_layer_summed_over_layers():
    n = 5
    uniform = torch.full((2, 3, n, n), 1.0 / n)  # batch 2, 3 heads
    mask = torch.ones(2, n)
    assert float(attention_entropy([uniform], mask)) == pytest.approx(math.log(n))
    assert float(attention_entropy([uniform, uniform], mask)) == pytest.approx(2 * math.log(n))


def test_one_hot_attention_has_no_entropy():
    one_hot = torch.eye(4).expand(1, 2, 4, 4)
    assert float(attention_entropy([one_hot], torch.ones(1, 4))) == pytest.approx(0.0, abs=1e-7)


def test_padding_is_neither_attended_nor_counted():
    # text 0: 4 real tokens; text 1: 3 real tokens and one padding position, whose attention
    # mass (and whose own row, filled with garbage) must not count
    attention = torch.full((2, 1, 4, 4), 0.25)
    attention[1, 0, 3] = torch.tensor([1.0, 0.0, 0.0, 0.0])  # the padded token's row
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]])
    expected = (math.log(4) + math.log(3)) / 2  # the second text: uniform over 3 real tokens
    assert float(attention_entropy([attention], mask)) == pytest.approx(expected)


def test_heads_are_averaged_before_the_entropy():
    # two one-hot heads on different tokens average to 1/2, 1/2: entropy log 2, not 0
    heads = torch.zeros(1, 2, 2, 2)
    heads[0, 0, :, 0] = 1.0
    heads[0, 1, :, 1] = 1.0
    assert float(attention_entropy([heads], torch.ones(1, 2))) == pytest.approx(math.log(2))


def test_a_training_step_subtracts_weight_times_entropy(tiny_encoder):
    encoder = pretrained(str(tiny_encoder))
    encoder.set_attn_implementation("eager")
    torch.manual_seed(0)
    classifier = EncoderClassifier(encoder, n_labels=2).eval()  # no dropout: deterministic
    batch = Collator(pad_id=1)(
        [
            ([0, 45, 77, 91, 2], torch.tensor([1.0, 0.0]), None),
            ([0, 50, 2], torch.tensor([0.0, 1.0]), None),
        ]
    )
    weight = 0.3
    plain, plain_classification, none = FineTuner(classifier, TransformerConfig(), None).losses(
        batch
    )
    ear = FineTuner(classifier, TransformerConfig(ear_weight=weight), None)
    loss, classification, entropy = ear.losses(batch)
    assert none is None and torch.equal(plain, plain_classification)
    assert torch.allclose(classification, plain)
    with torch.no_grad():
        _, attentions = classifier.forward_with_attentions(
            batch["input_ids"], batch["attention_mask"]
        )
        expected = attention_entropy(attentions, batch["attention_mask"])
    assert len(attentions) == 2 and float(expected) > 0
    assert float(entropy.detach()) == pytest.approx(float(expected), rel=1e-6)
    assert float((loss - plain).detach()) == pytest.approx(-weight * float(expected), rel=1e-5)
    queries = [p for name, p in encoder.named_parameters() if "query.weight" in name]
    assert len(queries) == 2  # the regulariser has gradients into every layer's attention
    assert all(g.abs().sum() > 0 for g in torch.autograd.grad(entropy, queries))


def test_ear_weight_zero_trains_exactly_as_before(tiny_encoder, data, monkeypatch):
    texts, Y = data

    def member(**settings):
        trainer = EncoderTrainer(str(tiny_encoder), TransformerConfig(**FAST, **settings))
        ids = trainer.encode(texts[:80])
        return trainer.fit(ids[:60], Y[:60], validation=(ids[60:], Y[60:80])).member, ids

    default, ids = member()
    monkeypatch.setattr(
        "odio.training.lit_module.attention_entropy",
        lambda *a: pytest.fail("attention computed with ear_weight 0"),
    )
    off, _ = member(ear_weight=0.0)
    assert np.array_equal(default.predict_encoded(ids), off.predict_encoded(ids))
    assert "train_attention_entropy" not in off.history[0]
    monkeypatch.undo()
    on, _ = member(ear_weight=0.5)
    assert on.history[0]["train_attention_entropy"] > 0
    assert np.isfinite(on.predict_encoded(ids)).all()  # padding gives no nan gradients
    assert not np.array_equal(default.predict_encoded(ids), on.predict_encoded(ids))
    # trained with eager attention, it scores with the encoder's own implementation again
    assert on.classifier.encoder.config._attn_implementation == "sdpa"


def test_ear_weight_is_a_flag_and_never_negative():
    assert FLAGS["transformer.ear_weight"] == "--ear-weight"
    assert TransformerConfig().ear_weight == 0.0
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        TransformerConfig(ear_weight=-0.1)
