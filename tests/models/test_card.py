"""The model card of a distilled model, whether or not its teacher's run had a test set."""

from __future__ import annotations

import odio
from odio.cli import main
from odio.inference.detector import Detector


def test_distilling_a_run_trained_without_a_test_set_writes_its_card(split_files, tmp_path, capsys):
    train, _ = split_files
    run = odio.fit(train, {"cv": {"folds": 2}}, progress=False).save(tmp_path / "run")
    out = tmp_path / "student"
    assert main(["distill", str(run), "--out", str(out), "-q"]) == 0, capsys.readouterr().err
    card = (out / "README.md").read_text()
    assert "## Distilled" in card and "fold models of `tfidf`" in card
    assert "no test scores: the teacher's run had no test set" in card
    assert Detector.load(out).predict_proba(["hola"]).shape[0] == 1


def test_a_distilled_card_shows_both_test_scores(tfidf_run, tmp_path):
    out = tmp_path / "student"
    assert main(["distill", str(tfidf_run), "--out", str(out), "-q"]) == 0
    card = (out / "README.md").read_text()
    assert "- teacher, test at the tuned thresholds:" in card
    assert "- student, test at the tuned thresholds:" in card
