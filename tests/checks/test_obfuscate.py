from __future__ import annotations

import pytest

from odio.checks.obfuscate import METHODS, obfuscate
from odio.checks.suite import load_suite


def test_each_method():
    assert obfuscate("los peruanos", "swap") == "los perunaos"
    assert obfuscate("los peruanos", "drop") == "los perunos"
    assert obfuscate("maricón", "leet") == "m4r1c0n"
    assert obfuscate("las minas", "spaces") == "las m i n a s"
    assert obfuscate("los rapa nui", "nospace") == "losrapanui"
    assert obfuscate("veneco", "emoji") == "venec⭕"
    assert obfuscate("las mujeres", "emoji") == "las m⛎jeres"
    assert obfuscate("maricón", "respell") == "marikón"
    assert obfuscate("los venezolanos", "respell") == "los benesolanoz"
    assert obfuscate("bolita", "respell") == "bolitaa"  # no rule applies: a stretched letter


@pytest.mark.parametrize("method", sorted(set(METHODS) - {"nospace"}))
def test_every_shipped_word_is_changed(method):
    lists = load_suite().lists
    for word in lists["grupo"] + lists["slur"]:
        assert obfuscate(word, method) != word, (method, word)
        assert obfuscate(word, method) == obfuscate(word, method)


def test_unknown_method():
    with pytest.raises(ValueError, match="unknown obfuscation 'rot13'; methods: swap"):
        obfuscate("hola", "rot13")
