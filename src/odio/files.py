"""Writing outputs whole: build beside the final place, then rename into it.

:func:`replacing` is the one way odio writes an output folder (a run, a model, an export,
an evaluation): stage, write, swap in, clean up, and a failed write is one line.

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
import logging
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

from odio.errors import OdioError

log = logging.getLogger(__name__)


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
    """A new empty file beside ``final`` to write it in."""
    sweep_stale(final)
    fd, name = tempfile.mkstemp(prefix=_prefix(final), suffix=".tmp", dir=final.parent)
    os.close(fd)
    path = Path(name)
    path.chmod(0o666 & ~_umask())
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


@contextlib.contextmanager
def replacing(final: str | Path, *, what: str = "") -> Iterator[Path]:
    """A new folder beside ``final`` to build it in, swapped in whole when the block ends.

    Stage, write, swap in, clean up: on any exception (an error, Ctrl-C) the staging folder
    is removed and ``final`` is left as it was; a failed write (a full disk, a quota, a
    read-only or busy folder, also as a library reports it, see :func:`as_os_error`) is
    one :class:`~odio.errors.OdioError` line naming ``final``. Whether ``final`` may be
    replaced at all is the caller's check, made before any work starts.

    Args:
        final: the output folder.
        what: what it is, for the error line (``"the run"``, ``"the export"``).

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
