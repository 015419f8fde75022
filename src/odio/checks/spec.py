"""A functional test suite's YAML file, as written: the pydantic models that validate it, and
one line naming the most specific mistake (see :mod:`odio.checks.suite` for the format).

Example:
    >>> ItemSpec.model_validate({"text": "las mujeres", "target": "Mujeres"}).target
    ['Mujeres']
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from odio.checks.obfuscate import METHODS

__all__ = [
    "FunctionalitySpec",
    "ItemSpec",
    "ObfuscationSpec",
    "SuiteSpec",
    "UnionSpec",
    "describe_error",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _as_list(value: Any) -> Any:
    """``"Mujeres"`` -> ``["Mujeres"]``; lists and anything else unchanged."""
    return [value] if isinstance(value, str) else value


class ItemSpec(_Strict):
    """A word of a list, with the target-group label(s) it names."""

    text: str = Field(min_length=1)
    target: list[str] = []

    _targets = field_validator("target", mode="before")(_as_list)


class UnionSpec(_Strict):
    """A list made of other lists: ``{union: [grupo_m, grupo_f]}``."""

    union: list[str] = Field(min_length=1)


class ObfuscationSpec(_Strict):
    method: str
    slots: list[str] = Field(min_length=1)

    _slots = field_validator("slots", mode="before")(_as_list)

    @field_validator("method")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in METHODS:
            raise ValueError(f"unknown method {value!r}; methods: {', '.join(METHODS)}")
        return value


class FunctionalitySpec(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = Field(min_length=1)
    group: str = Field(min_length=1)
    expect: dict[str, int] = Field(min_length=1)
    target: list[str] = []
    templates: list[str] = []
    cases: list[str | ItemSpec] = []
    obfuscate: ObfuscationSpec | None = None
    max_cases: int | None = Field(None, ge=1)

    _target = field_validator("target", mode="before")(_as_list)

    @field_validator("expect")
    @classmethod
    def _binary(cls, value: dict[str, int]) -> dict[str, int]:
        wrong = {k: v for k, v in value.items() if v not in (0, 1)}
        if wrong:
            raise ValueError(f"expected values are 0 or 1, got {wrong}")
        return value


class SuiteSpec(_Strict):
    name: str = Field(min_length=1)
    description: str = ""
    language: str = ""
    labels: list[str] = Field(min_length=1)
    max_cases: int = Field(60, ge=1)
    seed: int = 0
    lists: dict[str, list[str | ItemSpec] | UnionSpec] = {}
    functionalities: list[FunctionalitySpec] = Field(min_length=1)


_MODELS = frozenset({"ItemSpec", "UnionSpec", "ObfuscationSpec", "FunctionalitySpec", "SuiteSpec"})
"""Model names pydantic puts in an error's location when a value may take several shapes."""


def describe_error(exc: ValidationError, data: dict[str, Any]) -> str:
    """The most specific validation problem (the deepest, where a value could be one of
    several shapes), naming the functionality by its name and the key by its YAML path."""
    errors = exc.errors()
    error = max(errors, key=lambda e: len(_keys(e["loc"])))
    loc = list(error["loc"])
    where = []
    if loc[:1] == ["functionalities"] and len(loc) > 1 and isinstance(loc[1], int):
        entries = data.get("functionalities")
        entry = entries[loc[1]] if isinstance(entries, list) else None
        name = entry.get("name") if isinstance(entry, dict) else None
        where.append(f"functionality {name!r}" if name else f"functionality #{loc[1] + 1}")
        loc = loc[2:]
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in _keys(loc))
    if path:
        where.append(f"key '{path.lstrip('.')}'")
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    elif error["type"] == "missing":
        message = "missing"
    message = re.sub(r" or instance of \w+", "", message[:1].lower() + message[1:])
    return ", ".join(where) + (": " if where else "") + message


def _keys(loc: Sequence[int | str]) -> list[int | str]:
    """A validation error's location without pydantic's union tags (``str``, ``ItemSpec``,
    ``list[...]``): the YAML keys and list positions."""
    return [
        p
        for p in loc
        if isinstance(p, int) or not (p == "str" or p.startswith("_") or p in _MODELS or "[" in p)
    ]
