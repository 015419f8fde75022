from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import f1_score

from odio.cli import main


def test_help_lists_every_subcommand():
    out = subprocess.run(
        [sys.executable, "-m", "odio.cli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for command in ("train", "evaluate", "predict", "explain", "report", "compare"):
        assert command in out


def test_train_writes_the_run_directory(tfidf_run, split_files):
    train, _ = split_files
    assert {p.name for p in tfidf_run.iterdir()} == {
        ".odio-output.json",
        "config.yaml",
        "metrics.json",
        "oof.csv",
        "test_predictions.csv",
        "model",
    }
    config = yaml.safe_load((tfidf_run / "config.yaml").read_text())
    assert config["data"]["min_votes"] == 2 and config["cv"]["folds"] == 3
    metrics = json.loads((tfidf_run / "metrics.json").read_text())
    assert len(metrics["folds"]) == 3
    assert set(metrics["test"]) == {"at_0.5", "tuned"}
    oof = pd.read_csv(tfidf_run / "oof.csv")
    n_train = len(pd.read_csv(train))
    assert len(oof) == n_train == metrics["data"]["train"]["rows_used"]
    assert sorted(oof["fold"].unique().tolist()) == [0, 1, 2]
    assert oof["prob_Odio"].between(0, 1).all()


def test_train_prints_the_table(split_files, tmp_path, capsys):
    train, test = split_files
    assert (
        main(
            [
                "train",
                str(train),
                "--test",
                str(test),
                "--labels",
                "Odio",
                "--folds",
                "2",
                "--out",
                str(tmp_path / "r"),
                "-q",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    for row in (
        "fold 0 (0.5)",
        "fold 1 (0.5)",
        "mean ± std",
        "out-of-fold (tuned)",
        "test (0.5)",
        "test (tuned)",
    ):
        assert row in out
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["labels"] == ["Odio"]
    # single label: the headline is scikit-learn's two-class macro-F1, printed and saved
    assert metrics["metric"] == "macro_f1" and "f1_custom" not in out
    frame = pd.read_csv(tmp_path / "r" / "test_predictions.csv")
    s = metrics["test"]["tuned"]
    assert s["macro_f1"] == pytest.approx(
        f1_score(frame["true_Odio"], frame["pred_Odio"], average="macro")
    )
    assert f"{s['macro_f1']:.4f}" in out


def test_refuses_to_overwrite_a_run(tfidf_run, split_files, capsys):
    train, _ = split_files
    assert main(["train", str(train), "--out", str(tfidf_run)]) == 2
    assert "already holds a run" in capsys.readouterr().err


def test_predict_reproduces_the_runs_test_probabilities(tfidf_run, split_files, tmp_path):
    _, test = split_files
    out = tmp_path / "p.csv"
    assert main(["predict", str(tfidf_run / "model"), str(test), "-o", str(out), "-q"]) == 0
    scored = pd.read_csv(out)
    expected = pd.read_csv(tfidf_run / "test_predictions.csv")
    prob = [c for c in expected.columns if c.startswith("prob_")]
    assert len(prob) == 5
    assert np.array_equal(scored[prob].to_numpy(), expected[prob].to_numpy())
    pred = [c.replace("prob_", "pred_") for c in prob]
    assert np.array_equal(scored[pred].to_numpy(), expected[pred].to_numpy())


def test_predict_keeps_every_row_and_column_in_order(tfidf_run, tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text(
        ",tweet_id,text,extra\n"
        '0,0012,"hola weon",x\n'
        "1,0013,,y\n"
        '2,0014,"ándate a tu país, veneco culiao 😡",\n'
        '3,0015,"   ",z\n',
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    assert main(["predict", str(tfidf_run), str(src), "-o", str(out), "--chunksize", "2"]) == 0
    assert "4 rows written, 2 scored, 2 with an empty text" in capsys.readouterr().out
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith(",tweet_id,text,extra,prob_Odio,")
    scored = pd.read_csv(out, dtype={"tweet_id": str})
    assert scored["tweet_id"].tolist() == ["0012", "0013", "0014", "0015"]
    assert scored["prob_Odio"].isna().tolist() == [False, True, False, True]
    assert scored["pred_Odio"].isna().tolist() == [False, True, False, True]
    assert not list(tmp_path.glob(".out.csv.*"))  # no temporary file left behind


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_predict_other_formats(tfidf_run, sample_frame, tmp_path, suffix):
    src = tmp_path / f"in{suffix}"
    frame = sample_frame.head(7)
    if suffix == ".jsonl":
        frame.to_json(src, orient="records", lines=True, force_ascii=False)
    else:
        frame.to_parquet(src)
    out = tmp_path / f"out{suffix}"
    assert main(["predict", str(tfidf_run), str(src), "-o", str(out), "-q"]) == 0
    scored = pd.read_json(out, lines=True) if suffix == ".jsonl" else pd.read_parquet(out)
    assert scored["text"].tolist() == frame["text"].tolist()
    assert scored["prob_Odio"].notna().all()


def test_evaluate_matches_the_runs_test_score(tfidf_run, split_files, capsys):
    _, test = split_files
    assert main(["evaluate", str(tfidf_run), str(test), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    metrics = json.loads((tfidf_run / "metrics.json").read_text())
    assert result["tuned"]["f1_custom"] == pytest.approx(metrics["test"]["tuned"]["f1_custom"])
    assert result["tuned"]["macro_f1"] == pytest.approx(metrics["test"]["tuned"]["macro_f1"])
    assert main(["evaluate", str(tfidf_run), str(test)]) == 0
    assert "f1_custom" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "nope.csv", "--out", "r"], "error: file not found: nope.csv"),
        (["predict", "no_model_here", "x.csv"], "error: model directory not found"),
        (
            ["train", "x.csv", "--out", "r", "--folds", "0"],
            "error: setting 'cv.folds' (--folds): input should be greater than or equal to 1",
        ),
        (
            ["train", "x.csv", "--out", "r", "--lr", "fast"],
            "error: setting 'transformer.lr' (--lr)",
        ),
        (
            ["train", "x.csv", "--out", "r", "--lr", "nan"],
            "error: setting 'transformer.lr' (--lr): input should be a finite number, got 'nan'",
        ),
        (
            ["train", "x.csv", "--out", "r", "--model", "tfidff"],
            "error: --model 'tfidff' is not a backend odio knows; did you mean 'tfidf'?",
        ),
        (
            ["train", "x.csv", "--out", "r", "--model", "stack:tfidf+./no/encoder"],
            "error: --model './no/encoder': model directory not found",
        ),
    ],
)
def test_user_mistakes_are_one_line_errors(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(message)
    assert "Traceback" not in err and len(err.splitlines()) == 1


def test_config_file_with_flags_overriding(split_files, tmp_path):
    train, _ = split_files
    cfg = tmp_path / "run.yaml"
    cfg.write_text(
        "cv:\n  folds: 4\ndata:\n  labels: [Odio, Mujeres]\ntfidf:\n  C: 3\n"
        "preprocess:\n  emoji: true\n"
    )
    out = tmp_path / "r"
    assert (
        main(["train", str(train), "--config", str(cfg), "--folds", "2", "--out", str(out), "-q"])
        == 0
    )
    saved = yaml.safe_load((out / "config.yaml").read_text())
    assert saved["cv"]["folds"] == 2 and saved["tfidf"]["C"] == 3.0
    assert saved["data"]["labels"] == ["Odio", "Mujeres"]
    # the steps given are used as given, the others take the backend's defaults (TF-IDF
    # keeps links as written) and are all recorded
    assert saved["preprocess"]["emoji"] is True and saved["preprocess"]["url"] is False
    assert saved["preprocess"]["laughter"] is True
    model_config = json.loads((out / "model" / "config.json").read_text())
    assert model_config["preprocess"] == saved["preprocess"]


def test_a_runs_config_reproduces_it(split_files, tmp_path):
    """odio train --config RUN/config.yaml gives the same out-of-fold probabilities."""
    train, test = split_files
    first, second = tmp_path / "first", tmp_path / "second"
    cfg = tmp_path / "run.yaml"
    cfg.write_text("cv: {folds: 3, seed: 7}\ntfidf: {C: 2e0, min_df: 1}\n")
    argv = ["train", str(train), "--test", str(test), "--labels", "Odio", "Mujeres", "-q"]
    assert main([*argv, "--config", str(cfg), "--out", str(first)]) == 0
    again = ["train", str(train), "--test", str(test), "--config", str(first / "config.yaml")]
    assert main([*again, "--out", str(second), "-q"]) == 0
    a, b = pd.read_csv(first / "oof.csv"), pd.read_csv(second / "oof.csv")
    assert list(a.columns) == list(b.columns) and "prob_Mujeres" in a
    pd.testing.assert_frame_equal(a, b)
    assert (first / "config.yaml").read_text() == (second / "config.yaml").read_text()


def test_a_runs_config_reproduces_an_encoder_run(tiny_run, split_files, tmp_path):
    train, test = split_files
    out = tmp_path / "again"
    argv = ["train", str(train), "--test", str(test), "--config", str(tiny_run / "config.yaml")]
    assert main([*argv, "--out", str(out), "-q"]) == 0
    prob = [c for c in pd.read_csv(out / "oof.csv").columns if c.startswith("prob_")]
    np.testing.assert_allclose(
        pd.read_csv(out / "oof.csv")[prob], pd.read_csv(tiny_run / "oof.csv")[prob], atol=1e-6
    )


def test_overwrite_leaves_nothing_of_the_previous_run(split_files, tmp_path):
    train, test = split_files
    out = tmp_path / "run"
    assert (
        main(["train", str(train), "--test", str(test), "--folds", "2", "--out", str(out), "-q"])
        == 0
    )
    from odio.reports.report import write_report

    write_report(out)  # written into the run: replaced with it
    assert main(["train", str(train), "--folds", "3", "--out", str(out), "--overwrite", "-q"]) == 0
    names = {p.name for p in out.iterdir()}
    assert names == {".odio-output.json", "config.yaml", "metrics.json", "oof.csv", "model"}
    assert sorted(p.name for p in (out / "model").glob("fold_*")) == ["fold_0", "fold_1", "fold_2"]
    assert not list(tmp_path.glob(".run.*"))  # no staging folder left behind
    markdown = write_report(out).markdown.read_text()
    assert "| test (tuned)" not in markdown and "Per label, test" not in markdown
    assert "| test data | none (no test set was given) |" in markdown


def test_a_failed_run_leaves_the_previous_one_intact(split_files, tmp_path, monkeypatch, capsys):
    train, _ = split_files
    out = tmp_path / "run"
    assert main(["train", str(train), "--folds", "2", "--out", str(out), "-q"]) == 0
    before = (out / "oof.csv").read_text()

    def broken(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("odio.training.fit.save_model", broken)
    assert (
        main(["train", str(train), "--folds", "3", "--out", str(out), "--overwrite", "-q"]) == 130
    )
    assert (out / "oof.csv").read_text() == before
    assert not list(tmp_path.glob(".run.*"))


def test_out_is_never_a_folder_of_the_users(split_files, tmp_path, capsys):
    train, _ = split_files
    nested = tmp_path / "runs" / "new" / "run"  # missing parents are created
    assert main(["train", str(train), "--folds", "2", "--out", str(nested), "-q"]) == 0
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    assert main(["train", str(train), "--out", str(mine), "--overwrite", "-q"]) == 2
    assert "is a folder that is not an odio run" in capsys.readouterr().err
    assert (mine / "notes.txt").read_text() == "keep me"
    run = tmp_path / "run"
    assert main(["train", str(train), "--folds", "2", "--out", str(run), "-q"]) == 0
    inside = run / "train.csv"
    inside.write_bytes(train.read_bytes())
    assert main(["train", str(inside), "--out", str(run), "--overwrite", "-q"]) == 2
    assert "is inside" in capsys.readouterr().err and inside.exists()


def test_predict_scores_texts_given_on_the_command_line(tfidf_run, capsys):
    from odio.inference.detector import Detector

    texts = ["ándate a tu país culiao", "qué rico el completo"]
    argv = ["predict", str(tfidf_run), "--text", texts[0], "--text", texts[1]]
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == texts[0] and out[3] == texts[1]
    assert out[1].startswith("  positive: ") and "Odio 0." in out[2]
    assert main([*argv, "--json"]) == 0
    scored = json.loads(capsys.readouterr().out)
    expected = Detector.load(tfidf_run).predict(texts)
    assert [s["text"] for s in scored] == texts
    assert [s["probabilities"] for s in scored] == [p.probabilities for p in expected]
    for wrong in ([], ["some.csv", "--text", "hola"]):
        assert main(["predict", str(tfidf_run), *wrong]) == 2
        assert "give a file to score" in capsys.readouterr().err


def test_info_describes_a_model(tfidf_run, capsys):
    assert main(["info", str(tfidf_run)]) == 0
    out = capsys.readouterr().out
    for fact in ("backend", "tfidf", "thresholds", "Odio 0.", "f1_custom tuned", "megabytes"):
        assert fact in out
    assert main(["info", str(tfidf_run / "model"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["members"] == 3 and info["labels"][0] == "Odio" and info["megabytes"] > 0
    assert set(info["scores_tuned"]) == {"oof", "test"}
    assert "scikit-learn" in info["trained_with"]
    assert main(["info", str(tfidf_run / "nope")]) == 2
    assert "model directory not found" in capsys.readouterr().err


def test_quiet_keeps_only_warnings_and_errors(split_files, tmp_path, capsys):
    train, _ = split_files
    argv = ["train", str(train), "--folds", "2", "--out", str(tmp_path / "r")]
    assert main([*argv, "-q"]) == 0
    assert "INFO" not in capsys.readouterr().err
    assert main([*argv, "--overwrite"]) == 0
    assert "INFO: " in capsys.readouterr().err
