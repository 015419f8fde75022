"""Ray, for running odio on a cluster: connecting once, and shipping a folder to the workers.

Ray is an optional extra (``pip install 'odio[ray]'``), imported only here, by
:mod:`odio.training.engines` (folds as Ray tasks) and by :mod:`odio.inference.distributed`
(scoring files with Ray Data), and only when they run: ``import odio`` and ``odio --help``
never import it.

A model directory is not assumed to be on a disk every node sees: :func:`ship_dir` puts its
files in Ray's object store (from which any node can fetch them), and :func:`unpack`
writes them on the worker's node, once per node and content (a content-addressed folder
under the temporary directory, reused by every actor on that node and by restarts).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from odio.errors import OdioError
from odio.extras import MissingExtra

log = logging.getLogger(__name__)

UNPACK_ROOT = "odio-ray"
"""The folder, under a node's temporary directory, that shipped folders are unpacked into."""


def require_ray(feature: str = "--engine ray") -> ModuleType:
    """Import Ray, or raise :class:`~odio.extras.MissingExtra` saying how to install it.

    Example:
        >>> require_ray().__name__  # doctest: +SKIP
        'ray'
    """
    try:
        import ray
    except ImportError as exc:
        raise MissingExtra("ray", feature, "ray") from exc
    return ray


def connect(address: str | None = None) -> None:
    """Connect this process to Ray, once: to the cluster at ``address`` (``auto``, or
    ``ray://HEAD:10001`` for a remote head), else to ``RAY_ADDRESS`` when it is set, else
    to a new local Ray on this machine's cores, without a dashboard. A process already
    connected (``ray.init`` called before, as a test session or a notebook does) is used as
    it is. Ray disconnects, and stops a local Ray it started, when the process exits.

    Example:
        >>> connect()  # doctest: +SKIP
        >>> connect("ray://head.example:10001")  # doctest: +SKIP
    """
    ray = require_ray()
    if ray.is_initialized():
        return
    options: dict[str, Any] = {"logging_level": logging.WARNING}
    if address is None and not os.environ.get("RAY_ADDRESS"):
        options["include_dashboard"] = False  # a local Ray for this command only
    try:
        ray.init(address=address, **options)
    except ConnectionError as exc:
        where = address or os.environ.get("RAY_ADDRESS")
        raise OdioError(f"cannot connect to Ray at {where}: {exc}") from None
    log.info("connected to Ray: %s CPUs, %s GPUs", _total(ray, "CPU"), _total(ray, "GPU"))


def _total(ray: ModuleType, resource: str) -> int:
    return int(ray.cluster_resources().get(resource, 0))


@dataclass(frozen=True)
class ShippedDir:
    """A folder's files in Ray's object store, ready to be unpacked on any node.

    Example:
        >>> shipped = ship_dir("runs/tfidf/model")  # doctest: +SKIP
        >>> unpack(shipped).name  # on a worker  # doctest: +SKIP
        'model'
    """

    name: str
    """The folder's name (unpacked folders keep it)."""
    digest: str
    """SHA-256 of the file names and contents: the same folder unpacks to the same place."""
    files: Any
    """A Ray object reference to ``{relative path: uint8 array}``."""
    size: int
    """Bytes in all files."""


def ship_dir(path: str | Path) -> ShippedDir:
    """Put every file under ``path`` in Ray's object store (needs :func:`connect` first).

    Arrays, not bytes: Ray reads arrays from the object store without copying, so a worker
    holds a large model once while it writes it out.
    """
    import numpy as np

    ray = require_ray()
    root = Path(path)
    if not root.is_dir():
        raise OdioError(f"{root} is not a directory")
    digest = hashlib.sha256()
    files: dict[str, Any] = {}
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = file.relative_to(root).as_posix()
        data = file.read_bytes()
        digest.update(relative.encode() + b"\0" + len(data).to_bytes(8, "little") + data)
        files[relative] = np.frombuffer(data, dtype=np.uint8)
    size = sum(int(a.nbytes) for a in files.values())
    shipped = ShippedDir(root.resolve().name, digest.hexdigest(), ray.put(files), size)
    log.debug("shipped %s: %d files, %d bytes", root, len(files), size)
    return shipped


def unpack(shipped: ShippedDir, root: str | Path | None = None) -> Path:
    """The shipped folder on this node: written once under ``root`` (default: the
    temporary directory's ``odio-ray/``) in a folder named by its digest. Actors starting
    together on a node take turns (a file lock): the first writes it, built aside and
    renamed into place, the others find it there."""
    ray = require_ray()
    base = Path(root) if root is not None else Path(tempfile.gettempdir()) / UNPACK_ROOT
    final = base / shipped.digest
    base.mkdir(parents=True, exist_ok=True)
    with open(base / f".{shipped.digest}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (final / shipped.name).is_dir():
            staging = Path(tempfile.mkdtemp(prefix=f".{shipped.digest[:16]}.", dir=base))
            try:
                for relative, data in ray.get(shipped.files).items():
                    target = staging / shipped.name / relative
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(memoryview(data))
                os.rename(staging, final)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    return final / shipped.name
