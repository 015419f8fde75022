"""Where the folds run: the local engine and Ray tasks give the same run directory."""

from __future__ import annotations

import json
import logging
import sys

import numpy as np
import pytest

from odio.cli import main
from odio.config import RunConfig, TfidfConfig
from odio.errors import OdioError
from odio.training.engines import FoldFailed, LocalEngine, RayEngine, create_engine
from odio.training.run import train_run
from odio.training.tfidf import TfidfTrainer

TIMES = ("seconds", "train_seconds", "engine")


def comparable(metrics: dict) -> dict:
    """metrics.json without what depends on where and how fast the folds ran."""
    out = {k: v for k, v in metrics.items() if k not in TIMES}
    out["folds"] = [{k: v for k, v in f.items() if k != "seconds"} for f in metrics["folds"]]
    return out


def test_local_engine_runs_the_folds_in_order():
    seen = []
    results = LocalEngine().run_folds(
        lambda shared, fold: shared + fold,
        10,
        [0, 1, 2],
        started=lambda fold: seen.append(("start", fold)),
        done=lambda fold, result: seen.append(("done", fold, result)),
    )
    assert results == [10, 11, 12]
    assert seen[:3] == [("start", 0), ("done", 0, 10), ("start", 1)]


def test_without_the_extra_engine_ray_is_one_line(split_files, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now fails
    train, _ = split_files
    out = tmp_path / "run"
    assert main(["train", str(train), "--out", str(out), "--engine", "ray", "-q"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "error: --engine ray needs the 'ray' extra (ray is not installed): "
        "pip install 'odio[ray]'\n"
    )
    assert not out.exists()
    with pytest.raises(OdioError, match="--engine must be one of local, ray"):
        create_engine("dask")
    assert main(["train", str(train), "--out", str(out), "--fold-gpus", "1", "-q"]) == 2
    assert capsys.readouterr().err == (
        "error: --fold-gpus is a setting of --engine ray: add --engine ray or drop it\n"
    )


@pytest.mark.cluster
def test_ray_engine_writes_what_the_local_engine_writes(
    ray_local, tfidf_run, split_files, tmp_path
):
    train, test = split_files
    out = tmp_path / "ray"
    argv = ["train", str(train), "--test", str(test), "--folds", "3", "--out", str(out)]
    assert main([*argv, "--engine", "ray", "--fold-cpus", "1", "--quiet"]) == 0
    for name in ("oof.csv", "test_predictions.csv", "config.yaml"):
        assert (out / name).read_bytes() == (tfidf_run / name).read_bytes(), name
    ray_metrics = json.loads((out / "metrics.json").read_text())
    local_metrics = json.loads((tfidf_run / "metrics.json").read_text())
    assert comparable(ray_metrics) == comparable(local_metrics)
    assert ray_metrics["engine"] == {"name": "ray", "fold_cpus": 1.0, "fold_gpus": 0.0}
    assert local_metrics["engine"] == {"name": "local"}
    model_files = sorted(p.relative_to(out) for p in (out / "model").rglob("*") if p.is_file())
    assert model_files == sorted(
        p.relative_to(tfidf_run) for p in (tfidf_run / "model").rglob("*") if p.is_file()
    )
    for path in model_files:
        assert (out / path).read_bytes() == (tfidf_run / path).read_bytes(), path


class FailsOnFold(TfidfTrainer):
    """Fails on the fold whose first held-out text is ``marker``."""

    marker = ""

    def fit(self, inputs, Y, validation=None, **options):
        if validation is not None and validation[0][0] == self.marker:
            raise ValueError("the solver diverged")
        return super().fit(inputs, Y, validation, **options)


@pytest.mark.cluster
def test_a_failing_fold_fails_the_run_cleanly(
    ray_local, split_files, tmp_path, monkeypatch, caplog
):
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import it
    from odio.data.folds import make_folds
    from odio.data.labelled import load_labelled
    from odio.text.preprocess import preprocess_many
    from odio.training.trainers import default_preprocess

    config = RunConfig.from_dict({"cv": {"folds": 3}})
    train, _ = split_files
    data = load_labelled(train, config.data, training=True)
    folds = make_folds(data.Y, 3, config.cv.seed, config.cv.split)
    trainer = FailsOnFold(TfidfConfig(), seed=config.cv.seed)
    texts = preprocess_many(data.texts, default_preprocess("tfidf"))
    trainer.marker = texts[np.flatnonzero(folds == 1)[0]]
    monkeypatch.setattr("odio.training.cv.create_trainer", lambda config: trainer)
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("an earlier run")  # not a run: would be refused anyway
    out = tmp_path / "fresh"
    with caplog.at_level(logging.ERROR, logger="odio"), pytest.raises(FoldFailed) as info:
        train_run(config, train, out, progress=False, engine=RayEngine())
    assert str(info.value) == (
        "fold 2/3 failed on Ray: ValueError: the solver diverged (traceback above)"
    )
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "fold 2/3 failed on Ray; its traceback:" in logged
    assert 'in fit\n    raise ValueError("the solver diverged")' in logged
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # nothing half-written


@pytest.mark.cluster
def test_fold_results_are_assembled_in_fold_order(ray_local):
    engine = RayEngine()
    finished = []
    results = engine.run_folds(
        _slow_square, None, [0, 1, 2, 3], done=lambda fold, r: finished.append(fold)
    )
    assert results == [0, 1, 4, 9]
    assert sorted(finished) == [0, 1, 2, 3]


def _slow_square(shared, fold):
    import time

    time.sleep(0.3 * (3 - fold))  # later folds finish first
    return fold * fold


@pytest.mark.cluster
@pytest.mark.slow  # Ray workers importing torch and Lightning: 7-20 s
def test_encoder_folds_on_ray_match_the_local_ones(ray_local, tiny_encoder, sample_frame):
    """Members trained in Ray workers come back to this process and predict as there."""
    from odio.config import TransformerConfig
    from odio.text.preprocess import preprocess_many
    from odio.training.cv import cross_validate
    from odio.training.finetune import EncoderTrainer

    labels = ["Odio", "Mujeres"]
    texts = preprocess_many(sample_frame["text"].tolist())
    Y = (sample_frame[labels].to_numpy() >= 2).astype(int)
    folds = np.arange(len(texts)) % 2
    config = TransformerConfig(max_epochs=1, batch_size=16, lr=1e-3, accelerator="cpu")
    runs = [
        cross_validate(
            EncoderTrainer(str(tiny_encoder), config),
            texts,
            Y,
            labels,
            folds,
            test_texts=texts[:9],
            progress=False,
            engine=engine,
        )
        for engine in (LocalEngine(), RayEngine())
    ]
    here, there = runs
    assert np.allclose(here.oof, there.oof, atol=1e-5)
    assert np.allclose(here.test, there.test, atol=1e-5)
    assert [f.history[0]["epoch"] for f in there.folds] == [1, 1]
    member = there.members[0]
    assert member.device.type == "cpu"
    assert np.allclose(
        member.predict_proba(texts[:9]), here.members[0].predict_proba(texts[:9]), atol=1e-5
    )
