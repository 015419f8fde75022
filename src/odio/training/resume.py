"""Resume points of an encoder run: a stopped ``odio train`` goes on where it stopped.

A 5-fold fine-tuning takes most of an hour on a CPU, and stage 1 of a staged schedule one
long epoch with no fold to fall back on: a run stopped by a closed laptop or a pre-empted
machine would start again from nothing. An encoder run whose folds train here therefore
keeps, in ``RUN.partial/``, each finished fold's output (``fold_K/fold.pkl``) and the
current fold's resume point (a Lightning checkpoint with the optimizer, scheduler, early
stopping, loop position and random state, written every ``transformer.checkpoint_minutes``
of training), and deletes them once ``RUN`` is written. ``odio train ... --resume`` with the
same settings and data continues: finished folds are read back, the current one restarts
from its resume point, the batches it already trained skipped, not drawn again, so the run
ends as an uninterrupted one would. In Python, ``odio.fit(..., checkpoints=DIR)``.

Example:
    >>> partial_dir("runs/stage1").name
    'stage1.partial'
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from odio.config import RunConfig
from odio.errors import OdioError

__all__ = [
    "FOLD_DONE",
    "RUN_FILE",
    "check_partial",
    "fingerprint",
    "keep_fold",
    "open_partial",
    "partial_dir",
    "read_fold",
]

RUN_FILE = "run.json"
"""What a partial directory records of its run: the settings and the data's sha256."""
FOLD_DONE = "fold.json"
"""A finished fold's time and history in its folder, written last: beside it are its
probabilities (``fold.npz``) and its member (``member/``)."""


def partial_dir(out_dir: str | Path) -> Path:
    """Where an unfinished run of ``out_dir`` keeps its resume point: ``OUT.partial``."""
    out = Path(out_dir)
    return out.with_name(out.name + ".partial")


def check_partial(partial: Path, *, resume: bool, overwrite: bool) -> None:
    """Before a run: an unfinished run found at ``partial`` is continued with ``resume``,
    removed with ``overwrite``, and otherwise refused (never silently thrown away).

    Example:
        >>> check_partial(Path("no/such/run.partial"), resume=False, overwrite=False)
    """
    if not (partial / RUN_FILE).is_file():
        if partial.exists() and any(partial.iterdir()):
            raise OdioError(f"{partial} exists and is not an unfinished odio run: move it away")
        return
    if resume:
        return
    if not overwrite:
        raise OdioError(
            f"{partial} holds an unfinished run of this output: --resume continues it, "
            "--overwrite starts again"
        )
    shutil.rmtree(partial)


def fingerprint(config: RunConfig, data: Sequence[str]) -> dict[str, Any]:
    """What a resumed run must share with the stopped one: every setting but how often it
    keeps a resume point, and the sha256 of every data file.

    >>> a = fingerprint(RunConfig(), ["0" * 64])
    >>> a == fingerprint(RunConfig(transformer={"checkpoint_minutes": 1}), ["0" * 64])
    True
    >>> a == fingerprint(RunConfig(transformer={"lr": 1e-4}), ["0" * 64])
    False
    """
    settings = config.to_dict()
    settings["transformer"].pop("checkpoint_minutes", None)
    return {"config": settings, "data": list(data)}


def open_partial(partial: Path, fingerprint: dict[str, Any]) -> bool:
    """Make ``partial`` the home of a run with ``fingerprint`` (its settings and data);
    return whether it holds a resume point of that run to continue from. One started with
    other settings or data is refused.

    Example:
        >>> import tempfile
        >>> where = Path(tempfile.mkdtemp()) / "stage1.partial"
        >>> open_partial(where, {"config": {}}), open_partial(where, {"config": {}})
        (False, False)
        >>> open_partial(where, {"config": {"seed": 1}})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        odio.errors.OdioError: the unfinished run in ... other settings or data; ...
    """
    record = partial / RUN_FILE
    if record.is_file():
        if json.loads(record.read_text("utf-8")) != _as_json(fingerprint):
            raise OdioError(
                f"the unfinished run in {partial} was started with other settings or data; "
                "give the same ones, or --overwrite to start again"
            )
        return any(partial.glob("*.ckpt"))
    partial.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(_as_json(fingerprint), indent=2), encoding="utf-8")
    return False


def keep_fold(
    done: Path,
    member: Any,
    oof: np.ndarray,
    test: np.ndarray | None,
    seconds: float,
    history: list[dict[str, float]],
) -> None:
    """Write a finished fold's output in ``done``'s folder, ``done`` (:data:`FOLD_DONE`)
    last, so that a fold is whole or absent whenever the run stops; its checkpoints go.
    The member is saved as a model directory saves it (no pickle)."""
    member.save(done.parent / "member")
    arrays: dict[str, Any] = {"oof": oof} if test is None else {"oof": oof, "test": test}
    np.savez(done.with_suffix(".npz"), **arrays)
    record = {"seconds": seconds, "history": history}
    done.with_suffix(".tmp").write_text(json.dumps(record), encoding="utf-8")
    done.with_suffix(".tmp").replace(done)
    for checkpoint in done.parent.glob("*.ckpt"):  # the fold needs them no more
        checkpoint.unlink()


def read_fold(
    done: Path, load_member: Callable[[Path], Any]
) -> tuple[Any, np.ndarray, np.ndarray | None, float, list[dict[str, float]]]:
    """A fold's output as :func:`keep_fold` wrote it: member (read by ``load_member``),
    out-of-fold and test probabilities, seconds and history.

    Example:
        >>> import tempfile
        >>> class Member:
        ...     def save(self, directory): Path(directory).mkdir()
        >>> done = Path(tempfile.mkdtemp()) / FOLD_DONE
        >>> keep_fold(done, Member(), np.ones((2, 1)), None, 1.5, [])
        >>> read_fold(done, lambda directory: directory.name)[0::2]
        ('member', None, [])
    """
    record = json.loads(done.read_text("utf-8"))
    with np.load(done.with_suffix(".npz")) as arrays:
        oof = arrays["oof"]
        test = arrays["test"] if "test" in arrays else None
    member = load_member(done.parent / "member")
    return member, oof, test, record["seconds"], record["history"]


def _as_json(value: dict[str, Any]) -> Any:
    """``value`` as it reads back from JSON (tuples become lists), for comparisons."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))
