"""Micro-batching: concurrent requests scored together, by the one thread that owns the model.

A scoring request puts its texts on a queue and waits on a future. One thread takes the
first request waiting, gathers the requests that follow until it holds ``max_batch`` texts or
``max_wait_ms`` have passed since it took the first (whatever is already waiting is taken
either way), scores their texts in one call, and hands each request its own rows, in order.
A request with more than ``max_batch`` texts is scored alone; one that would overflow a batch
opens the next one. Other work on the model (an explanation) runs on the same thread between
batches, so the model is never used by two threads at once: a Hugging Face fast tokenizer is
not safe to call from several ("Already borrowed"), and PyTorch and ONNX Runtime already use
every core for one batch.

When a scoring call raises, each request of its batch is scored again alone, so that only
the requests that fail alone get the exception (one bad input fails no other client's
request); the thread goes on with the next batch. Needs no web framework.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

import numpy as np

T = TypeVar("T")


@dataclass
class BatchStats:
    """What a :class:`Batcher` has scored since it was made."""

    batches: int = 0
    """Scoring calls made."""
    requests: int = 0
    """Requests scored in them."""
    most_requests: int = 0
    """Most requests scored in one call."""


@dataclass
class _Texts:
    """A request's texts, to score with others'."""

    texts: list[str]
    future: Future[np.ndarray]


@dataclass
class _Call(Generic[T]):
    """Work to run alone on the scoring thread."""

    call: Callable[[], T]
    future: Future[T]


_STOP: Any = object()
"""Put on the queue by :meth:`Batcher.stop`: the thread ends when it takes it."""


class Batcher:
    """One thread owns a model and scores concurrent requests in shared calls.

    Args:
        score: scores a list of texts: one row per text, in order (e.g.
            :meth:`~odio.inference.detector.Detector.predict_proba`).
        max_batch: most texts in one call of ``score``; 1 scores one request per call.
        max_wait_ms: how long to wait for more requests after taking the first; 0 takes
            only those already waiting.

    Example:
        >>> lengths = lambda texts: np.array([[len(t)] for t in texts])
        >>> with Batcher(lengths, max_batch=8, max_wait_ms=0) as batcher:
        ...     batcher.submit(["hola", "qué tal"]).result().tolist()
        [[4], [7]]
    """

    def __init__(
        self,
        score: Callable[[list[str]], np.ndarray],
        *,
        max_batch: int = 64,
        max_wait_ms: float = 5.0,
    ) -> None:
        if max_batch < 1 or max_wait_ms < 0:
            raise ValueError("max_batch must be >= 1 and max_wait_ms >= 0")
        self.score = score
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000
        self._stats = BatchStats()
        self._jobs: queue.SimpleQueue[_Texts | _Call[Any]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._accepting = threading.Lock()  # no job is put after the stop mark

    @property
    def running(self) -> bool:
        """Whether the scoring thread is running (between :meth:`start` and :meth:`stop`)."""
        return self._thread is not None

    @property
    def stats(self) -> BatchStats:
        """A copy of the counts so far."""
        return replace(self._stats)

    def start(self) -> None:
        """Start the scoring thread (a batcher can be started again after :meth:`stop`)."""
        with self._accepting:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="odio-batcher", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        """Finish the work already submitted, then end the thread."""
        with self._accepting:
            thread, self._thread = self._thread, None
            if thread is None:
                return
            self._jobs.put(_STOP)
        thread.join()

    def __enter__(self) -> Batcher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def submit(self, texts: Sequence[str]) -> Future[np.ndarray]:
        """Queue ``texts`` for scoring; the future gives their rows, in order."""
        job = _Texts(list(texts), Future())
        self._put(job)
        return job.future

    def run(self, call: Callable[[], T]) -> Future[T]:
        """Queue ``call`` to run alone on the scoring thread (work that uses the model)."""
        job = _Call(call, Future())
        self._put(job)
        return job.future

    def _put(self, job: _Texts | _Call[Any]) -> None:
        with self._accepting:
            if self._thread is None:
                raise RuntimeError("the batcher is not running: start() it first")
            self._jobs.put(job)

    def _run(self) -> None:
        held: _Texts | _Call[Any] | None = None  # taken, but not part of the last batch
        while True:
            job = held if held is not None else self._jobs.get()
            if job is _STOP:
                return
            if isinstance(job, _Call):
                _settle(job.future, job.call)
                held = None
            else:
                batch, held = self._gather(job)
                self._score(batch)

    def _gather(self, first: _Texts) -> tuple[list[_Texts], _Texts | _Call[Any] | None]:
        """``first`` and the requests after it that fit, and the job taken that did not."""
        batch, size = [first], len(first.texts)
        deadline = time.monotonic() + self.max_wait
        while size < self.max_batch:
            left = deadline - time.monotonic()
            try:
                job = self._jobs.get(timeout=left) if left > 0 else self._jobs.get_nowait()
            except queue.Empty:
                break
            if not isinstance(job, _Texts) or size + len(job.texts) > self.max_batch:
                return batch, job
            batch.append(job)
            size += len(job.texts)
        return batch, None

    def _score(self, batch: list[_Texts]) -> None:
        # a request whose client has gone (its future cancelled) is not scored
        batch = [job for job in batch if job.future.set_running_or_notify_cancel()]
        if not batch:
            return
        try:
            P = self._call([text for job in batch for text in job.texts], batch)
        except Exception as exc:
            if len(batch) == 1:
                batch[0].future.set_exception(exc)
                return
            # One request's texts may be what failed: each is scored alone, so that only the
            # requests that fail alone hear of it (one long text failed four others' requests).
            for job in batch:
                try:
                    job.future.set_result(self._call(job.texts, [job]))
                except Exception as alone:  # the thread goes on
                    job.future.set_exception(alone)
            return
        start = 0
        for job in batch:
            end = start + len(job.texts)
            job.future.set_result(P[start:end])
            start = end

    def _call(self, texts: list[str], batch: list[_Texts]) -> np.ndarray:
        """``score(texts)``, checked for one row per text, counted in :attr:`stats`."""
        P = self.score(texts)
        if len(P) != len(texts):
            raise ValueError(f"scored {len(P)} rows for {len(texts)} texts")
        self._stats.batches += 1
        self._stats.requests += len(batch)
        self._stats.most_requests = max(self._stats.most_requests, len(batch))
        return P


def _settle(future: Future[T], call: Callable[[], T]) -> None:
    """Run ``call`` into ``future`` (unless the future was cancelled)."""
    if not future.set_running_or_notify_cancel():
        return
    try:
        future.set_result(call())
    except Exception as exc:
        future.set_exception(exc)
