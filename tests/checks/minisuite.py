"""For the tests of :mod:`odio.checks`: a keyword model whose decisions the tests know in
advance, and a small suite (``MINI``, also written to a file by :func:`write_mini`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from odio.inference.detector import Detector


class KeywordModel:
    """Probability 0.9 for a label when one of its keywords is in the text, else 0.1."""

    backend = "keywords"
    runtime = "python"

    def __init__(self, keywords: dict[str, list[str]]) -> None:
        self.keywords = keywords
        self.n_labels = len(keywords)

    def prepare(self, texts: Sequence[str]) -> list[str]:
        return [t.lower() for t in texts]

    def score(self, prepared: Sequence[str]) -> np.ndarray:
        return np.array(
            [
                [0.9 if any(k in t for k in ks) else 0.1 for ks in self.keywords.values()]
                for t in prepared
            ]
        ).reshape(len(prepared), self.n_labels)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.score(self.prepare(texts))

    def describe(self) -> dict[str, Any]:
        return {"backend": self.backend}


def keyword_detector(keywords: dict[str, list[str]]) -> Detector:
    """A Detector over :class:`KeywordModel`, labels the keys of ``keywords``."""
    return Detector(KeywordModel(keywords), list(keywords))


KEYWORDS_MINI = {
    "Odio": ["son", "culiao"],
    "Mujeres": ["mujeres"],
    "Comunidades Migrantes": ["peruanos son una"],
}
"""Keywords of a model that passes 4 of MINI's 10 cases: "son" flags Odio, so "no son"
fails, and "mujeres" flags Mujeres wherever women are named."""

MINI = {
    "name": "mini",
    "description": "A small suite for the tests.",
    "language": "es-CL",
    "labels": ["Odio", "Mujeres", "Comunidades Migrantes"],
    "lists": {
        "grupo": [
            {"text": "las mujeres", "target": "Mujeres"},
            {"text": "los peruanos", "target": "Comunidades Migrantes"},
        ],
        "plaga": ["una plaga", "basura"],
    },
    "functionalities": [
        {
            "name": "dehumanising",
            "description": "A group called vermin.",
            "group": "derogation",
            "expect": {"Odio": 1, "target": 1},
            "templates": ["{grupo} son {plaga}"],
        },
        {
            "name": "negated",
            "description": "Hate negated.",
            "group": "negation",
            "expect": {"Odio": 0, "target": 0},
            "templates": ["{grupo} no son {plaga}"],
        },
        {
            "name": "friendly",
            "description": "Insults among friends.",
            "group": "profanity",
            "expect": {"Odio": 0},
            "cases": ["weón te quiero", "ya po culiao"],
        },
    ],
}
"""4 + 4 + 2 cases; ``{grupo}`` carries the target."""


def write_mini(folder: Path) -> Path:
    """MINI as ``folder/mini.yaml``."""
    path = folder / "mini.yaml"
    path.write_text(yaml.safe_dump(MINI, allow_unicode=True), encoding="utf-8")
    return path
