"""The transformer backend on a tiny random RoBERTa (no downloads, seconds on a CPU)."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest
import torch

from odio.cli import main
from odio.config import TransformerConfig
from odio.data.folds import make_folds
from odio.errors import OdioError
from odio.inference.detector import Detector
from odio.metrics import best_epoch
from odio.models.encoder import EncoderClassifier, EncoderMember, pretrained
from odio.text.tokens import load_tokenizer
from odio.training.cv import cross_validate
from odio.training.devices import hand_off
from odio.training.encoder_data import Collator
from odio.training.finetune import EncoderTrainer

LABELS = ["Odio", "Mujeres", "Comunidad LGBTQ+", "Comunidades Migrantes", "Pueblos Originarios"]
FAST = {"max_epochs": 1, "batch_size": 16, "lr": 1e-3}


def cv(encoder, texts, Y, seed=42, **settings):
    config = TransformerConfig(**{**FAST, **settings})
    return cross_validate(
        EncoderTrainer(str(encoder), config, seed=seed),
        texts,
        Y,
        LABELS,
        make_folds(Y, 2, seed),
        test_texts=texts[:9],
        progress=False,
    )


def test_two_folds_cover_every_row_once_and_same_seed_repeats(tiny_encoder, data):
    texts, Y = data
    first = cv(tiny_encoder, texts, Y)
    assert first.oof.shape == Y.shape and not np.isnan(first.oof).any()
    assert sum(f.val_rows for f in first.folds) == len(texts)
    assert all(len(f.history) == 1 and "val_loss" in f.history[0] for f in first.folds)
    again = cv(tiny_encoder, texts, Y)
    assert np.array_equal(first.oof, again.oof)
    assert np.array_equal(first.test, again.test)
    assert not np.array_equal(cv(tiny_encoder, texts, Y, seed=7).oof, first.oof)


def test_each_text_is_tokenised_once_per_cross_validation(tiny_encoder, data, monkeypatch):
    texts, Y = data
    calls = []
    from odio.text.tokens import encode

    def counting(tokenizer, batch, max_length):
        calls.append(len(batch))
        return encode(tokenizer, batch, max_length)

    monkeypatch.setattr("odio.training.finetune.encode", counting)
    cv(tiny_encoder, texts, Y)
    assert calls == [len(texts), 9]  # the training texts and the test texts, not per fold


def test_predictions_use_the_best_epoch(tiny_encoder, data):
    texts, Y = data
    trainer = EncoderTrainer(
        str(tiny_encoder),
        TransformerConfig(max_epochs=4, patience=4, lr=3e-3, warmup=0.0, batch_size=16),
    )
    ids = trainer.encode(texts)
    member, history = trainer.fit(ids[:100], Y[:100], validation=(ids[100:], Y[100:]))
    losses = [h["val_loss"] for h in history]
    assert len(losses) == 4
    assert best_epoch(history)["epoch"] == int(np.argmin(losses)) + 1
    # the restored weights reproduce the best epoch's validation loss
    P = trainer.predict(member, ids[100:])
    bce = torch.nn.functional.binary_cross_entropy(
        torch.tensor(P), torch.tensor(Y[100:], dtype=torch.float64)
    )
    assert float(bce) == pytest.approx(min(losses), abs=1e-4)


def test_can_overfit_one_small_batch(tiny_encoder, data):
    texts, Y = data
    trainer = EncoderTrainer(
        str(tiny_encoder),
        TransformerConfig(
            max_epochs=60, patience=60, lr=3e-3, warmup=0.0, dropout=0.0, batch_size=8
        ),
    )
    eight = trainer.encode(texts[:8]), Y[:8]
    _, history = trainer.fit(*eight, validation=eight)
    losses = [h["train_loss"] for h in history]
    assert losses[-1] <= 0.1 * losses[0]


def test_save_load_gives_identical_probabilities(tiny_encoder, data, tmp_path):
    texts, Y = data
    trainer = EncoderTrainer(str(tiny_encoder), TransformerConfig(**FAST))
    member = trainer.fit(trainer.encode(texts[:100]), Y[:100]).member
    member.save(tmp_path / "member")
    names = {p.name for p in (tmp_path / "member").iterdir()}
    assert names == {"config.json", "model.safetensors", "odio_head.json", "odio_head.safetensors"}
    loaded = EncoderMember.load(tmp_path / "member", load_tokenizer(tiny_encoder), device="cpu")
    assert np.array_equal(member.predict_proba(texts), loaded.predict_proba(texts))


def test_masked_mean_pooling_ignores_padding(tiny_encoder):
    encoder = pretrained(str(tiny_encoder))
    clf = EncoderClassifier(encoder, n_labels=2).eval()
    collate = Collator(pad_id=1)
    short = collate([([0, 45, 77, 91, 2], None, None)])
    padded = collate([([0, 45, 77, 91, 2], None, None), ([0] + [50] * 20 + [2], None, None)])
    with torch.no_grad():
        a = clf(short["input_ids"], short["attention_mask"])[0]
        b = clf(padded["input_ids"], padded["attention_mask"])[0]
        assert torch.allclose(a, b, atol=1e-5)
        # the unmasked mean that the reference used does change with padding
        hidden = encoder(**padded).last_hidden_state[0]
        assert not torch.allclose(hidden[:5].mean(0), hidden.mean(0), atol=1e-3)
    cls = EncoderClassifier(encoder, n_labels=2, pooling="cls").eval()
    assert tuple(cls(short["input_ids"], short["attention_mask"]).shape) == (1, 2)


def test_compile_failure_falls_back_to_eager(tiny_encoder, data, monkeypatch, caplog):
    def broken_compile(*args, **kwargs):
        def run(*a, **k):
            raise RuntimeError("dynamo says no\nlong internal trace")

        return run

    monkeypatch.setattr(torch, "compile", broken_compile)
    texts, Y = data
    with caplog.at_level(logging.WARNING, logger="odio"):
        trainer = EncoderTrainer(str(tiny_encoder), TransformerConfig(**FAST, compile=True))
        ids = trainer.encode(texts[:60])
        _, history = trainer.fit(ids[:40], Y[:40], validation=(ids[40:], Y[40:60]))
    warnings = [r.getMessage() for r in caplog.records if "torch.compile" in r.getMessage()]
    assert warnings == [
        "torch.compile failed (RuntimeError: dynamo says no); training in eager mode"
    ]
    assert len(history) == 1


def test_max_length_is_capped_by_the_position_limit(tiny_encoder, data):
    texts, Y = data
    trainer = EncoderTrainer(str(tiny_encoder), TransformerConfig(**{**FAST, "max_length": 512}))
    member = trainer.fit(trainer.encode(texts[:20]), Y[:20]).member
    assert trainer.max_length == member.max_length == 128  # 130 positions, RoBERTa reserves 2


def test_pos_weight_and_frozen_embeddings_train(tiny_encoder, data):
    texts, Y = data
    trainer = EncoderTrainer(
        str(tiny_encoder), TransformerConfig(**FAST, pos_weight=True, freeze_embeddings=True)
    )
    before = pretrained(str(tiny_encoder)).get_input_embeddings().weight.detach().clone()
    member = trainer.fit(trainer.encode(texts[:60]), Y[:60]).member
    assert torch.equal(before, member.classifier.encoder.get_input_embeddings().weight)
    assert member.predict_proba(texts[:3]).shape == (3, 5)


def test_freeze_layers_trains_only_the_layers_above(tiny_encoder, data):
    texts, Y = data
    trainer = EncoderTrainer(str(tiny_encoder), TransformerConfig(**FAST, freeze_layers=1))
    before = pretrained(str(tiny_encoder)).state_dict()
    after = trainer.fit(trainer.encode(texts[:60]), Y[:60]).member.classifier.encoder.state_dict()
    changed = {name for name, value in after.items() if not torch.equal(value, before[name])}
    assert changed and all(name.startswith("encoder.layer.1.") for name in changed)
    with pytest.raises(OdioError, match="freeze_layers is 3, but the encoder has 2 layers"):
        EncoderTrainer(str(tiny_encoder), TransformerConfig(**FAST, freeze_layers=3)).fit(
            trainer.encode(texts[:8]), Y[:8]
        )


def test_unknown_model_is_a_clear_error():
    with pytest.raises(OdioError, match="model directory not found: ./nope"):
        pretrained("./nope")
    with pytest.raises(OdioError, match="cannot load model 'nobody/no-such-model'.*local dir"):
        pretrained("nobody/no-such-model")
    with pytest.raises(OdioError, match="cannot load model 'nobody/no-such-model'"):
        EncoderTrainer("nobody/no-such-model").encode(["hola"])


def test_cli_trains_and_predicts_with_an_encoder(tiny_encoder, split_files, tmp_path):
    train, test = split_files
    cfg = tmp_path / "run.yaml"
    cfg.write_text("transformer:\n  max_epochs: 3\n  lr: 0.001\n  accelerator: cpu\n")
    out = tmp_path / "run"
    assert (
        main(
            [
                "train",
                str(train),
                "--test",
                str(test),
                "--model",
                str(tiny_encoder),
                "--folds",
                "2",
                "--config",
                str(cfg),
                "--epochs",
                "1",
                "--out",
                str(out),
                "-q",
            ]
        )
        == 0
    )
    config = json.loads((out / "model" / "config.json").read_text())
    assert config["backend"] == "transformer" and config["base_model"] == str(tiny_encoder)
    assert config["preprocess"]["emoji"] is True  # RoBERTuito normalisation by default
    metrics = json.loads((out / "metrics.json").read_text())
    assert [h["epoch"] for h in metrics["folds"][0]["history"]] == [1]  # --epochs won
    detector = Detector.load(out / "model")
    expected = pd.read_csv(out / "test_predictions.csv")
    texts = pd.read_csv(test)["text"].tolist()
    prob = [f"prob_{label}" for label in LABELS]
    assert np.allclose(detector.predict_proba(texts), expected[prob].to_numpy(), atol=1e-6)
    scored = tmp_path / "scored.csv"
    assert main(["predict", str(out), str(test), "-o", str(scored), "-q"]) == 0
    assert np.allclose(pd.read_csv(scored)[prob].to_numpy(), expected[prob].to_numpy(), atol=1e-6)


def test_fast_dev_run_is_a_quick_smoke_test(tiny_encoder, data):
    texts, Y = data
    trainer = EncoderTrainer(str(tiny_encoder), TransformerConfig(fast_dev_run=True))
    ids = trainer.encode(texts)
    member, history = trainer.fit(ids, Y, validation=(ids[:20], Y[:20]))
    assert len(history) <= 1
    assert member.predict_proba(texts[:2]).shape == (2, 5)


def test_a_trained_model_is_handed_back_to_its_training_device(tiny_encoder):
    """Lightning's teardown leaves the module on the CPU; predictions must run where the
    model trained (a GPU): the hand-off moves it to the strategy's root device."""
    from types import SimpleNamespace

    classifier = EncoderClassifier(pretrained(str(tiny_encoder)), n_labels=2)
    trainer = SimpleNamespace(strategy=SimpleNamespace(root_device=torch.device("meta")))
    hand_off(classifier, trainer)
    assert {p.device.type for p in classifier.parameters()} == {"meta"}
    assert not classifier.training


def test_fit_hands_the_member_to_the_lightning_device(tiny_encoder, data, monkeypatch):
    from odio.training import finetune

    seen = []

    def recording(classifier, trainer):
        seen.append(trainer.strategy.root_device)
        hand_off(classifier, trainer)

    monkeypatch.setattr(finetune, "hand_off", recording)
    texts, Y = data
    trainer = EncoderTrainer(str(tiny_encoder), TransformerConfig(**FAST, accelerator="cpu"))
    member = trainer.fit(trainer.encode(texts[:20]), Y[:20]).member
    assert seen == [member.device]


def test_loading_and_saving_an_encoder_print_nothing(tiny_encoder, tiny_run, tmp_path, capfd):
    """No "Loading weights" or "Writing model shards" bar nor load report per fold member
    (transformers 5 prints them to standard error), and transformers' settings are kept."""
    import transformers

    from odio.inference.detector import Detector

    capfd.readouterr()
    pretrained(str(tiny_encoder))
    Detector.load(tiny_run).save(tmp_path / "copy")
    assert capfd.readouterr().err == ""
    assert transformers.utils.logging.is_progress_bar_enabled()


def test_lightning_is_imported_only_when_an_encoder_is_trained():
    """Every training module but the encoder trainer's Lightning parts (which the k-fold
    harness imports only for an encoder) imports without Lightning, the encoder's data,
    devices and the TF-IDF trainer included."""
    import subprocess
    import sys

    code = (
        "import importlib, pkgutil, sys\n"
        "import odio.training as t\n"
        "lightning = {'finetune', 'lit_module', 'progress'}\n"
        "for m in pkgutil.iter_modules(t.__path__):\n"
        "    if m.name not in lightning:\n"
        "        importlib.import_module('odio.training.' + m.name)\n"
        "from odio.config import RunConfig\n"
        "from odio.training.cv import create_trainer\n"
        "create_trainer(RunConfig())\n"
        "print(sorted(m for m in ('lightning', 'torchmetrics') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
