"""The run directory: built aside and swapped in whole.

A run is written into a fresh folder beside ``--out`` (:func:`building`) and renamed into
place only when complete, so after ``--overwrite`` nothing of the previous run remains, and
a run that fails or is interrupted leaves the previous one intact. :func:`check_out_dir`
refuses, before any training, an ``--out`` whose replacement would lose a user's files.

Reading a run back (:func:`~odio.runs.read_run`) is :mod:`odio.runs`, below both training
and reports.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path

from odio.files import check_replaceable, replacing
from odio.runs import RunData, dig, is_run_dir, read_run

__all__ = ["RunData", "building", "check_out_dir", "dig", "is_run_dir", "read_run"]
"""Reading is :mod:`odio.runs`; its names stay importable from here for older callers."""


def check_out_dir(
    out_dir: str | Path, *, overwrite: bool, inputs: Sequence[str | Path | None] = ()
) -> None:
    """Refuse an ``--out`` that a run may not replace, before anything is trained.

    A new or empty folder is fine; an earlier run (its marker says so, and it holds
    nothing odio did not write) is replaced only with ``overwrite``; anything else, the
    current folder, and a folder holding one of the run's ``inputs`` are never replaced
    (see :func:`odio.files.check_replaceable`).

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp()); _ = (folder / "notes.txt").write_text("mine")
    >>> check_out_dir(folder, overwrite=True)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    odio.errors.OdioError: ... is a folder that is not an odio run (it has no .odio-output.json); odio will not replace it: choose a new or empty folder
    """  # noqa: E501 - a doctest output line cannot be wrapped
    check_replaceable(out_dir, kind="run", overwrite=overwrite, inputs=inputs)


@contextlib.contextmanager
def building(out_dir: str | Path) -> Iterator[Path]:
    """A fresh folder beside ``out_dir`` to write a run into, swapped in whole on success.

    On an exception the folder is removed and ``out_dir`` is left as it was; a failed
    write (a full disk) is an :class:`OdioError` (see :func:`odio.files.replacing`). The
    run gets a marker (:data:`odio.files.MARKER`) so that a later ``--overwrite`` may
    replace it.

    Example:
        >>> import tempfile
        >>> out = Path(tempfile.mkdtemp()) / "run"
        >>> with building(out) as tmp:
        ...     _ = (tmp / "metrics.json").write_text("{}")
        >>> sorted(p.name for p in out.iterdir())  # the marker says odio wrote a run here
        ['.odio-output.json', 'metrics.json']
    """
    with replacing(out_dir, what="the run", kind="run") as tmp:
        yield tmp
