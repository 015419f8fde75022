"""Writing outputs whole: build beside the final place, then rename into it.

A run directory, an ONNX export and a scored file are built under a temporary name in the
folder that will hold them, then renamed: readers never see a half-written output, and an
interrupted or failed job leaves the previous output as it was. Temporary names start with
a dot; permissions are the usual ones for new files (the umask's), not a temp file's 0600.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def staging_dir(final: Path) -> Path:
    """A new empty folder beside ``final`` to build it in.

    >>> import tempfile
    >>> staging_dir(Path(tempfile.mkdtemp()) / "run").name.startswith(".run.")
    True
    """
    path = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    path.chmod(0o777 & ~_umask())
    return path


def staging_file(final: Path) -> Path:
    """A new empty file beside ``final`` to write it in."""
    fd, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
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
    old = Path(tempfile.mkdtemp(prefix=f".{final.name}.old.", dir=final.parent))
    os.replace(final, old / final.name)
    os.replace(built, final)
    shutil.rmtree(old, ignore_errors=True)
