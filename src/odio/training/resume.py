"""Resume points of a one-model run (``cv.folds: 1``, stage 1 of a staged schedule).

Stage 1 trains one encoder on every source for one long epoch or more, with no fold to fall
back on: a run stopped by a closed laptop or a pre-empted machine would start again from
nothing. ``odio train --folds 1 ... --out RUN`` therefore keeps a resume point in
``RUN.partial/`` (a Lightning checkpoint with the optimizer, scheduler, loop position and
random state, written every ``transformer.checkpoint_minutes`` of training) and deletes it
once ``RUN`` is written; ``odio train ... --resume`` with the same settings and data
continues from it (:class:`odio.training.finetune.EncoderTrainer` restores it; the batches
already trained are skipped, not drawn again). In Python, ``odio.fit(...,
checkpoints=DIR)`` does the same.

Example:
    >>> partial_dir("runs/stage1").name
    'stage1.partial'
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from odio.errors import OdioError

__all__ = ["RUN_FILE", "check_partial", "open_partial", "partial_dir"]

RUN_FILE = "run.json"
"""What a partial directory records of its run: the settings and the data's sha256."""


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


def _as_json(value: dict[str, Any]) -> Any:
    """``value`` as it reads back from JSON (tuples become lists), for comparisons."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))
