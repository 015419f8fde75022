"""``transformer.init`` (``--init``): stage 2 starts every fold from a finished run."""

from __future__ import annotations

import logging

import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

import odio
from odio.config import FLAGS, TransformerConfig
from odio.errors import OdioError
from odio.models.encoder import pretrained
from odio.text.preprocess import preprocess_many
from odio.training.finetune import EncoderTrainer

LABELS = ["Odio", "Mujeres", "Comunidad LGBTQ+", "Comunidades Migrantes", "Pueblos Originarios"]
STILL = {"max_epochs": 1, "batch_size": 16, "lr": 1e-12, "warmup": 0.0, "accelerator": "cpu"}
"""A learning rate so small that the trained weights are the starting ones (to 1e-6)."""


def weights(folder):
    return load_file(str(folder / "model.safetensors")), load_file(
        str(folder / "odio_head.safetensors")
    )


def close(a, b):
    return a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)


def test_stage_two_folds_start_from_the_init_runs_weights(tiny_run, tiny_encoder, split_files):
    train = split_files[0].parent / "stage2_train.csv"  # not the init run's file (refused)
    pd.read_csv(split_files[0]).iloc[:-1].to_csv(train, index=False)
    config = {
        "model": str(tiny_encoder),
        "cv": {"folds": 2},
        "transformer": {**STILL, "init": str(tiny_run)},
    }
    stage2 = odio.fit(train, config, progress=False).save(split_files[0].parent / "stage2")
    init_encoder, init_head = weights(tiny_run / "model" / "fold_0")
    base = {k: v for k, v in pretrained(str(tiny_encoder)).state_dict().items()}
    assert not all(torch.allclose(base[k], init_encoder[k], atol=1e-3) for k in init_encoder)
    for fold in ("fold_0", "fold_1"):
        encoder, head = weights(stage2 / "model" / fold)
        assert close(encoder, init_encoder)  # the init's encoder, not the pretrained base
        assert close(head, init_head)  # same labels: the init's head too
    # without init, the same settings leave the folds at the pretrained base
    config["transformer"] = STILL
    plain = odio.fit(train, config, progress=False).save(split_files[0].parent / "plain")
    encoder, _ = weights(plain / "model" / "fold_0")
    assert all(torch.allclose(base[k], encoder[k], atol=1e-6) for k in encoder)


def test_other_labels_get_a_fresh_head_and_a_log_line(tiny_run, tiny_encoder, sample_frame, caplog):
    texts = preprocess_many(sample_frame["text"].tolist()[:40])
    Y = (sample_frame[LABELS[:1]].to_numpy()[:40] >= 2).astype(int)
    settings = TransformerConfig(**STILL, init=str(tiny_run))
    trainer = EncoderTrainer(str(tiny_encoder), settings, labels=LABELS[:1])
    with caplog.at_level(logging.INFO, logger="odio"):
        member = trainer.fit(trainer.encode(texts), Y).member
    assert any("a fresh head" in r.getMessage() for r in caplog.records)
    assert member.n_labels == 1
    init_encoder, _ = weights(tiny_run / "model" / "fold_0")
    trained = {k: v.cpu() for k, v in member.classifier.encoder.state_dict().items()}
    assert close({k: trained[k] for k in init_encoder}, init_encoder)


def test_init_from_another_base_is_one_clear_line(tiny_run, tmp_path):
    with pytest.raises(OdioError, match=r"^init: .* was fine-tuned from .*give --model") as info:
        EncoderTrainer(str(tmp_path), TransformerConfig(init=str(tiny_run)))
    assert "\n" not in str(info.value)


def test_init_must_be_an_encoder_run(tfidf_run, tiny_encoder, tmp_path):
    with pytest.raises(OdioError, match="is a tfidf model; --init needs an encoder run"):
        EncoderTrainer(str(tiny_encoder), TransformerConfig(init=str(tfidf_run)))
    with pytest.raises(OdioError, match="^init: model directory not found"):
        EncoderTrainer(str(tiny_encoder), TransformerConfig(init=str(tmp_path / "none")))


def test_init_is_a_flag():
    assert FLAGS["transformer.init"] == "--init"
    assert TransformerConfig().init is None
