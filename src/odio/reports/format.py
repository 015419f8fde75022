"""Cell formatting shared by the report's sections: numbers, durations, settings."""

from __future__ import annotations

import math
from typing import Any


def num(value: Any, digits: int = 4) -> str:
    """A score with ``digits`` decimals; ``-`` when missing (``None``, NaN).

    >>> num(0.81234), num(None), num(float("nan")), num(3)
    ('0.8123', '-', '-', '3.0000')
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return "-" if value is None or isinstance(value, float) else str(value)
    return f"{value:.{digits}f}"


def duration(seconds: float) -> str:
    """``"9.9 s"``, ``"15 min 01 s"``, ``"1 h 05 min"``.

    >>> duration(9.91), duration(901), duration(3935.3)
    ('9.9 s', '15 min 01 s', '1 h 05 min')
    """
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def brief(value: Any) -> str:
    """A setting's value on one line: ``(2, 5)`` for a list, ``k: v`` for a mapping.

    >>> brief([2, 5]), brief({"a": 1})
    ('(2, 5)', 'a: 1')
    """
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(brief(v) for v in value) + ")"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {brief(v)}" for k, v in value.items())
    return str(value)
