"""Resume points of a one-model run (stage 1): a stopped run continues where it stopped."""

from __future__ import annotations

import numpy as np
import pytest

import odio
from odio.cli import main
from odio.training.lit_module import FineTuner

TRAIN = {"max_epochs": 2, "batch_size": 16, "lr": 3e-3, "accelerator": "cpu"}
EVERY_BATCH = {**TRAIN, "checkpoint_minutes": 1e-9}
"""A resume point after every training batch."""


class Stop(Exception):
    """The machine going away in the middle of an epoch."""


def _count_steps(monkeypatch, stop_at: int | None = None) -> list[int]:
    """Count FineTuner.training_step calls; raise :class:`Stop` at call ``stop_at``."""
    calls: list[int] = []
    step = FineTuner.training_step

    def counted(self, batch, batch_idx):
        calls.append(batch_idx)
        if stop_at is not None and len(calls) == stop_at:
            raise Stop
        return step(self, batch, batch_idx)

    monkeypatch.setattr(FineTuner, "training_step", counted)
    return calls


def test_a_stopped_one_model_run_resumes_where_it_stopped(
    split_files, tiny_encoder, tmp_path, monkeypatch
):
    train, test = split_files
    config = {"model": str(tiny_encoder), "cv": {"folds": 1}, "transformer": EVERY_BATCH}
    steps = _count_steps(monkeypatch)
    whole = odio.fit(train, config, test=test, progress=False, checkpoints=tmp_path / "a")
    per_epoch = len(steps) // 2
    assert per_epoch >= 4

    monkeypatch.undo()
    stop_at = per_epoch + 3  # the third batch of the second epoch
    _count_steps(monkeypatch, stop_at=stop_at)
    with pytest.raises(Stop):
        odio.fit(train, config, test=test, progress=False, checkpoints=tmp_path / "b")
    assert (tmp_path / "b" / "resume.ckpt").is_file()

    monkeypatch.undo()
    resumed_steps = _count_steps(monkeypatch)
    resumed = odio.fit(train, config, test=test, progress=False, checkpoints=tmp_path / "b")
    # only the batches not yet trained, in their places in the epoch's order
    assert resumed_steps == list(range(stop_at - 1 - per_epoch, per_epoch))
    np.testing.assert_allclose(
        resumed.test_predictions["prob_Odio"], whole.test_predictions["prob_Odio"], atol=1e-6
    )


def test_odio_train_keeps_a_partial_run_and_resume_refuses_what_differs(
    split_files, tiny_encoder, tmp_path, capsys, monkeypatch
):
    train, _ = split_files
    out = tmp_path / "stage1"
    argv = ["train", str(train), "--model", str(tiny_encoder), "--folds", "1", "--epochs", "1"]
    argv += ["--out", str(out), "-q"]
    _count_steps(monkeypatch, stop_at=3)
    with pytest.raises(Stop):
        main(argv)
    partial = tmp_path / "stage1.partial"
    assert (partial / "run.json").is_file() and not out.exists()

    monkeypatch.undo()
    assert main(argv) == 2  # neither --resume nor --overwrite: the unfinished run is kept
    assert "--resume continues it" in capsys.readouterr().err and partial.is_dir()
    assert main([*argv, "--resume", "--lr", "0.1"]) == 2
    assert "other settings or data" in capsys.readouterr().err
    assert main([*argv, "--resume"]) == 0
    assert (out / "model").is_dir() and not partial.exists()

    kfold = ["train", str(train), "--folds", "2", "--resume", "--out", str(tmp_path / "k")]
    assert main(kfold) == 2
    assert "a cross-validation starts again" in capsys.readouterr().err
