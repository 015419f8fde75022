"""Explanations in their own lane, so that they never starve predictions.

An explanation by occlusion scores its text once without each word: hundreds of texts for a
long tweet, tens of seconds on a CPU. Run whole on the scoring thread, it held every
prediction sent beside it for as long. Here one explanation is computed at a time, on its own
thread (the lane), and each of its scoring calls goes to the scoring thread as a separate job
of at most :data:`EXPLAIN_CHUNK` texts, so that predictions are scored between them: a
prediction waits for at most one chunk, and the model is still used by one thread at a time.
Exact (``linear``, TF-IDF) explanations take one scoring call and run whole on the scoring
thread. How many explanations may wait is bounded by the guard (``max_explain_queued``).

Needs no web framework.

Example:
    >>> lane = ExplainLane(detector, batcher)  # doctest: +SKIP
    >>> lane.explain("ándate a tu país").result().method  # doctest: +SKIP
    'occlusion'
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any

import numpy as np

from odio.inference import explain as explaining
from odio.inference.detector import Detector
from odio.inference.explain import Explanation
from odio.serve.batching import Batcher

__all__ = ["EXPLAIN_CHUNK", "ExplainLane"]

EXPLAIN_CHUNK = 8
"""Most texts of an explanation scored in one job of the scoring thread: what a prediction
sent beside an explanation waits for at most (8 variants of a 256-word text: about 1 s
with an int8 ONNX encoder on 2 cores, against 34 s for the whole explanation)."""


class ExplainLane:
    """One explanation at a time, on its own thread, scoring through ``batcher``.

    Args:
        detector: the served Detector (its model is used only through ``batcher``).
        batcher: the scoring thread that owns the model.
        max_words: most words of a text explained by occlusion.
    """

    def __init__(self, detector: Detector, batcher: Batcher, *, max_words: int | None = None):
        self.detector = detector
        self.batcher = batcher
        self.max_words = max_words
        self._thread: ThreadPoolExecutor | None = None

    def start(self) -> None:
        """Start the lane's thread."""
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="odio-explain")

    def stop(self) -> None:
        """Finish the explanation being computed, drop those waiting, end the thread."""
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.shutdown(wait=True, cancel_futures=True)

    def explain(self, text: str, labels: Sequence[str] | None = None) -> Future[Explanation]:
        """Queue an explanation of ``text``; the future gives it (or its OdioError)."""
        if self._thread is None:
            raise RuntimeError("the explanation lane is not running: start() it first")
        return self._thread.submit(self._explain, text, labels)

    def _explain(self, text: str, labels: Sequence[str] | None) -> Explanation:
        detector = self.detector
        max_words = explaining.MAX_WORDS if self.max_words is None else self.max_words
        if explaining.default_method(detector.model) == "linear":  # one scoring call
            call = partial(detector.explain, text, labels, max_words=max_words)
            return self.batcher.run(call).result()
        shared: Any = _Shared(detector.model, self.batcher)
        return explaining.explain(
            shared,
            detector.labels,
            detector.thresholds,
            text,
            labels,
            method="occlusion",
            rule=detector.decision_rule,
            max_words=max_words,
        )


class _Shared:
    """A model whose scoring runs on the scoring thread, :data:`EXPLAIN_CHUNK` texts per job
    (everything else is the model's own)."""

    def __init__(self, model: Any, batcher: Batcher) -> None:
        self._model = model
        self._batcher = batcher

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def prepare(self, texts: list[str]) -> list[str]:
        return self._batcher.run(partial(self._model.prepare, texts)).result()

    def score(self, texts: list[str]) -> np.ndarray:
        chunks = [
            self._batcher.run(partial(self._model.score, texts[i : i + EXPLAIN_CHUNK])).result()
            for i in range(0, len(texts), EXPLAIN_CHUNK)
        ]
        return np.vstack(chunks) if chunks else np.zeros((0, 0))
