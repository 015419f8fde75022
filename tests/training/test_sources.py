"""Training on several sources: extra files join every fold's training set, their missing
labels are unknown (left out of the fit), and only the main file is scored."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from odio.cli import main
from odio.config import DataConfig, SourceConfig, TfidfConfig, TransformerConfig
from odio.data.labelled import load_source
from odio.errors import OdioError
from odio.text.preprocess import preprocess_many
from odio.training.finetune import EncoderTrainer
from odio.training.tfidf import TfidfTrainer

LABELS = ["Odio", "Mujeres", "Comunidad LGBTQ+", "Comunidades Migrantes", "Pueblos Originarios"]


@pytest.fixture(scope="module")
def extra_csv(tmp_path_factory, sample_frame):
    """Another set: only a hate label (``hate``), no target groups, texts reworded."""
    path = tmp_path_factory.mktemp("extra") / "extra.csv"
    frame = pd.DataFrame(
        {
            "tweet": [f"{t} (reenviado)" for t in sample_frame["text"]],
            "hate": (sample_frame["Odio"] >= 2).astype(int),
            "corpus": np.where(np.arange(len(sample_frame)) % 2 == 0, "a", "b"),
        }
    )
    frame.to_csv(path, index=False)
    return path


def _unknown_values_do_not_matter(trainer, inputs, Y, known):
    """Fit twice, the unknown cells 0 then 1: the members must score alike."""
    flipped = np.where(known, Y, 1 - Y)
    a = trainer.fit(inputs, Y, known=known).member
    b = trainer.fit(inputs, flipped, known=known).member
    return a, b


def test_tfidf_leaves_unknown_labels_out_of_their_fit(sample_frame):
    texts = sample_frame["text"].tolist()
    Y = (sample_frame[LABELS].to_numpy() >= 2).astype(int)
    known = np.ones_like(Y, dtype=bool)
    known[100:, 1:] = False  # the last rows have no target labels
    a, b = _unknown_values_do_not_matter(TfidfTrainer(TfidfConfig()), texts, Y, known)
    np.testing.assert_array_equal(a.coef, b.coef)
    unmasked = TfidfTrainer(TfidfConfig()).fit(texts, np.where(known, Y, 1 - Y)).member
    assert not np.array_equal(unmasked.coef[1:], a.coef[1:])  # without the mask they would count
    np.testing.assert_array_equal(unmasked.coef[0], a.coef[0])  # Odio is known everywhere


def test_an_encoder_masks_unknown_labels_in_its_loss(tiny_encoder, sample_frame):
    texts = preprocess_many(sample_frame["text"].tolist()[:48])
    Y = (sample_frame[LABELS].to_numpy()[:48] >= 2).astype(int)
    known = np.ones_like(Y, dtype=bool)
    known[24:, 1:] = False
    trainer = EncoderTrainer(
        str(tiny_encoder),
        TransformerConfig(max_epochs=1, batch_size=16, lr=1e-3, pos_weight=True, accelerator="cpu"),
    )
    ids = trainer.encode(texts)
    a, b = _unknown_values_do_not_matter(trainer, ids, Y, known)
    np.testing.assert_allclose(a.predict_encoded(ids), b.predict_encoded(ids), atol=1e-6)


def test_cli_trains_on_several_files_and_scores_the_first(split_files, extra_csv, tmp_path):
    train, test = split_files
    out = tmp_path / "multi"
    cfg = tmp_path / "run.yaml"
    cfg.write_text(
        "data: {sources: [{path: PATH, text_column: tweet, labels: [hate=Odio]}]}\n".replace(
            "PATH", str(extra_csv)
        )
    )
    argv = ["train", str(train), "--test", str(test), "--config", str(cfg), "--folds", "3"]
    assert main([*argv, "--out", str(out), "-q"]) == 0
    oof = pd.read_csv(out / "oof.csv")
    assert len(oof) == len(pd.read_csv(train))  # only the main file is scored
    metrics = json.loads((out / "metrics.json").read_text())
    (source,) = metrics["data"]["sources"]
    assert source["rows_used"] == 158 and source["known"]["Odio"] == 158
    assert source["known"]["Mujeres"] == 0
    for fold in metrics["folds"]:  # every fold trains on the other folds and the whole source
        assert fold["train_rows"] == len(oof) - fold["val_rows"] + 158
    again = tmp_path / "again"
    assert (
        main(
            [
                "train",
                str(train),
                "--test",
                str(test),
                "--config",
                str(out / "config.yaml"),
                "--out",
                str(again),
                "-q",
            ]
        )
        == 0
    )
    pd.testing.assert_frame_equal(pd.read_csv(again / "oof.csv"), oof)


def test_where_and_positives_only(extra_csv):
    data = DataConfig(labels=LABELS)
    only_a = load_source(
        SourceConfig(
            path=str(extra_csv), text_column="tweet", labels=["hate=Odio"], where={"corpus": "a"}
        ),
        data,
    )
    assert len(only_a.texts) == 79
    positives = load_source(
        SourceConfig(
            path=str(extra_csv), text_column="tweet", labels=["hate=Odio"], positives_only=["Odio"]
        ),
        data,
    )
    assert positives.known[:, 0].tolist() == (positives.Y[:, 0] == 1).tolist()
    with pytest.raises(OdioError, match="label 'Hate' is not one of the run's labels"):
        load_source(
            SourceConfig(path=str(extra_csv), text_column="tweet", labels=["hate=Hate"]), data
        )
    with pytest.raises(OdioError, match="no rows where"):
        load_source(
            SourceConfig(
                path=str(extra_csv),
                text_column="tweet",
                where={"corpus": "z"},
                labels=["hate=Odio"],
            ),
            data,
        )
