"""Training-time augmentation: copies of tweets with one word obfuscated the way people hide
slurs and insults (swapped or dropped letters, leetspeak, letters spaced out).

Each augmented copy keeps its tweet's labels. Perturbations are drawn with a seeded
generator, so a run is reproducible. The functional test suite's word lists are never used
here: augmentation must not teach the model the cases it is evaluated on.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

KINDS = ("swaps", "deletions", "leetspeak", "spacing")
"""The perturbations, each with its own rate in :class:`odio.config.AugmentConfig`."""
_LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}


def perturb(word: str, kind: str, rng: np.random.Generator) -> str:
    """One obfuscated spelling of ``word``.

    >>> rng = np.random.default_rng(0)
    >>> perturb("maricon", "leetspeak", rng), perturb("odio", "spacing", rng)
    ('m4r1c0n', 'o d i o')
    """
    if kind == "spacing":
        return " ".join(word)
    if kind == "leetspeak":
        return "".join(_LEET.get(ch, ch) for ch in word.lower())
    i = int(rng.integers(1, len(word) - 1))
    if kind == "swaps":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "deletions":
        return word[:i] + word[i + 1 :]
    raise ValueError(f"unknown perturbation {kind!r}; one of {', '.join(KINDS)}")


def augment(
    texts: Sequence[str], rates: dict[str, float], seed: int = 42
) -> tuple[list[str], list[int]]:
    """Obfuscated copies of some texts: each text gets, for each perturbation, a copy with
    one random word of 4+ letters perturbed, with that perturbation's probability.

    Returns:
        ``(copies, origin)``: the new texts and, for each, the index of its original.

    Example:
        >>> copies, origin = augment(["te odio maricon", "sí"], {"spacing": 1.0}, seed=1)
        >>> origin, copies[0] in ("te o d i o maricon", "te odio m a r i c o n")
        ([0], True)
    """
    rng = np.random.default_rng(seed)
    copies: list[str] = []
    origin: list[int] = []
    for index, text in enumerate(texts):
        words = text.split(" ")
        candidates = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
        for kind in KINDS:
            rate = rates.get(kind, 0.0)
            if not rate or not candidates or rng.random() >= rate:
                continue
            chosen = candidates[int(rng.integers(len(candidates)))]
            changed = words.copy()
            changed[chosen] = perturb(words[chosen], kind, rng)
            copies.append(" ".join(changed))
            origin.append(index)
    return copies, origin
