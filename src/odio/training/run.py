"""``odio train``: :func:`odio.fit` on files, then the run directory written.

See :mod:`odio.training.result` for what a run directory holds.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Any

from odio.config import RunConfig
from odio.errors import OdioError
from odio.files import check_replaceable
from odio.training.engines import Engine
from odio.training.fit import fit
from odio.training.resume import check_partial, partial_dir
from odio.training.trainers import backend_name

log = logging.getLogger(__name__)


def train_run(
    config: RunConfig,
    train_path: str | Path,
    out_dir: str | Path,
    *,
    test_path: str | Path | None = None,
    overwrite: bool = False,
    resume: bool = False,
    progress: bool = True,
    engine: Engine | None = None,
) -> dict[str, Any]:
    """Cross-validate ``config.model`` on ``train_path``, score ``test_path``, save everything.

    The same as ``odio.fit(train_path, config, test=test_path).save(out_dir)``, with
    ``out_dir`` checked before any training, and written only by the first process of a
    multi-process launch.

    Args:
        config: the run's settings.
        train_path: labelled training tweets.
        out_dir: the run directory to write (see :func:`~odio.files.check_replaceable`
            for what it may replace).
        test_path: labelled test tweets, scored by the blended fold models.
        overwrite: replace an earlier run at ``out_dir`` (and an unfinished one).
        resume: continue the unfinished encoder run that a stopped call with the same
            settings and data left in ``OUT.partial`` (:mod:`odio.training.resume`); an
            encoder run whose folds train here always keeps one there.
        progress: show progress bars.
        engine: where the folds run (default: here, one after another); see
            :mod:`odio.training.engines`. It does not change what the run writes, apart
            from ``metrics.json``'s ``engine`` and times.

    Returns:
        The contents of ``metrics.json``.

    Example:
        >>> metrics = train_run(RunConfig(), "examples/tweets_sample.csv", "runs/example",
        ...                     progress=False)  # doctest: +SKIP
        >>> metrics["oof"]["tuned"]["f1_custom"]  # doctest: +SKIP
        0.71
    """
    check_replaceable(out_dir, kind="run", overwrite=overwrite, inputs=[train_path, test_path])
    partial = None
    if backend_name(config.model) == "transformer" and not (engine and engine.remote):
        partial = partial_dir(out_dir)
        check_partial(partial, resume=resume, overwrite=overwrite)
    elif resume:
        raise OdioError(
            "--resume continues an encoder run whose folds train here; TF-IDF, a stack or "
            "folds on Ray start again"
        )
    run = fit(
        train_path,
        config,
        test=test_path,
        progress=progress,
        engine=engine,
        checkpoints=partial if is_first_process() else None,
    )
    if not is_first_process():
        # DDP across nodes started by torchrun or SLURM: every process ran the folds
        log.info("this process is not rank 0: the run directory is written by rank 0")
        return run.metrics
    run.save(out_dir, overwrite=True)  # checked above, before the training
    if partial is not None:
        shutil.rmtree(partial, ignore_errors=True)  # finished: nothing left to resume
    return run.metrics


RANK_VARIABLES = ("RANK", "NODE_RANK", "SLURM_PROCID")
"""Set by torchrun, Lightning's multi-node environment and SLURM to each process's rank."""


def is_first_process() -> bool:
    """Whether this process writes the run directory: it is not a later rank of a
    multi-process launch (``--num-nodes`` with torchrun or SLURM runs ``odio train`` once
    per process; rank 0 writes, the others only train).

    >>> is_first_process()  # a plain odio train
    True
    """
    return all(os.environ.get(name, "0").strip() in ("", "0") for name in RANK_VARIABLES)
