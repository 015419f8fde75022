"""What a functional test suite expands to: cases (a text and the labels a model should give
it), grouped by functionality.

Example:
    >>> case = Case("f:1", "f", "g", "odio a los peruanos", {"Odio": 1}, ("Peruanos",))
    >>> case.target_group
    'Peruanos'
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NO_TARGET", "SEPARATOR", "TARGET", "Case", "Functionality"]

TARGET = "target"
"""The ``expect`` key standing for each case's target-group labels."""
SEPARATOR = "; "
"""Joins a case's target labels into its target group name (``none`` when it has none)."""
NO_TARGET = "none"


@dataclass(frozen=True)
class Case:
    """One text and the label values a model should give it."""

    id: str
    """``functionality:number``, unique in the suite."""
    functionality: str
    group: str
    """The functionality's group (``derogation``, ``threat``, ...)."""
    text: str
    expect: dict[str, int]
    """Suite label -> expected 0/1; labels not named here are not scored."""
    targets: tuple[str, ...] = ()
    """The target-group labels the case is about (empty: no protected group)."""
    template: str | None = None
    """The template it was expanded from; ``None`` for a literal case."""

    @property
    def target_group(self) -> str:
        """The case's targets joined by ``"; "``, or ``"none"``."""
        return SEPARATOR.join(self.targets) or NO_TARGET


@dataclass(frozen=True)
class Functionality:
    """A kind of text and its expanded cases."""

    name: str
    description: str
    group: str
    expect: dict[str, int]
    """As written, ``target`` included."""
    cases: tuple[Case, ...]
    obfuscation: str | None = None
