"""A user's own data as it comes: TSV with quotes and ids, text labels, another label column
name, a single label; the field's metrics; thresholds and the decision rule."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score

from odio.cli import main
from odio.inference.detector import Detector


@pytest.fixture(scope="module")
def hateval_tsv(tmp_path_factory, sample_frame):
    """The sample as a HatEval-style TSV: id, text (with quotes), HS 0/1, AG as text."""
    folder = tmp_path_factory.mktemp("own")
    frame = pd.DataFrame(
        {
            "id": [f"t{1000 + i}" for i in range(len(sample_frame))],
            "text": [f'"{t}"' if i % 7 == 0 else t for i, t in enumerate(sample_frame["text"])],
            "HS": (sample_frame["Odio"] >= 2).astype(int),
            "AG": np.where(sample_frame["Mujeres"] >= 2, "aggressive", "calm"),
        }
    )
    frame["text"] = frame["text"].str.replace("\t", " ").str.replace("\n", " ")
    path = folder / "hateval.tsv"
    lines = ["id\ttext\tHS\tAG"] + [
        f"{r.id}\t{r.text}\t{r.HS}\t{r.AG}" for r in frame.itertuples(index=False)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, frame


@pytest.fixture(scope="module")
def hateval_run(hateval_tsv, tmp_path_factory):
    path, _ = hateval_tsv
    out = tmp_path_factory.mktemp("runs") / "hateval"
    argv = ["train", str(path), "--labels", "HS=Odio", "--folds", "3", "--out", str(out), "-q"]
    assert main(argv) == 0
    return out


def test_a_tsv_with_quotes_ids_and_a_renamed_label(hateval_run, hateval_tsv, capsys):
    _, frame = hateval_tsv
    oof = pd.read_csv(hateval_run / "oof.csv", dtype={"id": str})
    assert oof["row"].tolist() == list(range(len(frame)))  # 0-based positions in the file
    assert oof["id"].tolist() == frame["id"].tolist()
    assert oof["text"].tolist() == frame["text"].tolist()  # quotes kept as written
    metrics = json.loads((hateval_run / "metrics.json").read_text())
    assert metrics["labels"] == ["Odio"] and metrics["metric"] == "macro_f1"
    assert metrics["data"]["train"]["label_format"] == "binary"
    assert metrics["min_votes"] is None
    assert metrics["threshold_objectives"] == {"Odio": "macro_f1"}
    expected = f1_score(oof["true_Odio"], oof["pred_Odio"], average="macro")
    assert metrics["oof"]["tuned"]["macro_f1"] == pytest.approx(expected)


def test_text_labels_with_positive(hateval_tsv, tmp_path, capsys):
    path, frame = hateval_tsv
    out = tmp_path / "ag"
    argv = ["train", str(path), "--labels", "AG", "--positive", "aggressive", "--folds", "2"]
    assert main([*argv, "--out", str(out), "-q"]) == 0
    printed = capsys.readouterr().out
    assert "read as text" in printed and "macro_f1" in printed
    oof = pd.read_csv(out / "oof.csv")
    assert oof["true_AG"].tolist() == (frame["AG"] == "aggressive").astype(int).tolist()


def test_evaluate_a_datathon_model_on_a_file_with_another_label_name(
    tfidf_run, hateval_tsv, capsys
):
    path, frame = hateval_tsv
    assert main(["evaluate", str(tfidf_run), str(path), "--labels", "HS=Odio", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["labels"] == ["Odio"] and result["metric"] == "macro_f1"
    assert result["data"]["label_format"] == "binary"
    detector = Detector.load(tfidf_run)
    P = detector.predict_proba(frame["text"].tolist())[:, 0]
    pred = (P >= detector.thresholds[0]).astype(int)
    assert result["tuned"]["macro_f1"] == pytest.approx(
        f1_score(frame["HS"], pred, average="macro")
    )
    assert main(["evaluate", str(tfidf_run), str(path), "--labels", "HS=Odio"]) == 0
    assert "macro_f1" in capsys.readouterr().out
    assert main(["evaluate", str(tfidf_run), str(path), "--labels", "HS=Hate"]) == 2
    assert "the model has no label 'Hate'" in capsys.readouterr().err


def test_thresholds_can_be_set_when_scoring(tfidf_run, split_files, tmp_path, capsys):
    _, test = split_files
    out = tmp_path / "p.csv"
    argv = ["predict", str(tfidf_run), str(test), "-o", str(out), "-q"]
    assert main([*argv, "--threshold", "Odio=0.99"]) == 0
    scored = pd.read_csv(out)
    assert scored["pred_Odio"].tolist() == (scored["prob_Odio"] >= 0.99).astype(int).tolist()
    assert main([*argv, "--threshold", "Odio=high"]) == 2
    assert "--threshold takes LABEL=VALUE" in capsys.readouterr().err
    assert main([*argv, "--threshold", "Nope=0.5"]) == 2
    assert "unknown label 'Nope'" in capsys.readouterr().err
    detector = Detector.load(tfidf_run)
    strict = detector.with_thresholds({"Odio": 0.9}, decision_rule="targets_require_main")
    assert strict.thresholds[0] == 0.9 and detector.thresholds[0] != 0.9
    assert strict.model is detector.model


def test_predict_reads_stdin_and_writes_stdout(tfidf_run, split_files):
    _, test = split_files
    frame = pd.read_csv(test)
    run = subprocess.run(
        [sys.executable, "-m", "odio.cli", "predict", str(tfidf_run), "-", "-q"],
        input=frame.to_csv(index=False),
        capture_output=True,
        text=True,
        check=True,
    )
    scored = pd.read_csv(io.StringIO(run.stdout))
    assert scored["text"].tolist() == frame["text"].tolist()
    expected = pd.read_csv(tfidf_run / "test_predictions.csv")
    np.testing.assert_allclose(scored["prob_Odio"], expected["prob_Odio"])
    assert "rows written" in run.stderr  # the summary goes to stderr, the data to stdout


def test_targets_can_require_the_main_label(split_files, tmp_path):
    train, test = split_files
    out = tmp_path / "gated"
    argv = ["train", str(train), "--test", str(test), "--folds", "2"]
    assert main([*argv, "--decision-rule", "targets_require_main", "--out", str(out), "-q"]) == 0
    predictions = pd.read_csv(out / "test_predictions.csv")
    targets = [c for c in predictions.columns if c.startswith("pred_") and c != "pred_Odio"]
    assert not (predictions[targets].sum(axis=1) > 0)[predictions["pred_Odio"] == 0].any()
    detector = Detector.load(out)
    assert detector.decision_rule == "targets_require_main"
    D = detector.decide(detector.predict_proba(predictions["text"].tolist()))
    assert not D[D[:, 0] == 0, 1:].any()


def test_threshold_objective_is_used_and_recorded(split_files, tmp_path):
    train, _ = split_files
    out = tmp_path / "precise"
    argv = ["train", str(train), "--labels", "Odio", "--folds", "3"]
    assert main([*argv, "--threshold-objective", "precision>=0.9", "--out", str(out), "-q"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["threshold_objectives"] == {"Odio": "precision>=0.9"}
    oof = pd.read_csv(out / "oof.csv")
    precision = (oof["true_Odio"] & oof["pred_Odio"]).sum() / max(oof["pred_Odio"].sum(), 1)
    assert precision >= 0.9 or oof["pred_Odio"].sum() == 0
