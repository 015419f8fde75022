"""Writing outputs whole: build beside the final place, then rename into it.

:func:`replacing` is the one way odio writes an output folder (a run, a model, an export,
an evaluation): stage, write, swap in, clean up, and a failed write is one line.

One rule for deleting (:func:`check_replaceable`, before any work starts): odio replaces a
folder only when its marker (:data:`MARKER`, written by :func:`replacing`) says odio made
it, as the same kind of output, and the folder holds nothing the marker does not list; the
current folder, a folder holding it, and a folder holding an input are never replaced.

A run directory, an ONNX export and a scored file are built under a temporary name in the
folder that will hold them, then renamed: readers never see a half-written output, and an
interrupted or failed job leaves the previous output as it was. Temporary names start with
a dot and carry the machine and process that made them (``.scored.csv.odio-HOST-PID.*``);
permissions are the usual ones for new files (the umask's), not a temp file's 0600.

A job that is killed outright (SIGKILL, a power cut) cannot remove what it was building;
the next job writing the same output removes it once its process is gone. Nothing else is
ever removed: only names of that pattern, made on this machine by a process that no longer
exists.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from odio.errors import OdioError

log = logging.getLogger(__name__)

MARKER = ".odio-output.json"
"""The file in every output folder odio writes: what kind of output it is, and its files."""
KINDS = ("run", "model", "export", "evaluation")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40] or "host"


def _prefix(final: Path) -> str:
    return f".{final.name}.odio-{_host()}-{os.getpid()}."


def sweep_stale(final: Path) -> list[Path]:
    """Remove what killed odio jobs left while building ``final``; returns what it removed.

    Only names made by :func:`staging_dir`, :func:`staging_file` or :func:`swap_in` for
    ``final`` on this machine, by a process that is gone, are removed.

    >>> import tempfile
    >>> sweep_stale(Path(tempfile.mkdtemp()) / "scored.csv")
    []
    """
    pattern = re.compile(rf"\.{re.escape(final.name)}\.odio-{re.escape(_host())}-(\d+)\.")
    removed = []
    try:
        entries = list(final.parent.iterdir())
    except OSError:
        return []
    for entry in entries:
        match = pattern.match(entry.name)
        if not match or _alive(int(match.group(1))):
            continue
        if entry.name[match.end() :].startswith("old.") and not final.exists():
            # killed between the two renames of swap_in: this holds the previous output
            log.warning("%s holds the previous %s (a swap was interrupted)", entry, final.name)
            continue
        with contextlib.suppress(OSError):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed.append(entry)
            log.info("removed %s, left by an odio job that was killed", entry)
    return removed


_RUST_OS_ERROR = re.compile(r"\(os error (\d+)\)")


def as_os_error(exc: BaseException) -> OSError | None:
    """The :class:`OSError` inside a library error, if any: safetensors (Rust) reports a
    full disk as ``SafetensorError: ... No space left on device (os error 28)``.

    >>> as_os_error(RuntimeError("I/O error: No space left on device (os error 28)")).strerror
    'No space left on device'
    >>> as_os_error(RuntimeError("a bug")) is None
    True
    """
    if isinstance(exc, OSError):
        return exc
    match = _RUST_OS_ERROR.search(str(exc))
    if match is None:
        return None
    code = int(match.group(1))
    return OSError(code, os.strerror(code))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process: it exists
        return True
    return True


def usual_permissions(directory: Path) -> None:
    """Give every file under ``directory`` the umask's permissions for a new file.

    safetensors (and so ``save_pretrained``) writes its files 0600, through a temporary
    file: a model copied to a server or shared with a group would not be readable there.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp()); (folder / "w").touch(mode=0o600)
    >>> usual_permissions(folder); oct((folder / "w").stat().st_mode & 0o777) == oct(0o666 & ~_umask())
    True
    """  # noqa: E501 - a doctest line cannot be wrapped
    mode = 0o666 & ~_umask()
    for path in directory.rglob("*"):
        if path.is_file() and not path.is_symlink():
            path.chmod(mode)


def staging_dir(final: Path) -> Path:
    """A new empty folder beside ``final`` to build it in.

    >>> import tempfile
    >>> staging_dir(Path(tempfile.mkdtemp()) / "run").name.startswith(".run.odio-")
    True
    """
    sweep_stale(final)
    path = Path(tempfile.mkdtemp(prefix=_prefix(final), dir=final.parent))
    path.chmod(0o777 & ~_umask())
    return path


def staging_file(final: Path) -> Path:
    """A new empty file beside ``final`` to write it in, with ``final``'s permissions when
    it exists (a private 0600 output stays private), else the umask's for a new file.

    >>> import tempfile
    >>> final = Path(tempfile.mkdtemp()) / "out.csv"; final.touch(mode=0o600)
    >>> oct(staging_file(final).stat().st_mode & 0o777)
    '0o600'
    """
    sweep_stale(final)
    try:
        mode = final.stat().st_mode & 0o7777
    except OSError:
        mode = 0o666 & ~_umask()
    fd, name = tempfile.mkstemp(prefix=_prefix(final), suffix=".tmp", dir=final.parent)
    os.close(fd)
    path = Path(name)
    path.chmod(mode)
    return path


def swap_in(built: Path, final: Path) -> None:
    """Rename ``built`` to ``final``; an existing ``final`` folder is replaced whole.

    Example:
        >>> import tempfile
        >>> root = Path(tempfile.mkdtemp())
        >>> (root / "run").mkdir(); _ = (root / "run" / "old.csv").write_text("x")
        >>> new = staging_dir(root / "run"); _ = (new / "new.csv").write_text("y")
        >>> swap_in(new, root / "run"); sorted(p.name for p in (root / "run").iterdir())
        ['new.csv']
    """
    if not final.is_dir():
        os.replace(built, final)
        return
    old = Path(tempfile.mkdtemp(prefix=_prefix(final) + "old.", dir=final.parent))
    try:
        os.replace(final, old / final.name)
    except BaseException:
        shutil.rmtree(old, ignore_errors=True)  # empty: final was not moved
        raise
    try:
        os.replace(built, final)
    except BaseException:
        os.replace(old / final.name, final)  # the previous output goes back
        shutil.rmtree(old, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)


def check_replaceable(
    final: str | Path,
    *,
    kind: str,
    overwrite: bool,
    inputs: Iterable[str | Path | None] = (),
) -> None:
    """Refuse, before any work starts, an output folder that odio may not replace.

    A new or empty folder is fine. A folder is replaced only with ``overwrite``, and only
    when its :data:`MARKER` says odio wrote it as a ``kind`` and it holds nothing else
    (a file the user added stays theirs). The current folder, a folder holding it, and a
    folder that is or holds one of ``inputs`` are always refused.

    Raises:
        OdioError: one line saying why, and what to do.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp()); _ = (folder / "notes.txt").write_text("mine")
        >>> check_replaceable(folder, kind="run", overwrite=True)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        odio.errors.OdioError: ... is a folder that is not an odio run (it has no .odio-output.json); odio will not replace it: choose a new or empty folder
    """  # noqa: E501 - a doctest output line cannot be wrapped
    if kind not in KINDS:
        raise ValueError(f"unknown kind of output {kind!r}")
    final = Path(final)
    where = final.resolve()
    here = Path.cwd().resolve()
    if where == here or where in here.parents:
        raise OdioError(
            f"{final} is the current folder or holds it; odio will not replace it: "
            "choose a new folder"
        )
    for path in inputs:
        if path is None:
            continue
        source = Path(path).resolve()
        if where == source:
            raise OdioError(
                f"{final} is an input of this command; odio will not replace it: "
                "choose another output"
            )
        if where in source.parents:
            raise OdioError(
                f"{path} is inside {final}, which would be replaced: choose another output"
            )
    if not final.exists() and not final.is_symlink():
        return
    if not final.is_dir() or final.is_symlink():
        raise OdioError(f"{final} exists and is not a folder; choose another output")
    entries = {entry.name for entry in final.iterdir()}
    if not entries:
        return
    marker = read_marker(final)
    made = marker.get("kind") if marker else None
    if made != kind:
        what = (
            f"an odio {made}, not {_a(kind)}"
            if made in KINDS
            else f"a folder that is not an odio {kind} (it has no {MARKER})"
        )
        raise OdioError(
            f"{final} is {what}; odio will not replace it: choose a new or empty folder"
        )
    extra = sorted(entries - set(marker.get("files") or ()) - {MARKER}) if marker else []
    if extra:
        raise OdioError(
            f"{final} holds {extra[0]}, which odio did not write there; odio will not replace "
            "it: move it, or choose a new or empty folder"
        )
    if not overwrite:
        raise OdioError(
            f"{final} already holds {_a(kind)}; choose another output or pass --overwrite"
        )


def _a(kind: str) -> str:
    """``a run``, ``an export``."""
    return ("an " if kind[0] in "aeiou" else "a ") + kind


def read_marker(folder: Path) -> dict[str, Any] | None:
    """The :data:`MARKER` of an output folder, or ``None`` (absent or unreadable).

    >>> import tempfile
    >>> read_marker(Path(tempfile.mkdtemp())) is None
    True
    """
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def record_files(folder: Path, names: Iterable[str]) -> None:
    """Add ``names`` to the files of an odio output folder (nothing if it has no marker):
    ``odio report`` writes its pages into the run it reports on."""
    marker = read_marker(folder)
    if marker is None:
        return
    marker["files"] = sorted({*(marker.get("files") or ()), *names})
    _write_marker(folder, marker)


def _write_marker(folder: Path, marker: dict[str, Any]) -> None:
    (folder / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")


@contextlib.contextmanager
def replacing(final: str | Path, *, what: str = "", kind: str | None = None) -> Iterator[Path]:
    """A new folder beside ``final`` to build it in, swapped in whole when the block ends.

    Stage, write, swap in, clean up: on any exception (an error, Ctrl-C) the staging folder
    is removed and ``final`` is left as it was; a failed write (a full disk, a quota, a
    read-only or busy folder, also as a library reports it, see :func:`as_os_error`) is
    one :class:`~odio.errors.OdioError` line naming ``final``. Whether ``final`` may be
    replaced at all is the caller's check, made before any work starts.

    Args:
        final: the output folder.
        what: what it is, for the error line (``"the run"``, ``"the export"``).
        kind: one of :data:`KINDS`: the folder gets a :data:`MARKER` saying odio made it
            (as that kind, with the files it holds), so a later ``--overwrite`` may replace it.

    Example:
        >>> import tempfile
        >>> out = Path(tempfile.mkdtemp()) / "run"
        >>> with replacing(out, what="the run") as tmp:
        ...     _ = (tmp / "metrics.json").write_text("{}")
        >>> sorted(p.name for p in out.iterdir())
        ['metrics.json']
        >>> with replacing(out, what="the run") as tmp:
        ...     raise OSError(28, "No space left on device")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        odio.errors.OdioError: cannot write the run .../run: No space left on device
        >>> sorted(p.name for p in out.parent.iterdir())
        ['run']
    """
    final = Path(final)
    label = f"{what} {final}" if what else str(final)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        staged = staging_dir(final)
    except OSError as exc:
        raise OdioError(f"cannot write {label}: {_reason(exc)}") from None
    try:
        yield staged
        if kind is not None:
            names = sorted(entry.name for entry in staged.iterdir() if entry.name != MARKER)
            _write_marker(staged, {"kind": kind, "files": names})
        swap_in(staged, final)
    except BaseException as exc:
        shutil.rmtree(staged, ignore_errors=True)
        failed = None if isinstance(exc, OdioError) else as_os_error(exc)
        if failed is not None:
            raise OdioError(f"cannot write {label}: {_reason(failed)}") from None
        raise


def _reason(exc: OSError) -> str:
    """The system's words for a failed write (``No space left on device``)."""
    return exc.strerror or str(exc)
