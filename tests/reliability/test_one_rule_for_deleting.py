"""One rule for deleting: odio replaces a folder only when its marker says odio wrote it,
as the same kind of output, and it holds nothing else; the current folder, a folder holding
it, and an input are refused before any work starts (see odio.files.check_replaceable)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from odio.cli import main
from odio.files import MARKER


def _error(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines and "Traceback" not in "\n".join(lines)
    return lines[-1]


def _never(*args, **kwargs):
    raise AssertionError("work started before the output was checked")


# What each command does first, once its output is checked: it must not be reached.
FIRST_WORK = {
    "train": "odio.training.run.fit",
    "distill": "odio.training.distill.read_run",
    "evaluate": "odio.inference.evaluate.Detector.load",
    "export": "odio.models.modeldir.model_tokenizer",
}


@pytest.mark.parametrize("command", list(FIRST_WORK))
def test_a_users_folder_is_never_replaced(command, writer_argv, tmp_path, monkeypatch, capsys):
    """A project with a config.json, a notes.txt: not odio's, so --overwrite refuses it."""
    if command == "export":
        pytest.importorskip("onnx")
    mine = tmp_path / "project"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    (mine / "config.json").write_text(json.dumps({"runtime": "onnx", "labels": ["Odio"]}))
    monkeypatch.setattr(FIRST_WORK[command], _never)
    assert main([*writer_argv(command, mine), "--overwrite"]) == 2
    assert "is a folder that is not an odio" in _error(capsys)
    assert sorted(p.name for p in mine.iterdir()) == ["config.json", "notes.txt"]


@pytest.mark.parametrize("command", list(FIRST_WORK))
def test_the_current_folder_is_refused_before_any_work(
    command, writer_argv, tmp_path, monkeypatch, capsys
):
    if command == "export":
        pytest.importorskip("onnx")
    here = tmp_path / "here"
    here.mkdir()
    argv = writer_argv(command, here)  # the fixtures first: they may train
    monkeypatch.chdir(here)
    monkeypatch.setattr(FIRST_WORK[command], _never)
    for out in (".", str(tmp_path)):  # the current folder, and a folder holding it
        out_at = argv.index("--out" if "--out" in argv else "-o") + 1
        assert main([*argv[:out_at], out, *argv[out_at + 1 :], "--overwrite"]) == 2
        assert "is the current folder or holds it" in _error(capsys)
    assert here.is_dir() and list(here.iterdir()) == []


@pytest.mark.parametrize("command", ["train", "distill", "evaluate"])
def test_a_file_the_user_added_to_an_output_is_kept(command, writer_argv, tmp_path, capsys):
    out = tmp_path / "out"
    argv = writer_argv(command, out)
    assert main(argv) == 0
    (out / "notes.txt").write_text("mine")
    capsys.readouterr()
    assert main([*argv, "--overwrite"]) == 2
    assert "holds notes.txt, which odio did not write there" in _error(capsys)
    assert (out / "notes.txt").read_text() == "mine"
    (out / "notes.txt").unlink()
    assert main([*argv, "--overwrite"]) == 0  # its own output, as it wrote it: replaced


def test_a_file_the_user_added_to_an_export_is_kept(tiny_run, tmp_path, capsys):
    pytest.importorskip("onnx")
    out = tmp_path / "onnx"
    assert main(["export", str(tiny_run), "-o", str(out), "-q"]) == 0
    (out / "calibration.csv").write_text("text\nhola\n")
    assert main(["export", str(tiny_run), "-o", str(out), "-q", "--overwrite"]) == 2
    assert "holds calibration.csv, which odio did not write there" in _error(capsys)
    assert (out / "calibration.csv").is_file()


def test_an_extra_training_source_inside_the_old_run_is_kept(split_files, tmp_path, capsys):
    train, _ = split_files
    run = tmp_path / "run"
    assert main(["train", str(train), "--folds", "2", "--out", str(run), "-q"]) == 0
    extra = run / "extra.csv"
    pd.read_csv(train).head(20).to_csv(extra, index=False)
    capsys.readouterr()
    argv = ["train", str(train), str(extra), "--folds", "2", "--out", str(run), "--overwrite"]
    assert main([*argv, "-q"]) == 2
    assert "extra.csv" in _error(capsys) and extra.is_file()


def test_distill_never_replaces_the_teachers_model(tfidf_run, tmp_path, monkeypatch, capsys):
    teacher = Path(shutil.copytree(tfidf_run, tmp_path / "teacher"))
    members = sorted(p.name for p in (teacher / "model").iterdir())
    monkeypatch.setattr(FIRST_WORK["distill"], _never)
    for out, why in (
        (teacher / "model", "is a folder that is not an odio model"),
        (teacher, "is an input"),
    ):
        assert main(["distill", str(teacher), "--out", str(out), "--overwrite"]) == 2
        assert why in _error(capsys)
    assert sorted(p.name for p in (teacher / "model").iterdir()) == members


def test_an_output_of_another_kind_is_refused(tfidf_run, split_files, tmp_path, capsys):
    _, test = split_files
    run = Path(shutil.copytree(tfidf_run, tmp_path / "run"))
    argv = ["evaluate", str(tfidf_run), str(test), "--out", str(run), "--overwrite"]
    assert main(argv) == 2
    assert "is an odio run, not an evaluation" in _error(capsys)
    assert (run / "oof.csv").is_file()


def test_a_report_written_into_a_run_is_replaced_with_it(tfidf_run, split_files, tmp_path):
    pytest.importorskip("matplotlib")
    from odio.reports.report import write_report

    train, _ = split_files
    run = Path(shutil.copytree(tfidf_run, tmp_path / "run"))
    write_report(run)
    marker = json.loads((run / MARKER).read_text())
    assert {"report.html", "report.md", "report_files"} <= set(marker["files"])
    argv = ["train", str(train), "--folds", "2", "--out", str(run), "--overwrite", "-q"]
    assert main(argv) == 0
    assert not (run / "report.md").exists()
