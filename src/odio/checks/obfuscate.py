"""Deterministic spelling obfuscations for functional tests: the ways people hide a word
from a filter (swapped or dropped letters, leetspeak, spaced letters, joined words, emoji in
place of letters, phonetic respelling).

Each method changes one word of a phrase, its longest (the first of equal length), so that
``las mujeres`` becomes ``las muj3r3s`` rather than ``l4s muj3r3s``; ``nospace`` joins the
words of the phrase instead. Nothing is random: the same phrase always gives the same text,
so a suite expands to the same cases every time.

Example:
    >>> [obfuscate("los peruanos", m) for m in ("swap", "drop", "leet", "spaces")]
    ['los perunaos', 'los perunos', 'los p3ru4n0s', 'los p e r u a n o s']
    >>> [obfuscate("maricón", m) for m in ("nospace", "emoji", "respell")]
    ['maricón', 'maric⭕n', 'marikón']
"""

from __future__ import annotations

import re

__all__ = ["METHODS", "obfuscate"]

METHODS: dict[str, str] = {
    "swap": "two neighbouring letters in the middle of the word trade places",
    "drop": "the letter in the middle of the word is deleted",
    "leet": "vowels written as digits (a 4, e 3, i 1, o 0)",
    "spaces": "a space between every letter of the word",
    "nospace": "the words of the phrase joined (and to the word after it, in a template)",
    "emoji": "one letter replaced by an emoji that looks like it (o ⭕, a 🅰️, i ℹ️, ...)",
    "respell": "spelt as pronounced: k for c and qu, z for a final s, b and v swapped, ... "
    "(or the last letter doubled when none applies)",
}
"""Obfuscation methods and what each does."""

_LEET = str.maketrans(
    {"a": "4", "á": "4", "e": "3", "é": "3", "i": "1", "í": "1", "o": "0", "ó": "0"}
)
_EMOJI: tuple[tuple[str, str], ...] = (
    ("o", "⭕"), ("ó", "⭕"), ("a", "🅰️"), ("á", "🅰️"), ("i", "ℹ️"), ("u", "⛎"), ("b", "🅱️"),
    ("x", "❌"), ("e", "📧"),
)  # fmt: skip
_RESPELL = (
    (re.compile(r"qu(?=[eéií])"), "k"),
    (re.compile(r"c(?=[aáoóuú])"), "k"),
    (re.compile(r"ch"), "sh"),
    (re.compile(r"ll"), "y"),
    (re.compile(r"^h"), ""),
    (re.compile(r"^i"), "y"),
    (re.compile(r"z"), "s"),
    (re.compile(r"s$"), "z"),
    (re.compile(r"v"), "b"),
    (re.compile(r"(?<=[aeiouáéíóú])b"), "v"),
)


def obfuscate(phrase: str, method: str) -> str:
    """``phrase`` with its longest word obfuscated by ``method`` (see :data:`METHODS`).

    Args:
        phrase: a word or a few words, e.g. a placeholder's value.
        method: one of :data:`METHODS`.

    Raises:
        ValueError: ``method`` is not one of :data:`METHODS`.

    Example:
        >>> obfuscate("las mujeres", "leet")
        'las muj3r3s'
    """
    if method not in METHODS:
        raise ValueError(f"unknown obfuscation {method!r}; methods: {', '.join(METHODS)}")
    if method == "nospace":
        return "".join(phrase.split())
    words = phrase.split(" ")
    longest = max(range(len(words)), key=lambda i: (len(words[i]), -i))
    words[longest] = _word(words[longest], method)
    return " ".join(words)


def _word(word: str, method: str) -> str:
    """One word obfuscated by ``method``."""
    if len(word) < 2:
        return word
    mid = len(word) // 2
    if method == "swap":  # the pair nearest the middle whose letters differ
        pairs = sorted(range(len(word) - 1), key=lambda i: (i == 0, abs(i - mid), i))
        i = next((i for i in pairs if word[i] != word[i + 1]), mid - 1)
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if method == "drop":
        return word[:mid] + word[mid + 1 :]
    if method == "leet":
        return word.translate(_LEET)
    if method == "spaces":
        return " ".join(word)
    if method == "emoji":
        for letter, symbol in _EMOJI:
            if letter in word.lower():
                at = word.lower().index(letter)
                return word[:at] + symbol + word[at + 1 :]
        return word
    spelt = word
    for pattern, repl in _RESPELL:  # respell
        spelt = pattern.sub(repl, spelt)
    return spelt if spelt != word else word + word[-1]  # else a stretched last letter
