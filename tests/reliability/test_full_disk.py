"""A full disk is one line, and leaves neither a partial output nor a partial run.

Three ways to fill a disk: a file-size limit on a child process (always possible on Linux;
writes then fail with EFBIG), a write that fails with ENOSPC inside this process, and a real
64 KB tmpfs (where this machine lets an unprivileged user mount one; skipped otherwise).
"""

from __future__ import annotations

import errno
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest

import odio
from odio.cli import main

SRC = str(Path(odio.__file__).resolve().parents[1])
ENV = {**os.environ, "PYTHONPATH": SRC, "PYTHONDONTWRITEBYTECODE": "1", "HF_HUB_OFFLINE": "1"}


@pytest.fixture(scope="module")
def tweets(tmp_path_factory, sample_frame) -> Path:
    path = tmp_path_factory.mktemp("in") / "tweets.csv"
    pd.DataFrame({"text": sample_frame["text"].tolist() * 20}).to_csv(path, index=False)
    return path


def test_predict_on_a_full_disk_is_one_line(tfidf_run, tweets, tmp_path):
    output = tmp_path / "scored.csv"
    output.write_text("the previous output\n")

    def limit_file_size():  # Python ignores SIGXFSZ, so a write past it fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (32_000, resource.RLIM_INFINITY))

    argv = ["predict", str(tfidf_run), str(tweets), "-o", str(output), "-q"]
    done = subprocess.run(
        [sys.executable, "-m", "odio.cli", *argv],
        env=ENV,
        preexec_fn=limit_file_size,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == f"error: cannot write {output}: File too large"
    assert output.read_text() == "the previous output\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scored.csv"]


def test_train_on_a_full_disk_leaves_no_partial_run(split_files, tmp_path, monkeypatch, capsys):
    train, _ = split_files
    out = tmp_path / "run"
    assert main(["train", str(train), "--folds", "2", "--out", str(out), "-q"]) == 0
    before = (out / "oof.csv").read_text()

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("odio.training.fit.save_model", full)
    argv = ["train", str(train), "--folds", "3", "--out", str(out), "--overwrite", "-q"]
    assert main(argv) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"error: cannot write the run {out}: No space left on device"
    )
    assert (out / "oof.csv").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def _tiny_tmpfs_works() -> bool:
    if not shutil.which("unshare"):
        return False
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run(
            ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c"]
            + ['mount -t tmpfs -o size=64k tmpfs "$0"', folder],
            capture_output=True,
        )
    return done.returncode == 0


@pytest.mark.skipif(not _tiny_tmpfs_works(), reason="cannot mount a tmpfs here")
@pytest.mark.parametrize(
    "command",
    [
        pytest.param("predict", marks=pytest.mark.slow),  # the file-size limit covers it
        "train",  # safetensors reported the full disk as its own error type: a traceback
    ],
)
def test_a_real_full_disk(command, tfidf_run, split_files, tweets, tmp_path):
    """odio on a 64 KB tmpfs (a private mount namespace): the error is one line and the
    disk holds nothing odio made afterwards."""
    disk = tmp_path / "disk"
    disk.mkdir()
    train, _ = split_files
    if command == "predict":
        argv = ["predict", str(tfidf_run), str(tweets), "-o", f"{disk}/scored.csv", "-q"]
    else:
        argv = ["train", str(train), "--folds", "2", "--out", f"{disk}/run", "-q"]
    script = (
        'mount -t tmpfs -o size=64k tmpfs "$1" && shift && "$@"; rc=$?; '
        'echo "left: $(ls -A "$DISK" | tr "\\n" " ")" >&2; exit $rc'
    )
    done = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, "sh", str(disk)]
        + [sys.executable, "-m", "odio.cli", *argv],
        env={**ENV, "DISK": str(disk)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert lines[-2].startswith("error: cannot write") and "No space left on device" in lines[-2]
    assert lines[-1].strip() == "left:"  # nothing: no partial output, no staging folder
