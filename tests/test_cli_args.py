"""Command lines people type: files after a list option, output into a closed pipe."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from odio.cli import main


def test_train_takes_a_file_given_after_labels(split_files, tmp_path):
    train, test = split_files
    out = tmp_path / "r"
    argv = ["train", "--labels", "Odio", "Mujeres", str(train), "--test", str(test)]
    assert main([*argv, "--folds", "2", "--out", str(out), "-q"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["labels"] == ["Odio", "Mujeres"]
    assert metrics["data"]["train"]["rows_used"] > 0


def test_files_after_a_list_option_keep_their_command_line_order(split_files, tmp_path):
    from odio.cli.parser import parse

    train, test = split_files
    args = parse(["train", str(train), "--labels", "Odio", str(test), "--out", "r"])
    assert args.train == [str(train), str(test)] and args.setting__data__labels == ["Odio"]
    args = parse(["train", "--positive", "yes", str(test), str(train), "--out", "r"])
    assert args.train == [str(test), str(train)] and args.setting__data__positive == ["yes"]


def test_a_missing_train_file_is_one_line(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--labels", "Odio", "nope.csv", "--out", "r"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == (
        "odio train: error: the following arguments are required: TRAIN "
        "(the words after --labels are its values)"
    )
    with pytest.raises(SystemExit):
        main(["train", "--labels", str(tmp_path), "--out", "r"])  # a folder is not a file
    assert "required: TRAIN" in capsys.readouterr().err


def test_evaluate_and_check_take_a_file_given_after_labels(tfidf_run, split_files, tmp_path):
    from odio.cli.parser import parse

    _, test = split_files
    args = parse(["evaluate", str(tfidf_run), "--labels", "Odio", str(test)])
    assert args.data == str(test) and args.setting__data__labels == ["Odio"]
    suite = tmp_path / "suite.yaml"
    suite.write_text("name: mine\n")
    args = parse(["check", str(tfidf_run), "--labels", "Odio", str(suite)])
    assert args.suites == [str(suite)] and args.labels == ["Odio"]


def test_evaluate_runs_with_its_file_after_labels(tfidf_run, split_files, capsys):
    _, test = split_files
    assert main(["evaluate", str(tfidf_run), "--labels", "Odio", str(test), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["labels"] == ["Odio"]


@pytest.mark.parametrize("command", ["explain", "predict"])
def test_a_closed_output_pipe_is_one_line(tfidf_run, command):
    """odio explain ... --json | head: the reader is gone before odio writes."""
    text = ["ándate a tu país culiao"]
    argv = [str(tfidf_run), *(text if command == "explain" else ["--text", *text]), "--json"]
    read, write = os.pipe()
    os.close(read)  # every write fails with EPIPE
    try:
        done = subprocess.run(
            [sys.executable, "-m", "odio.cli", command, *argv],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write)
    assert done.returncode == 2
    assert done.stderr.strip() == "error: cannot write standard output: Broken pipe"
