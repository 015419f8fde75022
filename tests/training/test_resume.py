"""Resume points of an encoder run: a stopped run continues where it stopped, and ends as an
uninterrupted one would."""

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
    cached = {**EVERY_BATCH, "freeze_layers": 1, "cache_frozen": True}  # as stage 1 trains
    config = {"model": str(tiny_encoder), "cv": {"folds": 1}, "transformer": cached}
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

    tfidf = ["train", str(train), "--resume", "--out", str(tmp_path / "tfidf")]
    assert main(tfidf) == 2
    assert "TF-IDF, a stack or folds on Ray start again" in capsys.readouterr().err


def test_a_stopped_cross_validation_keeps_its_finished_folds(
    split_files, tiny_encoder, tmp_path, monkeypatch
):
    train, test = split_files
    ear = {**EVERY_BATCH, "ear_weight": 0.01}  # attention outputs: hooks on the encoder
    config = {"model": str(tiny_encoder), "cv": {"folds": 2}, "transformer": ear}
    steps = _count_steps(monkeypatch)
    whole = odio.fit(train, config, test=test, progress=False, checkpoints=tmp_path / "a")
    assert (tmp_path / "a" / "fold_1" / "fold.json").is_file()

    monkeypatch.undo()
    _count_steps(monkeypatch, stop_at=len(steps) - 1)  # the last batch of the last fold
    with pytest.raises(Stop):
        odio.fit(train, config, test=test, progress=False, checkpoints=tmp_path / "b")
    assert (tmp_path / "b" / "fold_0" / "fold.json").is_file()
    assert not (tmp_path / "b" / "fold_1" / "fold.json").exists()
    assert not list((tmp_path / "b" / "fold_0").glob("*.ckpt"))  # done: checkpoints gone

    monkeypatch.undo()
    resumed_steps = _count_steps(monkeypatch)
    resumed = odio.fit(train, config, test=test, progress=False, checkpoints=tmp_path / "b")
    assert len(resumed_steps) == 2  # fold 0 read back; fold 1 from its last resume point
    for frame in ("oof_predictions", "test_predictions"):
        np.testing.assert_allclose(
            getattr(resumed, frame)["prob_Odio"], getattr(whole, frame)["prob_Odio"], atol=1e-6
        )

    def losses(run):
        return [[e["val_loss"] for e in f["history"]] for f in run.metrics["folds"]]

    assert len(losses(whole)[1]) == 2  # the stop came in the second epoch of fold 1
    np.testing.assert_allclose(losses(resumed), losses(whole), atol=1e-6)
