"""The staged schedule: a source with a head of its own, one model on every row (stage 1,
``cv.folds: 1``), and stage 2's folds starting from stage 1's weights (``--init``)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

import odio
from odio.cli import main
from odio.config import RunConfig, TransformerConfig
from odio.data.labelled import load_labelled, load_source
from odio.errors import OdioError
from odio.models.heads import EncoderClassifier
from odio.text.preprocess import preprocess_many
from odio.training.finetune import EncoderTrainer
from odio.training.rows import training_rows

LABELS = ["Odio", "Mujeres", "Comunidad LGBTQ+", "Comunidades Migrantes", "Pueblos Originarios"]
STILL = {"max_epochs": 1, "batch_size": 16, "lr": 1e-12, "warmup": 0.0, "accelerator": "cpu"}
"""A learning rate so small that the trained weights are the starting ones (to 1e-6)."""


@pytest.fixture(scope="module")
def extra_csv(tmp_path_factory, sample_frame):
    """Another set with its own notion of hate (``hate``) and a women label for some rows."""
    path = tmp_path_factory.mktemp("extra") / "extra.csv"
    n = len(sample_frame)
    pd.DataFrame(
        {
            "tweet": [f"{t} (reenviado)" for t in sample_frame["text"]],
            "hate": (np.arange(n) % 3 == 0).astype(int),  # not the main file's Odio
            "women": np.where(np.arange(n) % 2 == 0, (sample_frame["Mujeres"] >= 2), None),
        }
    ).to_csv(path, index=False)
    return path


def _config(extra_csv, head: str, **run) -> RunConfig:
    source = {"path": str(extra_csv), "text_column": "tweet", "head": head}
    source["labels"] = ["hate=Odio", "women=Mujeres"]
    return RunConfig.from_dict({"data": {"sources": [source]}, **run})


def test_a_source_with_its_own_head_gets_its_own_block_of_labels(split_files, extra_csv):
    train = load_labelled(split_files[0], RunConfig().data, training=True)
    folds = np.arange(len(train.texts)) % 2
    for head, width in (("shared", 5), ("own", 10)):
        config = _config(extra_csv, head)
        source = load_source(config.data.sources[0], config.data)
        rows = training_rows(config, train, [source], folds)
        assert rows.Y.shape == (len(train.texts) + len(source.texts), width)
        main_rows, source_rows = slice(0, len(train.texts)), slice(len(train.texts), None)
        assert rows.known[main_rows, :5].all() and not rows.known[main_rows, 5:].any()
        at = slice(0, 5) if head == "shared" else slice(5, 10)
        np.testing.assert_array_equal(rows.Y[source_rows, at], source.Y)
        np.testing.assert_array_equal(rows.known[source_rows, at], source.known)
        if head == "own":  # the source's labels never reach the main head
            assert not rows.known[source_rows, :5].any()
            assert rows.heads == ["main", source.report.path]
        assert rows.folds[source_rows].tolist() == [-1] * len(source.texts)


def test_the_heads_of_sources_train_and_only_the_main_head_is_shipped(
    tiny_encoder, sample_frame, monkeypatch
):
    texts = preprocess_many(sample_frame["text"].tolist()[:48])
    Y = (sample_frame[LABELS].to_numpy()[:48] >= 2).astype(int)
    wide = np.hstack([Y, 1 - Y])  # a second head with its own (here: opposite) labels
    known = np.ones_like(wide, dtype=bool)
    known[:24, 5:] = False  # the first rows are the main file's: no source labels
    known[24:, :5] = False  # the others are the source's: no main labels
    trained_heads = []
    keep = EncoderClassifier.keep_outputs

    def record(self, n):
        trained_heads.append(self.head.weight.detach().clone())
        keep(self, n)

    monkeypatch.setattr(EncoderClassifier, "keep_outputs", record)
    settings = TransformerConfig(max_epochs=2, batch_size=16, lr=3e-3, accelerator="cpu")
    trainer = EncoderTrainer(str(tiny_encoder), settings, labels=LABELS)
    ids = trainer.encode(texts)
    fitted = trainer.fit(ids, wide, validation=(ids[:8], wide[:8]), known=known)
    (wide_head,) = trained_heads
    assert wide_head.shape[0] == 10  # both heads trained
    member = fitted.member
    assert member.n_labels == 5 and member.predict_encoded(ids).shape == (48, 5)
    torch.testing.assert_close(member.classifier.head.weight.cpu(), wide_head[:5].cpu())
    assert fitted.history  # validation scored the main head alone (5 columns) without error


def test_stage_one_then_stage_two_from_its_weights(split_files, extra_csv, tiny_encoder, tmp_path):
    train, test = split_files
    stage1 = _config(
        extra_csv,
        "own",
        model=str(tiny_encoder),
        cv={"folds": 1},
        transformer={"max_epochs": 1, "batch_size": 16, "lr": 3e-3, "accelerator": "cpu"},
    )
    run1 = odio.fit(train, stage1, test=test, progress=False)
    assert run1.oof_predictions is None and run1.metrics["folds"] == []
    assert run1.metrics["one_model"]["train_rows"] == len(pd.read_csv(train)) + 158
    assert [s["head"] for s in run1.metrics["data"]["sources"]] == ["own"]
    assert set(run1.thresholds.values()) == {0.5} and "test" in run1.metrics
    with pytest.raises(OdioError, match="no out-of-fold scores"):
        _ = run1.oof
    out1 = run1.save(tmp_path / "stage1")
    assert not (out1 / "oof.csv").exists()
    config = json.loads((out1 / "model" / "config.json").read_text())
    assert config["members"] == ["fold_0"] and config["labels"] == LABELS
    stage1_encoder = load_file(str(out1 / "model" / "fold_0" / "model.safetensors"))
    stage1_head = load_file(str(out1 / "model" / "fold_0" / "odio_head.safetensors"))
    assert stage1_head["weight"].shape[0] == 5  # the source's head was not shipped

    out2 = tmp_path / "stage2"
    stage2_train = tmp_path / "stage2.csv"  # stage 2 must not cross-validate stage 1's file
    pd.read_csv(train).iloc[:-1].to_csv(stage2_train, index=False)
    argv = ["train", str(stage2_train), "--model", str(tiny_encoder), "--folds", "2"]
    argv += ["--init", str(out1), "--epochs", "1", "--lr", "1e-12", "--out", str(out2), "-q"]
    assert main(argv) == 0
    for fold in ("fold_0", "fold_1"):
        encoder = load_file(str(out2 / "model" / fold / "model.safetensors"))
        head = load_file(str(out2 / "model" / fold / "odio_head.safetensors"))
        for k in stage1_encoder:
            torch.testing.assert_close(encoder[k], stage1_encoder[k], atol=1e-6, rtol=0)
        for k in stage1_head:
            torch.testing.assert_close(head[k], stage1_head[k], atol=1e-6, rtol=0)
    assert len(pd.read_csv(out2 / "oof.csv")) == len(pd.read_csv(train)) - 1


def test_one_model_runs_say_what_they_lack(split_files, tiny_encoder, tmp_path, capsys):
    train, _ = split_files
    out = tmp_path / "one"
    assert main(["train", str(train), "--folds", "1", "--out", str(out), "-q"]) == 0
    assert main(["report", str(out)]) == 2
    err = capsys.readouterr().err
    assert "cv.folds: 1" in err and "Traceback" not in err
    assert main(["evaluate", str(out), str(train), "-q"]) == 0
    stack = ["--model", f"stack:tfidf+{tiny_encoder}", "--out", str(tmp_path / "s")]
    assert main(["train", str(train), "--folds", "1", *stack]) == 2
    assert "a stack needs out-of-fold predictions" in capsys.readouterr().err


def test_tfidf_gives_the_main_labels_each_source_models_probability(
    split_files, extra_csv, tmp_path
):
    train, test = split_files
    config = _config(extra_csv, "own", cv={"folds": 2, "split": "kfold"})  # folds not from Y
    run = odio.fit(train, config, test=test, progress=False)
    member = run.detector.model.members[0]
    source_coef, source_intercept = member.sources
    n_features = sum(len(v.vocabulary_) for v in member.vectorizers.values())
    assert source_coef.shape == (2, n_features)  # the source's hate and women labels
    assert member.coef.shape == (5, n_features + 2)
    assert np.abs(member.coef[:, n_features:]).sum() > 0  # the main labels use them
    assert run.oof_predictions.shape[0] == len(pd.read_csv(train))
    saved = run.save(tmp_path / "run")
    again = odio.Detector.load(saved)
    texts = pd.read_csv(test)["text"].tolist()
    np.testing.assert_allclose(again.predict_proba(texts), run.detector.predict_proba(texts))
    # a source model learns from its own rows alone: the main file's labels do not move it
    frame = pd.read_csv(train)
    frame[LABELS] = 3 - frame[LABELS]
    flipped = tmp_path / "flipped.csv"
    frame.to_csv(flipped, index=False)
    other = odio.fit(flipped, config, progress=False).detector.model.members[0]
    np.testing.assert_array_equal(other.sources[0], source_coef)
    assert not np.array_equal(other.coef, member.coef)


def test_cached_frozen_layers_run_once_and_score_like_the_whole_encoder(
    tiny_encoder, sample_frame, monkeypatch
):
    texts = preprocess_many(sample_frame["text"].tolist()[:48])
    Y = (sample_frame[LABELS].to_numpy()[:48] >= 2).astype(int)
    settings = TransformerConfig(
        max_epochs=3, batch_size=8, lr=3e-3, freeze_layers=1, cache_frozen=True, accelerator="cpu"
    )
    trainer = EncoderTrainer(str(tiny_encoder), settings, labels=LABELS)
    ids = trainer.encode(texts)
    upper = []
    real = EncoderClassifier.forward_with_attentions

    def spy(self, *args, **kwargs):
        upper.append(len(self.encoder.encoder.layer))  # the layers this forward runs
        return real(self, *args, **kwargs)

    monkeypatch.setattr(EncoderClassifier, "forward_with_attentions", spy)
    member = trainer.fit(ids[:40], Y[:40], validation=(ids[40:], Y[40:])).member
    steps = 3 * (40 // 8) + 3  # training and validation steps
    assert len(upper) >= steps and set(upper) == {1}  # the upper layer alone, every step
    assert len(trainer._frozen_states) == len({tuple(i) for i in ids})  # once per tweet
    cached = trainer.predict(member, ids)
    np.testing.assert_allclose(cached, member.predict_encoded(ids), atol=1e-5)
    with pytest.raises(OdioError, match="cache_frozen needs freeze_layers > 0"):
        EncoderTrainer(str(tiny_encoder), TransformerConfig(cache_frozen=True))


def test_init_trained_on_the_same_file_is_refused(split_files, tiny_encoder, tmp_path):
    train, _ = split_files
    transformer = {"max_epochs": 1, "batch_size": 16, "accelerator": "cpu"}
    config = {"model": str(tiny_encoder), "cv": {"folds": 1}, "transformer": transformer}
    stage1 = odio.fit(train, config, progress=False).save(tmp_path / "stage1")
    config = {**config, "cv": {"folds": 2}, "transformer": {**transformer, "init": str(stage1)}}
    with pytest.raises(OdioError, match="was trained on this training file"):
        odio.fit(train, config, progress=False)
    other = tmp_path / "other.csv"
    pd.read_csv(train).iloc[:-1].to_csv(other, index=False)  # another file: accepted
    assert len(odio.fit(other, config, progress=False).folds) == 2


def test_ear_runs_on_the_upper_layers_of_a_cached_encoder(tiny_encoder, sample_frame):
    texts = preprocess_many(sample_frame["text"].tolist()[:32])
    Y = (sample_frame[LABELS].to_numpy()[:32] >= 2).astype(int)
    settings = TransformerConfig(
        max_epochs=1,
        batch_size=8,
        freeze_layers=1,
        cache_frozen=True,
        ear_weight=0.01,
        accelerator="cpu",
    )
    trainer = EncoderTrainer(str(tiny_encoder), settings, labels=LABELS)
    ids = trainer.encode(texts)
    history = trainer.fit(ids[:24], Y[:24], validation=(ids[24:], Y[24:])).history
    # one upper layer of the tiny encoder: the entropy of one layer, at most log(tokens)
    assert 0 < history[0]["train_attention_entropy"] <= np.log(max(map(len, ids)))
