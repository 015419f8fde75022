"""Every writer of an output folder (a run, a distilled model, an evaluation, an ONNX export)
goes through :func:`odio.files.replacing`: a failed write is one line naming the output,
the previous output is left as it was, and no staging folder remains."""

from __future__ import annotations

import errno

import pandas as pd
import pytest

from odio.cli import main
from odio.errors import OdioError
from odio.files import replacing


def _full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def _denied(*args, **kwargs):
    raise PermissionError(errno.EACCES, "Permission denied")


def _busy(*args, **kwargs):
    raise OSError(errno.EBUSY, "Device or resource busy")


# Where each writer writes its files: a full disk there fails the write itself.
WRITERS = {
    "train": ("the run", "odio.training.fit.save_model"),
    "distill": ("the model", "odio.training.distill.save_model"),
    "evaluate": ("the evaluation", "pandas.DataFrame.to_csv"),
    "export": ("the export", "odio.models.export._export_member"),
}
FAILURES = {
    "full disk": (_full, None, "No space left on device"),
    "staging denied": (_denied, "odio.files.tempfile.mkdtemp", "Permission denied"),
    "swap busy": (_busy, "odio.files.os.replace", "Device or resource busy"),
}


@pytest.mark.parametrize("failure", list(FAILURES))
@pytest.mark.parametrize("command", list(WRITERS))
def test_a_failed_write_is_one_line_and_leaves_nothing(
    command, failure, writer_argv, tmp_path, monkeypatch, capsys
):
    if command == "export":
        pytest.importorskip("onnx")
    what, writes = WRITERS[command]
    fail, target, reason = FAILURES[failure]
    out = tmp_path / "out"
    argv = writer_argv(command, out)
    assert main(argv) == 0, capsys.readouterr().err
    before = sorted(p.name for p in out.iterdir())
    capsys.readouterr()

    monkeypatch.setattr(target or writes, fail)
    assert main([*argv, "--overwrite"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"error: cannot write {what} {out}: {reason}"
    assert "Traceback" not in "\n".join(err)
    monkeypatch.undo()
    assert sorted(p.name for p in out.iterdir()) == before  # the previous output, whole
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging folder


def test_an_error_that_is_not_a_write_passes_through(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(ValueError, match="a bug"), replacing(out) as staged:
        (staged / "a.csv").write_text("x")
        raise ValueError("a bug")
    assert list(tmp_path.iterdir()) == []


def test_a_library_error_holding_a_full_disk_is_one_line(tmp_path):
    out = tmp_path / "model"
    with pytest.raises(OdioError) as caught, replacing(out, what="the model"):
        raise RuntimeError("SafetensorError: No space left on device (os error 28)")
    assert str(caught.value) == f"cannot write the model {out}: No space left on device"
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_leaves_the_previous_output(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    pd.DataFrame({"a": [1]}).to_csv(out / "old.csv")
    with pytest.raises(KeyboardInterrupt), replacing(out) as staged:
        (staged / "new.csv").write_text("x")
        raise KeyboardInterrupt
    assert [p.name for p in out.iterdir()] == ["old.csv"]
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
