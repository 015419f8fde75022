"""The micro-batcher on its own: no model, no web framework, no timing assumptions."""

from __future__ import annotations

import threading
from concurrent.futures import CancelledError, Future

import numpy as np
import pytest

from odio.serve.batching import Batcher


class Scorer:
    """Scores a text as ``[len(text)]``; records each call's texts and the thread it ran on.
    While ``hold`` is set, a call waits for :meth:`release` (so requests pile up behind it)."""

    def __init__(self, hold: bool = False) -> None:
        self.calls: list[list[str]] = []
        self.threads: set[str] = set()
        self.entered = threading.Event()
        self.gate = threading.Event()
        if not hold:
            self.gate.set()

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        self.threads.add(threading.current_thread().name)
        self.entered.set()
        assert self.gate.wait(10)
        return np.array([[float(len(t))] for t in texts])

    def release(self) -> None:
        self.gate.set()


def rows(future: Future) -> list[float]:
    return future.result(timeout=10)[:, 0].tolist()


def test_requests_waiting_behind_a_batch_are_scored_together_each_with_its_own_rows():
    scorer = Scorer(hold=True)
    with Batcher(scorer, max_batch=64, max_wait_ms=0) as batcher:
        first = batcher.submit(["a"])
        assert scorer.entered.wait(10)  # the first request is being scored: the rest wait
        texts = [["b" * n, "c" * (n + 1)] if n % 3 == 0 else ["d" * n] for n in range(1, 21)]
        futures = [batcher.submit(t) for t in texts]
        scorer.release()
        assert rows(first) == [1.0]
        for request, future in zip(texts, futures, strict=True):
            assert rows(future) == [float(len(t)) for t in request]
    assert scorer.calls[0] == ["a"]
    assert scorer.calls[1] == [t for request in texts for t in request]  # one call, in order
    stats = batcher.stats
    assert (stats.batches, stats.requests, stats.most_requests) == (2, 21, 20)
    assert scorer.threads == {"odio-batcher"}


def test_a_batch_holds_at_most_max_batch_texts_and_a_larger_request_runs_alone():
    scorer = Scorer(hold=True)
    with Batcher(scorer, max_batch=4, max_wait_ms=0) as batcher:
        batcher.submit(["x"])
        assert scorer.entered.wait(10)
        sizes = [1, 2, 1, 6, 3, 1, 1]
        futures = [batcher.submit([str(i)] * n) for i, n in enumerate(sizes)]
        scorer.release()
        for n, future in zip(sizes, futures, strict=True):
            assert len(rows(future)) == n
    # in order: [1, 2, 1] fit in 4; the 6 runs alone; [3, 1] fit; the last 1 opens a batch
    assert [len(call) for call in scorer.calls] == [1, 4, 6, 4, 1]
    assert scorer.calls[2] == ["3"] * 6


def test_max_batch_1_scores_one_request_per_call():
    scorer = Scorer(hold=True)
    with Batcher(scorer, max_batch=1, max_wait_ms=5) as batcher:
        batcher.submit(["x"])
        assert scorer.entered.wait(10)
        futures = [batcher.submit(["ab", "c"]), batcher.submit(["d"]), batcher.submit(["e"])]
        scorer.release()
        assert [rows(f) for f in futures] == [[2.0, 1.0], [1.0], [1.0]]
    assert scorer.calls == [["x"], ["ab", "c"], ["d"], ["e"]]
    assert batcher.stats.most_requests == 1


def test_a_failing_request_fails_alone_and_the_thread_goes_on():
    calls = []

    def score(texts: list[str]) -> np.ndarray:
        calls.append(texts)
        if "boom" in texts:
            raise RuntimeError("the model broke")
        return np.array([[float(len(t))] for t in texts])

    entered, gate = threading.Event(), threading.Event()

    def held(texts: list[str]) -> np.ndarray:
        entered.set()
        assert gate.wait(10)
        return score(texts)

    with Batcher(held, max_wait_ms=0) as batcher:
        batcher.submit(["first"])
        assert entered.wait(10)  # the others wait, then make one batch
        texts = [["a"], ["boom"], ["bb", "ccc"], ["dddd"]]
        futures = [batcher.submit(t) for t in texts]
        gate.set()
        with pytest.raises(RuntimeError, match="the model broke"):
            futures[1].result(timeout=10)
        # one bad input failed every request of its batch: the others are scored alone
        assert [rows(futures[i]) for i in (0, 2, 3)] == [[1.0], [2.0, 3.0], [4.0]]
        assert rows(batcher.submit(["after"])) == [5.0]
    assert calls[1] == ["a", "boom", "bb", "ccc", "dddd"]  # the batch, then each alone
    assert calls[2:] == [["a"], ["boom"], ["bb", "ccc"], ["dddd"], ["after"]]


def test_a_scorer_giving_the_wrong_number_of_rows_fails_the_batch():
    with Batcher(lambda texts: np.zeros((1, 1)), max_wait_ms=0) as batcher:
        with pytest.raises(ValueError, match="scored 1 rows for 2 texts"):
            batcher.submit(["a", "b"]).result(timeout=10)


def test_calls_run_on_the_scoring_thread_in_turn():
    scorer = Scorer(hold=True)
    with Batcher(scorer, max_wait_ms=0) as batcher:
        batcher.submit(["a"])
        assert scorer.entered.wait(10)
        before = batcher.submit(["b"])
        where = batcher.run(lambda: (len(scorer.calls), threading.current_thread().name))
        after = batcher.submit(["c"])
        failing = batcher.run(lambda: 1 / 0)
        scorer.release()
        assert where.result(timeout=10) == (2, "odio-batcher")  # after "b", before "c"
        assert rows(before) == rows(after) == [1.0]
        with pytest.raises(ZeroDivisionError):
            failing.result(timeout=10)
    assert scorer.calls == [["a"], ["b"], ["c"]]


def test_a_cancelled_request_is_not_scored():
    scorer = Scorer(hold=True)
    with Batcher(scorer, max_wait_ms=0) as batcher:
        batcher.submit(["a"])
        assert scorer.entered.wait(10)
        gone, kept = batcher.submit(["gone"]), batcher.submit(["kept"])
        assert gone.cancel()
        scorer.release()
        assert rows(kept) == [4.0]
        with pytest.raises(CancelledError):
            gone.result()
    assert scorer.calls == [["a"], ["kept"]]


def test_stop_finishes_the_work_submitted_and_a_stopped_batcher_refuses_more():
    scorer = Scorer(hold=True)
    batcher = Batcher(scorer, max_wait_ms=0)
    with pytest.raises(RuntimeError, match="not running"):
        batcher.submit(["a"])
    batcher.start()
    assert batcher.running
    futures = [batcher.submit([t]) for t in ("a", "bb")]
    stopping = threading.Thread(target=batcher.stop)
    stopping.start()
    scorer.release()
    stopping.join(10)
    assert not batcher.running and [rows(f) for f in futures] == [[1.0], [2.0]]
    with pytest.raises(RuntimeError, match="not running"):
        batcher.submit(["c"])
    batcher.start()  # a stopped batcher starts again
    assert rows(batcher.submit(["ccc"])) == [3.0]
    batcher.stop()


def test_settings_are_checked():
    with pytest.raises(ValueError, match="max_batch must be >= 1"):
        Batcher(lambda texts: np.zeros((len(texts), 1)), max_batch=0)
    with pytest.raises(ValueError, match="max_wait_ms >= 0"):
        Batcher(lambda texts: np.zeros((len(texts), 1)), max_wait_ms=-1)
