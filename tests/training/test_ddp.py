"""Lightning's own distribution: one fold fine-tuned by 2 DDP processes on the CPU (gloo)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from odio.cli import main
from odio.inference.detector import Detector
from odio.training.devices import lightning_strategy
from odio.training.encoder_data import LengthGroupedBatches


def test_ddp_on_one_machine_spawns_workers_and_external_launches_are_left_alone(monkeypatch):
    for name in ("LOCAL_RANK", "TORCHELASTIC_RUN_ID", "SLURM_NTASKS"):
        monkeypatch.delenv(name, raising=False)
    strategy = lightning_strategy("ddp")
    assert type(strategy).__name__ == "DDPStrategy" and strategy._start_method == "spawn"
    assert lightning_strategy("ddp", num_nodes=2) == "ddp"  # a cluster launcher started us
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert lightning_strategy("ddp") == "ddp"
    assert lightning_strategy("auto") == "auto"


def test_batches_are_shared_out_between_processes(monkeypatch):
    batches = LengthGroupedBatches(list(range(1, 100)), batch_size=10, seed=0, group=True)
    whole = list(LengthGroupedBatches(list(range(1, 100)), 10, 0, True))
    shares = []
    for rank in (0, 1):
        monkeypatch.setattr("odio.training.encoder_data._rank_and_world", lambda r=rank: (r, 2))
        batches.epoch = 0
        shares.append(list(batches))
        assert len(batches) == 5
    assert [len(s) for s in shares] == [5, 5]  # 10 batches, 5 steps each
    assert shares[0] + shares[1] != whole and sorted(shares[0] + shares[1]) == sorted(whole)


@pytest.mark.cluster
@pytest.mark.slow
def test_ddp_on_two_cpu_processes_trains_a_model_that_loads_and_predicts(
    tiny_encoder, split_files, tmp_path
):
    train, test = split_files
    config = tmp_path / "ddp.yaml"
    config.write_text("transformer: {max_epochs: 2, lr: 0.003, batch_size: 16, accelerator: cpu}\n")
    out = tmp_path / "run"
    argv = ["train", str(train), "--test", str(test), "--model", str(tiny_encoder)]
    argv += ["--folds", "2", "--config", str(config), "--out", str(out), "-q"]
    assert main([*argv, "--devices", "2", "--strategy", "ddp"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    oof = pd.read_csv(out / "oof.csv")
    labels = metrics["labels"]
    for fold in metrics["folds"]:
        # rank 0's history came back: one entry per epoch, with the validation loss ...
        assert [h["epoch"] for h in fold["history"]] == [1, 2]
        # ... and its best epoch's weights predicted the held-out fold (every process
        # validated on the whole fold, so val_loss is the loss of these predictions)
        rows = oof[oof["fold"] == fold["fold"]]
        P = rows[[f"prob_{label}" for label in labels]].to_numpy()
        Y = rows[[f"true_{label}" for label in labels]].to_numpy()
        bce = -np.mean(Y * np.log(P) + (1 - Y) * np.log(1 - P))
        assert bce == pytest.approx(min(h["val_loss"] for h in fold["history"]), abs=1e-4)
    detector = Detector.load(out / "model")
    expected = pd.read_csv(out / "test_predictions.csv")
    prob = [f"prob_{label}" for label in detector.labels]
    texts = pd.read_csv(test)["text"].tolist()
    assert np.allclose(detector.predict_proba(texts), expected[prob].to_numpy(), atol=1e-6)


@pytest.mark.cluster
def test_one_fold_on_two_cpu_processes(tiny_encoder, sample_frame):
    from odio.config import TransformerConfig
    from odio.text.preprocess import preprocess_many
    from odio.training.finetune import EncoderTrainer

    texts = preprocess_many(sample_frame["text"].tolist()[:48])
    Y = (sample_frame[["Odio"]].to_numpy()[:48] >= 2).astype(int)
    config = TransformerConfig(
        max_epochs=1, batch_size=8, lr=3e-3, accelerator="cpu", devices="2", strategy="ddp"
    )
    trainer = EncoderTrainer(str(tiny_encoder), config)
    ids = trainer.encode(texts)
    member, history = trainer.fit(ids[:32], Y[:32], validation=(ids[32:], Y[32:]))
    assert [h["epoch"] for h in history] == [1]
    P = member.predict_proba(texts[32:])
    bce = -np.mean(Y[32:] * np.log(P) + (1 - Y[32:]) * np.log(1 - P))
    assert bce == pytest.approx(history[0]["val_loss"], abs=1e-4)


def test_only_the_first_process_of_a_launch_writes_the_run(split_files, tmp_path, monkeypatch):
    from odio.config import RunConfig
    from odio.training.run import is_first_process, train_run

    train, _ = split_files
    for name in ("RANK", "NODE_RANK", "SLURM_PROCID"):
        monkeypatch.delenv(name, raising=False)
    assert is_first_process()
    monkeypatch.setenv("RANK", "1")  # torchrun's second process
    assert not is_first_process()
    metrics = train_run(RunConfig.from_dict({"cv": {"folds": 2}}), train, tmp_path / "run")
    assert metrics["cv"] and not (tmp_path / "run").exists()
