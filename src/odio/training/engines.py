"""Where the folds of a cross-validation run: one after another here, or as Ray tasks.

An engine runs ``task(shared, fold)`` for every fold and returns the results in fold order,
calling ``done(fold, result)`` as each fold finishes. The k-fold harness
(:func:`odio.training.cv.cross_validate`) gives it the fold function and what every fold
needs; the trainers never know which engine runs them.

- :class:`LocalEngine` (the default) runs the folds in this process, one after another.
- :class:`RayEngine` runs each fold as a Ray task with its own resources (``fold_cpus``,
  ``fold_gpus``), on a local Ray or a cluster. What every fold needs is put in Ray's object
  store once; each fold's result (its member, held-out and test probabilities) comes back
  to this process, and the harness assembles them in fold order, so the outputs are the
  ones the local engine writes. A fold that fails stops the others and raises
  :class:`FoldFailed` after logging the fold's traceback.

Which engine ran a run is recorded in ``metrics.json`` but is not a setting of the run
(:class:`~odio.config.RunConfig`): it changes where the work happens, not what it computes.
Each fold seeds itself, so results never depend on the order folds run or finish in.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from odio.errors import OdioError

log = logging.getLogger(__name__)

R = TypeVar("R")
ENGINES = ("local", "ray")


class Engine(Protocol):
    """Runs the folds of a cross-validation."""

    name: str
    """``local`` or ``ray``."""
    remote: bool
    """Whether folds run in other processes: their results travel back (members on the
    CPU), and the per-fold progress bars of the trainers are not shown."""

    def run_folds(
        self,
        task: Callable[[Any, int], R],
        shared: Any,
        folds: Sequence[int],
        *,
        started: Callable[[int], None] | None = None,
        done: Callable[[int, R], None] | None = None,
    ) -> list[R]:
        """``[task(shared, fold) for fold in folds]``; ``started(fold)`` when a fold starts
        (where that is known), ``done(fold, result)`` when it finishes."""
        ...

    def describe(self) -> dict[str, Any]:
        """What ``metrics.json`` records of the engine."""
        ...


class LocalEngine:
    """The folds one after another, in this process.

    Example:
        >>> LocalEngine().run_folds(lambda shared, fold: shared * fold, 10, [0, 1, 2])
        [0, 10, 20]
    """

    name = "local"
    remote = False

    def run_folds(
        self,
        task: Callable[[Any, int], R],
        shared: Any,
        folds: Sequence[int],
        *,
        started: Callable[[int], None] | None = None,
        done: Callable[[int, R], None] | None = None,
    ) -> list[R]:
        results = []
        for fold in folds:
            if started is not None:
                started(fold)
            result = task(shared, fold)
            if done is not None:
                done(fold, result)
            results.append(result)
        return results

    def describe(self) -> dict[str, Any]:
        return {"name": self.name}


@dataclass(frozen=True)
class RayEngine:
    """Each fold a Ray task with ``fold_cpus`` CPUs and ``fold_gpus`` GPUs (fractions share
    a device), on the Ray at ``address`` (see :func:`odio.cluster.connect`).

    Ray runs as many folds at once as the cluster's free resources allow. ``fold_cpus``
    also sets the threads a fold uses (Ray sets ``OMP_NUM_THREADS`` for its tasks).

    Example:
        >>> engine = RayEngine(fold_cpus=4, fold_gpus=1)  # doctest: +SKIP
        >>> train_run(config, "train.csv", "runs/x", engine=engine)  # doctest: +SKIP
    """

    address: str | None = None
    fold_cpus: float = 1.0
    fold_gpus: float = 0.0
    name = "ray"
    remote = True

    def __post_init__(self) -> None:
        if self.fold_cpus < 0 or self.fold_gpus < 0:
            raise OdioError("--fold-cpus and --fold-gpus must be 0 or more")

    def run_folds(
        self,
        task: Callable[[Any, int], R],
        shared: Any,
        folds: Sequence[int],
        *,
        started: Callable[[int], None] | None = None,
        done: Callable[[int, R], None] | None = None,
    ) -> list[R]:
        from odio.cluster import connect, require_ray

        require_ray()  # a one-line message without the extra
        import ray

        connect(self.address)
        shared_ref = ray.put(shared)  # once, not once per fold
        remote = ray.remote(task).options(
            num_cpus=self.fold_cpus,
            num_gpus=self.fold_gpus,
            max_retries=2,  # a lost worker or node; an exception in a fold is not retried
        )
        fold_of = {remote.remote(shared_ref, fold): fold for fold in folds}
        log.info(
            "%d folds submitted to Ray (%s CPU, %s GPU each)",
            len(fold_of),
            self.fold_cpus,
            self.fold_gpus,
        )
        results: dict[int, R] = {}
        pending = list(fold_of)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            fold = fold_of[ready[0]]
            try:
                result = ray.get(ready[0])
            except ray.exceptions.RayError as exc:
                for ref in pending:
                    ray.cancel(ref, force=True)
                raise FoldFailed(fold, len(folds), exc) from None
            results[fold] = result
            if done is not None:
                done(fold, result)
        return [results[fold] for fold in folds]

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "fold_cpus": self.fold_cpus, "fold_gpus": self.fold_gpus}


class FoldFailed(OdioError):
    """A fold failed on Ray; its traceback was logged (``odio.training.engines``, ERROR).

    The message is one line: which fold, and the error it raised. Nothing is written: the
    run directory is built only after every fold has finished.
    """

    def __init__(self, fold: int, n_folds: int, error: BaseException) -> None:
        cause = getattr(error, "cause", None) or error
        traceback = re.sub(r"\x1b\[[0-9;]*m", "", str(error))  # Ray colours it
        log.error("fold %d/%d failed on Ray; its traceback:\n%s", fold + 1, n_folds, traceback)
        first = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
        what = type(cause).__name__ + (f": {first}" if first else "")
        super().__init__(f"fold {fold + 1}/{n_folds} failed on Ray: {what} (traceback above)")
        self.fold = fold
        self.error = error


def create_engine(
    name: str = "local",
    *,
    address: str | None = None,
    fold_cpus: float = 1.0,
    fold_gpus: float = 0.0,
) -> Engine:
    """The engine called ``name`` (``local`` or ``ray``); Ray's settings are ignored by the
    local engine, and ``ray`` needs the ``ray`` extra.

    >>> create_engine().describe()
    {'name': 'local'}
    """
    if name == "local":
        return LocalEngine()
    if name == "ray":
        from odio.cluster import require_ray

        require_ray()  # now, not after the data is read
        return RayEngine(address=address, fold_cpus=fold_cpus, fold_gpus=fold_gpus)
    raise OdioError(f"--engine must be one of {', '.join(ENGINES)}, got {name!r}")
