"""Conversation context through every entry point: training (TF-IDF's context block),
the model directory, ``Detector.predict``, ``predict_file``, ``odio predict`` and
``POST /v1/predict``; and a model trained without context scoring exactly as before."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import odio
from odio.cli import main
from odio.errors import OdioError
from odio.inference.batch import predict_file
from odio.inference.detector import Detector
from odio.models.tfidf import TfidfModel
from odio.text.context import join_context

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "fixtures" / "no_context_golden.json"
MISSING_ID = "1999999999999999999"


def _id(i: int) -> str:
    return str(1079883904318930944 + i)  # 19 digits, as the Datathon's


@pytest.fixture(scope="module")
def context_files(tmp_path_factory, sample_frame) -> dict[str, Path]:
    """The sample split as the Datathon is: the first 48 tweets are the referenced ones
    (refs.csv), the others the labelled tweets (train.csv), every other one replying to
    one or two referenced tweets (one reference missing)."""
    folder = tmp_path_factory.mktemp("context")
    refs = sample_frame.iloc[:48]
    pd.DataFrame({"tweet_id": [_id(i) for i in range(48)], "text": refs["text"]}).to_csv(
        folder / "refs.csv"
    )
    train = sample_frame.iloc[48:].reset_index(drop=True).copy()
    cells = []
    for i in range(len(train)):
        if i % 2:
            cells.append("()")
        elif i % 6 == 0:
            cells.append(f"({_id(i % 48)}, {_id((i + 7) % 48)})")
        else:
            cells.append(f"({_id(i % 48)},)")
    cells[2] = f"({MISSING_ID},)"
    train.insert(0, "conversation_id", cells)
    train.insert(0, "tweet_id", [_id(1000 + i) for i in range(len(train))])
    train.to_csv(folder / "train.csv")
    return {"refs": folder / "refs.csv", "train": folder / "train.csv", "folder": folder}


@pytest.fixture(scope="module")
def context_run(tmp_path_factory, context_files) -> Path:
    config = {
        "cv": {"folds": 2},
        "data": {"labels": ["Odio", "Mujeres"], "context": {"path": str(context_files["refs"])}},
    }
    run = odio.fit(context_files["train"], config, progress=False)
    return run.save(tmp_path_factory.mktemp("runs") / "context")


def test_a_model_without_context_scores_as_before_the_change():
    """Probabilities written by odio before context existed (tests/fixtures), for the same
    data and settings: training and scoring must give them again, context or not."""
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    run = odio.fit(ROOT / golden["fit"]["data"], golden["fit"]["config"], progress=False)
    texts = golden["texts"]
    expected = np.array(golden["probabilities"])
    predicted = [p.probabilities for p in run.detector.predict(texts)]  # raw texts
    np.testing.assert_allclose([list(p.values()) for p in predicted], expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        run.detector.predict_proba(texts[:3]), expected[:3], rtol=0, atol=1e-12
    )
    oof = run.oof_predictions[["prob_Odio", "prob_Mujeres"]].head(20).to_numpy()
    np.testing.assert_allclose(oof, np.array(golden["oof_first_rows"]), rtol=0, atol=1e-12)
    # context given to a model trained without it changes nothing
    with_context = run.detector.predict_proba(texts, ["llegan migrantes"] * len(texts))
    np.testing.assert_allclose(with_context, expected, rtol=0, atol=1e-12)
    assert not run.detector.uses_context


def test_training_with_context_records_it(context_run):
    metrics = json.loads((context_run / "metrics.json").read_text(encoding="utf-8"))
    found = metrics["data"]["train"]["context"]
    assert found["missing"] == 1 and found["rows_with_context"] == found["rows_with_references"] - 1
    config = json.loads((context_run / "model" / "config.json").read_text(encoding="utf-8"))
    assert config["data"]["context"]["ref_column"] == "conversation_id"
    member = json.loads((context_run / "model" / "fold_0" / "config.json").read_text())
    assert member["context"] is True
    oof = pd.read_csv(context_run / "oof.csv")
    assert {"text", "context"} <= set(oof.columns)
    assert "\x1e" not in "".join(oof["text"])  # the tweet alone, its context beside it


def test_the_context_block_is_saved_loaded_and_read(context_run):
    detector = Detector.load(context_run)
    assert detector.uses_context
    member = detector.model.members[0]
    assert isinstance(member, TfidfModel) and member.uses_context
    assert {"context_char", "context_word"} <= set(member.vectorizers)
    tweet, context = "que se vuelvan todos", "las mujeres no sirven pa manejar weon"
    alone = detector.predict_proba([tweet])
    with_context = detector.predict_proba([tweet], [context])
    assert not np.allclose(alone, with_context)  # the context is read
    assert np.allclose(detector.predict_proba([tweet], [None]), alone)
    # the model as saved and as loaded again
    reloaded = Detector.load(detector.save(context_run.parent / "copy"))
    np.testing.assert_array_equal(reloaded.predict_proba([tweet], [context]), with_context)


def test_detector_predict_takes_context(context_run):
    detector = Detector.load(context_run)
    tweet, context = "que se vuelvan todos", "otra maraca llorando en twitter"
    one = detector.predict(tweet, context=context)
    P = detector.predict_proba([join_context(tweet, context)])  # joined already
    assert one.probabilities == pytest.approx(dict(zip(detector.labels, P[0], strict=True)))
    batch = detector.predict([tweet, "buen dia"], context=[context, None])
    assert batch[0].probabilities == one.probabilities
    assert batch[1].probabilities == detector.predict("buen dia").probabilities
    with pytest.raises(OdioError, match="2 texts but 1 contexts"):
        detector.predict([tweet, "buen dia"], context=[context])
    with pytest.raises(TypeError):
        detector.predict([tweet], context=context)


def test_predict_file_reads_a_context_file(context_run, context_files, tmp_path, caplog):
    detector = Detector.load(context_run)
    train = pd.read_csv(context_files["train"], dtype=str, keep_default_na=False)
    out = tmp_path / "scored.csv"
    config = detector.info["data"]["context"]
    from odio.config import ContextConfig

    with caplog.at_level(logging.WARNING, logger="odio"):
        report = predict_file(
            detector,
            context_files["train"],
            out,
            progress=False,
            context=ContextConfig(**config),
        )
    assert report.context is not None and report.context.missing == 1
    assert any("1 of" in r.getMessage() for r in caplog.records)
    scored = pd.read_csv(out, dtype={"tweet_id": str})
    assert scored["tweet_id"].tolist() == train["tweet_id"].tolist()  # 19 digits kept
    refs = pd.read_csv(context_files["refs"], dtype=str)
    lookup = dict(zip(refs["tweet_id"], refs["text"], strict=True))
    row = 0  # references two tweets, in order
    expected_context = " | ".join(lookup[i] for i in [_id(0), _id(7)])
    expected = detector.predict_proba([train["text"][row]], [expected_context])[0, 0]
    assert scored["prob_Odio"][row] == pytest.approx(expected)


def test_predict_file_reads_a_context_column(context_run, tmp_path):
    detector = Detector.load(context_run)
    source = tmp_path / "in.jsonl"
    pd.DataFrame(
        {"text": ["que se vuelvan todos", "hola"], "parent": ["llegan migrantes", None]}
    ).to_json(source, orient="records", lines=True)
    from odio.config import ContextConfig

    predict_file(
        detector,
        source,
        tmp_path / "out.jsonl",
        progress=False,
        context=ContextConfig(column="parent"),
    )
    scored = pd.read_json(tmp_path / "out.jsonl", lines=True)
    P = detector.predict_proba(["que se vuelvan todos", "hola"], ["llegan migrantes", None])
    np.testing.assert_allclose(scored["prob_Odio"], P[:, 0])


def test_odio_predict_with_context(context_run, context_files, tmp_path, capsys):
    out = tmp_path / "scored.csv"
    code = main(
        [
            "predict",
            str(context_run),
            str(context_files["train"]),
            "-o",
            str(out),
            "--context",
            str(context_files["refs"]),
            "--quiet",
        ]
    )
    assert code == 0 and "2 of" not in capsys.readouterr().err
    by_flag = pd.read_csv(out)
    # the model's own context settings (its file still exists) give the same scores
    assert (
        main(
            [
                "predict",
                str(context_run),
                str(context_files["train"]),
                "-o",
                str(tmp_path / "default.csv"),
                "--quiet",
            ]
        )
        == 0
    )
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "default.csv"), by_flag)
    capsys.readouterr()
    assert (
        main(
            [
                "predict",
                str(context_run),
                "--text",
                "que se vuelvan todos",
                "--context-text",
                "llegan migrantes",
                "--json",
            ]
        )
        == 0
    )
    printed = json.loads(capsys.readouterr().out)[0]
    expected = Detector.load(context_run).predict("que se vuelvan todos", "llegan migrantes")
    assert printed["probabilities"] == pytest.approx(expected.probabilities)
    assert (
        main(["predict", str(context_run), "--text", "a", "--text", "b", "--context-text", "c"])
        == 2
    )
    assert "give one per --text" in capsys.readouterr().err
    ray = ["predict", str(context_run), "x.csv", "--engine", "ray", "--context", "refs.csv"]
    assert main(ray) == 2 and "does not read conversation context" in capsys.readouterr().err


def test_http_predict_with_context(context_run):
    from fastapi.testclient import TestClient

    from odio.serve.app import create_app
    from odio.serve.settings import ServeSettings

    detector = Detector.load(context_run)
    settings = ServeSettings(max_chars=200)
    with TestClient(create_app(detector, settings)) as client:
        body = {
            "texts": ["que se vuelvan todos", "hola", "  "],
            "context": ["llegan migrantes", None, "contexto de un texto vacío"],
        }
        got = client.post("/v1/predict", json=body).json()["predictions"]
        P = detector.predict_proba(body["texts"][:2], body["context"][:2])
        assert [got[i]["probabilities"]["Odio"] for i in range(2)] == pytest.approx(P[:, 0])
        assert got[2]["probabilities"] is None  # an empty text is not scored
        plain = client.post("/v1/predict", json={"texts": ["hola"]}).json()["predictions"]
        assert plain[0] == got[1]
        wrong = client.post("/v1/predict", json={"texts": ["a", "b"], "context": ["c"]})
        assert wrong.status_code == 422 and "one entry per text" in wrong.text
        long = client.post("/v1/predict", json={"texts": ["a"], "context": ["x" * 201]})
        assert long.status_code == 422 and "context 0 has 201 characters" in long.text
