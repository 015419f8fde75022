"""Interrupted and refused jobs leave nothing behind and say why in one line.

odio predict is run in a child process and stopped with SIGTERM, SIGHUP or SIGKILL while it
writes; the output folder must hold no partial file afterwards (for SIGKILL: after the next
job writing the same output). Mistakes about the output are found before any row is scored.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import odio
from odio.cli import main
from odio.files import staging_file, sweep_stale
from odio.inference.detector import Detector

SRC = str(Path(odio.__file__).resolve().parents[1])


def odio_process(*argv: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": SRC, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "odio.cli", *argv],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture(scope="module")
def many_tweets(tmp_path_factory, sample_frame) -> Path:
    """100,000 rows: seconds of scoring, so a signal lands mid-write."""
    path = tmp_path_factory.mktemp("big") / "tweets.csv"
    texts = sample_frame["text"].tolist()
    pd.DataFrame({"text": texts * (100_000 // len(texts) + 1)}).to_csv(path, index=False)
    return path


def leftovers(folder: Path, name: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(f".{name}."))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_remove_the_partial_output(
    sig, tfidf_run, many_tweets, tmp_path, monkeypatch, capsys
):
    """In this process: the signal arrives while the third chunk is scored."""
    from odio.inference import batch

    score, chunks = batch._score_chunk, []

    def score_then_signal(*args):
        chunks.append(1)
        if len(chunks) == 3:
            assert leftovers(tmp_path, "scored.csv")  # the partial file exists now
            os.kill(os.getpid(), sig)
        return score(*args)

    monkeypatch.setattr(batch, "_score_chunk", score_then_signal)
    before = signal.getsignal(sig)
    (tmp_path / "scored.csv").write_text("the previous output\n")
    argv = ["predict", str(tfidf_run), str(many_tweets), "-o", str(tmp_path / "scored.csv")]
    assert main([*argv, "--chunksize", "100", "-q"]) == 128 + sig
    assert capsys.readouterr().err.strip() == f"terminated by {sig.name}"
    assert leftovers(tmp_path, "scored.csv") == [] and len(chunks) == 3
    assert (tmp_path / "scored.csv").read_text() == "the previous output\n"
    assert signal.getsignal(sig) == before  # main() puts the previous handler back


@pytest.mark.slow  # two child processes: about 8 s on 2 cores
def test_sigterm_and_sigkill_of_a_running_predict(tfidf_run, many_tweets, tmp_path):
    """Real child processes: SIGTERM cleans up at once; what SIGKILL leaves is removed by
    the next job writing the same output."""
    jobs = {}
    for sig in (signal.SIGTERM, signal.SIGKILL):
        folder = tmp_path / sig.name
        folder.mkdir()
        (folder / "scored.csv").write_text("the previous output\n")
        argv = ["predict", str(tfidf_run), str(many_tweets), "-o", str(folder / "scored.csv")]
        jobs[sig] = (folder, odio_process(*argv, "--chunksize", "500", "-q"))
    deadline = time.monotonic() + 60
    pending = dict(jobs)
    while pending and time.monotonic() < deadline:  # signal each once it is writing
        for sig, (folder, process) in list(pending.items()):
            partial = [p for p in folder.glob(".scored.csv.*") if p.stat().st_size > 0]
            if partial:
                process.send_signal(sig)
                del pending[sig]
        time.sleep(0.05)
    assert not pending, "predict never started writing"
    for sig, (folder, process) in jobs.items():
        _, err = process.communicate(timeout=60)
        assert (folder / "scored.csv").read_text() == "the previous output\n"
        if sig == signal.SIGKILL:
            assert process.returncode == -signal.SIGKILL
            assert len(leftovers(folder, "scored.csv")) == 1  # nothing could remove it then
        else:
            assert process.returncode == 128 + sig, err
            assert err.strip().endswith(f"terminated by {sig.name}")
            assert leftovers(folder, "scored.csv") == []
    folder = jobs[signal.SIGKILL][0]
    small = tmp_path / "small.csv"
    pd.read_csv(many_tweets, nrows=20).to_csv(small, index=False)
    argv = ["predict", str(tfidf_run), str(small), "-o", str(folder / "scored.csv"), "-q"]
    assert main(argv) == 0
    assert leftovers(folder, "scored.csv") == [] and len(pd.read_csv(folder / "scored.csv")) == 20


def test_only_what_a_dead_odio_job_made_is_swept(tmp_path):
    final = tmp_path / "scored.csv"
    final.write_text("the output")
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    dead_pid = int(dead.stdout)
    mine = staging_file(final)  # this process is alive: kept
    host = mine.name.split(".odio-")[1].rsplit("-", 1)[0]
    stale = tmp_path / f".scored.csv.odio-{host}-{dead_pid}.abc123.tmp"
    stale.write_text("partial")
    stale_dir = tmp_path / f".scored.csv.odio-{host}-{dead_pid}.old.xyz"
    stale_dir.mkdir()
    other_host = tmp_path / f".scored.csv.odio-elsewhere-{dead_pid}.abc.tmp"
    users = [tmp_path / ".scored.csv.backup", tmp_path / ".scored.csv.odio-notes", other_host]
    for path in users:
        path.write_text("the user's")
    assert sorted(sweep_stale(final)) == sorted([stale, stale_dir])
    assert mine.exists() and all(path.read_text() == "the user's" for path in users)
    # killed between swap_in's two renames: the previous output is aside, the final is gone
    aside = tmp_path / "run" / f".model.odio-{host}-{dead_pid}.old.abc"
    (aside / "model").mkdir(parents=True)
    assert sweep_stale(tmp_path / "run" / "model") == [] and aside.is_dir()


def test_predict_output_has_the_usual_permissions(tfidf_run, split_files, tmp_path):
    _, test = split_files
    old = os.umask(0o022)
    try:
        assert main(["predict", str(tfidf_run), str(test), "-o", str(tmp_path / "o.csv")]) == 0
    finally:
        os.umask(old)
    assert (tmp_path / "o.csv").stat().st_mode & 0o777 == 0o644  # was 0600, a temp file's


def test_predict_keeps_a_private_outputs_permissions(tfidf_run, split_files, tmp_path):
    # issue 26: an existing 0600 output became 0644 when predict replaced it
    _, test = split_files
    out = tmp_path / "private.csv"
    out.touch(mode=0o600)
    out.chmod(0o600)
    assert main(["predict", str(tfidf_run), str(test), "-o", str(out), "-q"]) == 0
    assert out.stat().st_mode & 0o777 == 0o600 and out.stat().st_size > 0


def test_run_files_have_the_usual_permissions(tfidf_run, tiny_run, tiny_onnx):
    mode = 0o666 & ~_umask()
    files = [tfidf_run / "oof.csv", *tfidf_run.glob("model/fold_0/*")]
    files += [*tiny_run.glob("model/fold_0/*"), *tiny_onnx["int8"].glob("fold_0/*")]
    assert any(path.suffix == ".safetensors" for path in files)
    for path in files:
        assert path.stat().st_mode & 0o777 == mode, path  # safetensors were 0600
    assert (tfidf_run / "model").stat().st_mode & 0o777 == 0o777 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def one_line_error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    return err


@pytest.fixture
def never_scores(monkeypatch):
    def refuse(self, texts):
        raise AssertionError("scored before the output was checked")

    monkeypatch.setattr(Detector, "predict_proba", refuse)


def test_an_output_that_is_a_directory_is_refused_before_scoring(
    tfidf_run, split_files, tmp_path, capsys, never_scores
):
    _, test = split_files
    folder = tmp_path / "out.csv"
    folder.mkdir()
    for output in (tmp_path, folder):
        error = one_line_error(capsys, ["predict", str(tfidf_run), str(test), "-o", str(output)])
        assert error == f"error: the output {output} is a directory; give a file name"


@pytest.mark.parametrize("size", ["0", "-5"])
def test_chunksize_must_be_positive(size, tfidf_run, split_files, tmp_path, capsys, never_scores):
    _, test = split_files
    argv = ["predict", str(tfidf_run), str(test), "-o", str(tmp_path / "o.csv")]
    error = one_line_error(capsys, [*argv, "--chunksize", size])
    assert error == f"error: --chunksize must be a whole number >= 1, got {size}"


def test_a_read_only_output_folder_is_one_line(
    tfidf_run, split_files, tmp_path, capsys, monkeypatch
):
    _, test = split_files

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("odio.files.tempfile.mkstemp", denied)
    error = one_line_error(
        capsys, ["predict", str(tfidf_run), str(test), "-o", str(tmp_path / "o.csv")]
    )
    assert error == f"error: cannot write in {tmp_path}: Permission denied"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_really_read_only_output_folder_is_one_line(tfidf_run, split_files, tmp_path, capsys):
    _, test = split_files
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        error = one_line_error(
            capsys, ["predict", str(tfidf_run), str(test), "-o", str(folder / "o.csv")]
        )
    finally:
        folder.chmod(0o755)
    assert error == f"error: cannot write in {folder}: Permission denied"
