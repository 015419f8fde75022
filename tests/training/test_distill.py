"""Distillation: one student trained on a run's soft labels, a model like any other."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from odio.cli import main
from odio.inference.detector import Detector


def test_a_tfidf_student_learns_the_teachers_probabilities(
    tfidf_run, split_files, tmp_path, capsys
):
    train, test = split_files
    out = tmp_path / "student"
    new = ["ándate a tu país", "qué rico el completo", "los flaites otra vez"]
    unlabelled = tmp_path / "unlabelled.csv"
    pd.DataFrame(
        {
            "text": pd.read_csv(test)["text"].tolist()[:10]
            + [" " + t for t in pd.read_csv(train)["text"].tolist()[:5]]
            + new
            + new[:1]
        }
    ).to_csv(unlabelled, index=False)
    assert (
        main(["distill", str(tfidf_run), "--out", str(out), "--unlabelled", str(unlabelled)]) == 0
    )
    printed, err = capsys.readouterr()
    # test tweets would make the student's test score one on tweets it was taught with
    assert "left out 10 tweets of the test set, 5 of the training set and 1 repeats" in err
    assert "teacher on the run's test set" in printed and "student on the run's test set" in printed
    student, teacher = Detector.load(out), Detector.load(tfidf_run)
    assert len(student.model.members) == 1 and len(teacher.model.members) == 3
    np.testing.assert_array_equal(student.thresholds, teacher.thresholds)
    texts = pd.read_csv(test)["text"].tolist()
    gap = np.abs(student.predict_proba(texts) - teacher.predict_proba(texts)).mean()
    assert gap < 0.1  # it mimics the ensemble on tweets it never saw
    config = json.loads((out / "config.json").read_text())
    distilled_from = config["distilled_from"]
    assert distilled_from["members"] == 3 and distilled_from["unlabelled_rows"] == len(new)
    assert (
        "student" in config["distilled_from"]
        and "distilled" in (out / "README.md").read_text().lower()
    )


def test_an_encoder_student_saves_loads_predicts_and_exports(tiny_run, tmp_path):
    out = tmp_path / "tiny_student"
    assert main(["distill", str(tiny_run), "--out", str(out), "-q"]) == 0
    student = Detector.load(out)
    assert student.backend == "transformer" and len(student.model.members) == 1
    texts = ["ándate a tu país", "qué rico el completo"]
    student.save(tmp_path / "copy")
    np.testing.assert_allclose(
        Detector.load(tmp_path / "copy").predict_proba(texts), student.predict_proba(texts)
    )
    # int8 calibrates on the teacher run's training tweets
    assert main(["export", str(out), "--quantize", "int8", "-o", str(tmp_path / "onnx")]) == 0
    assert Detector.load(tmp_path / "onnx").predict_proba(texts).shape == (2, 5)


def test_unlabelled_tweets_are_compared_as_the_model_sees_them(tfidf_run, split_files, tmp_path):
    _, test = split_files
    tweet = pd.read_csv(test)["text"].tolist()[0]
    unlabelled = tmp_path / "unlabelled.csv"
    pd.DataFrame(
        {
            "text": [
                tweet.replace(" ", "   ") + "\n",  # the test tweet, to the model
                "jajajajaja ándate!!!!!",
                "jajaja  ándate!!!",  # the same tweet, to the model
                "qué rico el completo",
            ]
        }
    ).to_csv(unlabelled, index=False)
    out = tmp_path / "student"
    assert (
        main(["distill", str(tfidf_run), "--out", str(out), "--unlabelled", str(unlabelled), "-q"])
        == 0
    )
    config = json.loads((out / "config.json").read_text())
    assert config["distilled_from"]["unlabelled_rows"] == 2
