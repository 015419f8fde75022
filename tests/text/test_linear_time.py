"""Every normalisation step takes time linear in the text's length, on hostile shapes.

A step that backtracks (the old newline pattern ``\\s*[\\r\\n]\\s*`` on a long run of
alternating spaces and tabs) takes time quadratic in the length: 10 times the text, 100 times
the time. Each step is timed on 10,000 and 100,000 characters of each shape; linear time gives
a ratio near 10, and the budget allows 30 (plus a small constant for timer noise), so the test
holds on a slow or loaded machine yet fails on a quadratic step. A generous absolute cap
catches a step that is slow at every size.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

import pytest

from odio.text.preprocess import STEPS, PreprocessOptions, preprocess_tweet

SMALL = 10_000
LARGE = 100_000
RATIO = 40.0
"""Largest allowed t(LARGE) / t(SMALL): quadratic time gives about 100; linear time about 10,
and up to about 20 for some regex steps on an idle machine (10,000 characters stay in the
processor's caches, 100,000 do not)."""
NOISE_S = 0.05
"""Added to the budget so steps that take microseconds are not judged on timer jitter."""
CAP_S = 5.0
"""Absolute sanity cap for one step on LARGE characters."""
TRIES = 3


def _repeat(unit: str) -> Callable[[int], str]:
    return lambda n: (unit * (n // len(unit) + 1))[:n]


SHAPES: dict[str, Callable[[int], str]] = {
    # A long run of spaces and tabs with no line break, then a line break: each start in the
    # run made the newline pattern scan to the run's end (repetition does not shorten it).
    "mixed_whitespace": lambda n: "hola" + " \t" * (n // 2 - 6) + "chao\nya!",
    "whitespace_and_newlines": _repeat(" \t\n\r \u2028\t \u2029"),
    "url_chain": _repeat("https://t.co/ab?u=http://x.cl/(a)#b,"),
    "bare_domains": _repeat("www.emol.com.latercera.cl."),
    "domain_labels": _repeat("a."),
    "emoji": _repeat("😀😂👩‍👩‍👧🏽\ufe0f"),
    "repeated_punctuation": _repeat("!?¡¿.,;:…"),
    "same_punctuation": lambda n: "hola" + "!" * (n - 4),
    "laughter": lambda n: _repeat("ja")(n - 1) + "b",
    "laughter_words": _repeat("jajaja jsjsjs ajaja "),
    "elongation": lambda n: "hol" + "a" * (n - 3),
    "elongated_words": _repeat("holaaaaaaaa siiiiii "),
    "handles": _repeat("@a_b@c"),
    "hashtags": _repeat("#aB1#Cd_2"),
    "hashtag_digits": lambda n: "#" + "1" * (n - 1),
    "spaced_letters": _repeat("o d-i.o "),
    "spaced_underscores": lambda n: "a a " + _repeat("b_")(n - 6) + "cd",
    "leetspeak": _repeat("m4r1c0n3s @$ "),
}

_ALL_ON = PreprocessOptions(deobfuscate=True, lowercase=True)
STEP_FUNCTIONS: dict[str, Callable[[str], str]] = {
    getattr(step, "__name__", str(i)): step for i, (_, step) in enumerate(STEPS)
}
STEP_FUNCTIONS["preprocess_tweet"] = lambda text: preprocess_tweet(text, _ALL_ON)


def _seconds(step: Callable[[str], str], text: str, repeats: int) -> float:
    best = float("inf")
    gc.disable()  # a collection's pause depends on the whole heap, not on the text
    try:
        for _ in range(repeats):
            start = time.perf_counter()
            step(text)
            best = min(best, time.perf_counter() - start)
    finally:
        gc.enable()
    return best


def test_every_step_is_timed() -> None:
    assert len(STEP_FUNCTIONS) == len(STEPS) + 1


@pytest.mark.parametrize("step_name", STEP_FUNCTIONS)
@pytest.mark.parametrize("shape", SHAPES)
def test_step_takes_time_linear_in_length(shape: str, step_name: str) -> None:
    step = STEP_FUNCTIONS[step_name]
    small, large = SHAPES[shape](SMALL), SHAPES[shape](LARGE)
    assert len(small) == SMALL and len(large) == LARGE
    t_small = t_large = float("inf")
    for _ in range(TRIES):  # a loaded machine may stall a timing; a quadratic step stays slow
        # Interleaved, best of each: a burst of load hits both sizes alike.
        t_small = min(t_small, _seconds(step, small, repeats=3))
        t_large = min(t_large, _seconds(step, large, repeats=1))
        assert t_large < CAP_S, f"{step_name} took {t_large:.2f} s on {LARGE:,} characters"
        if t_large < RATIO * t_small + NOISE_S:
            return
    pytest.fail(
        f"{step_name} on {shape}: {t_large:.3f} s for {LARGE:,} characters against "
        f"{t_small:.4f} s for {SMALL:,} (more than {RATIO:.0f} times: not linear)"
    )
