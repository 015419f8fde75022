"""Expanding a validated suite: lists resolved (unions flattened), templates filled with a
fair, seeded sample of their combinations, obfuscation applied, expectations checked.

Example:
    >>> _share([2, 100, 100], 10)
    [2, 4, 4]
"""

from __future__ import annotations

import itertools
import math
import random
import string
from collections.abc import Sequence

from odio.checks.cases import TARGET, Case, Functionality
from odio.checks.obfuscate import obfuscate
from odio.checks.spec import FunctionalitySpec, ItemSpec, ObfuscationSpec, SuiteSpec, UnionSpec
from odio.errors import OdioError

__all__ = ["expand", "resolve_lists"]


def resolve_lists(spec: SuiteSpec, source: str) -> dict[str, list[ItemSpec]]:
    """Every list as items, unions flattened; labels of targets checked."""
    plain: dict[str, list[ItemSpec]] = {}
    for name, value in spec.lists.items():
        if isinstance(value, UnionSpec):
            continue
        if not value:
            raise OdioError(f"{source}: list {name!r} is empty")
        items = [ItemSpec(text=v) if isinstance(v, str) else v for v in value]
        for item in items:
            _check_labels(item.target, spec.labels, f"{source}: list {name!r}, {item.text!r}")
        plain[name] = items
    lists = dict(plain)
    for name, value in spec.lists.items():
        if isinstance(value, UnionSpec):
            unknown = [member for member in value.union if member not in plain]
            if unknown:
                raise OdioError(
                    f"{source}: list {name!r} joins {unknown[0]!r}, which is not a list of "
                    f"words (lists: {', '.join(plain) or 'none'})"
                )
            lists[name] = [item for member in value.union for item in plain[member]]
    return lists


def _check_labels(labels: Sequence[str], schema: Sequence[str], where: str) -> None:
    unknown = [label for label in labels if label not in schema]
    if unknown:
        raise OdioError(
            f"{where}: label {unknown[0]!r} is not in the suite's labels ({', '.join(schema)})"
        )


def _placeholders(template: str, where: str) -> list[tuple[str, str | None]]:
    """``(literal, placeholder or None)`` pieces of a template, ``{{``/``}}`` unescaped."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise OdioError(f"{where}: template {template!r}: {exc}") from None
    pieces = []
    for literal, name, spec, conversion in parsed:
        if name is not None and (not name.isidentifier() or spec or conversion):
            raise OdioError(
                f"{where}: template {template!r}: placeholders are list names in braces, "
                f"like {{grupo}}; got {{{name}{'!' + conversion if conversion else ''}"
                f"{':' + spec if spec else ''}}}"
            )
        pieces.append((literal, name))
    return pieces


def expand(
    fspec: FunctionalitySpec, spec: SuiteSpec, lists: dict[str, list[ItemSpec]], where: str
) -> Functionality:
    """A functionality's cases: literal ones first, then each template's share."""
    explicit = {k: v for k, v in fspec.expect.items() if k != TARGET}
    _check_labels(list(explicit), spec.labels, f"{where}, expect")
    _check_labels(fspec.target, spec.labels, f"{where}, target")
    if not fspec.templates and not fspec.cases:
        raise OdioError(f"{where}: no templates and no cases")
    obf = fspec.obfuscate
    texts: dict[str, tuple[tuple[str, ...], str | None]] = {}  # text -> (targets, template)
    for case in fspec.cases:
        item = ItemSpec(text=case) if isinstance(case, str) else case
        _check_labels(item.target, spec.labels, f"{where}, case {item.text!r}")
        texts.setdefault(item.text, (_targets(fspec.target, item.target), None))
    parsed = [(t, _placeholders(t, where)) for t in fspec.templates]
    for template, pieces in parsed:
        slots = list(dict.fromkeys(name for _, name in pieces if name is not None))
        unknown = [slot for slot in slots if slot not in lists]
        if unknown:
            raise OdioError(
                f"{where}: template {template!r} uses {{{unknown[0]}}}, which is not a list "
                f"(lists: {', '.join(lists) or 'none'})"
            )
        if obf and not set(obf.slots) & set(slots):
            raise OdioError(
                f"{where}: template {template!r} has none of the placeholders to obfuscate "
                f"({', '.join('{' + s + '}' for s in obf.slots)})"
            )
    cap = fspec.max_cases or spec.max_cases
    sizes = [math.prod(len(lists[n]) for n in _slots(p)) for _, p in parsed]
    for (template, pieces), take, position in zip(
        parsed, _share(sizes, cap), itertools.count(), strict=False
    ):
        slots = _slots(pieces)
        rng = random.Random(f"{spec.seed}:{fspec.name}:{position}")
        for index in sorted(rng.sample(range(sizes[position]), take)):
            choice = _combination(index, [len(lists[s]) for s in slots])
            words = {s: lists[s][i] for s, i in zip(slots, choice, strict=True)}
            text = _render(pieces, words, obf)
            item_targets = [t for s in slots for t in words[s].target]
            texts.setdefault(text, (_targets(fspec.target, item_targets), template))
    cases = []
    for number, (text, (targets, origin)) in enumerate(texts.items(), start=1):
        expect = dict(explicit)
        if TARGET in fspec.expect:
            if not targets:
                what = f"template {origin!r}" if origin else f"case {text!r}"
                raise OdioError(
                    f"{where}: {what} names no target group, but expect has 'target' (give "
                    "the functionality a target, or list items a target)"
                )
            for label in targets:
                if expect.get(label, fspec.expect[TARGET]) != fspec.expect[TARGET]:
                    raise OdioError(
                        f"{where}: case {text!r} targets {label!r}, which expect sets to "
                        f"{expect[label]} while 'target' is {fspec.expect[TARGET]}"
                    )
                expect[label] = fspec.expect[TARGET]
        elif targets:
            raise OdioError(
                f"{where}: case {text!r} names target group {targets[0]!r}, but expect has "
                "no 'target' value for it (add target: 0 or 1 to expect)"
            )
        cases.append(
            Case(f"{fspec.name}:{number}", fspec.name, fspec.group, text, expect, targets, origin)
        )
    return Functionality(
        fspec.name,
        fspec.description,
        fspec.group,
        dict(fspec.expect),
        tuple(cases),
        obf.method if obf else None,
    )


def _slots(pieces: list[tuple[str, str | None]]) -> list[str]:
    return list(dict.fromkeys(name for _, name in pieces if name is not None))


def _targets(*groups: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(label for group in groups for label in group))


def _share(sizes: list[int], cap: int) -> list[int]:
    """How many combinations each template keeps: ``cap`` shared as evenly as the sizes
    allow (a small template keeps all it has; what it leaves goes to the others).

    >>> _share([2, 100, 100], 10), _share([3, 4], 100)
    ([2, 4, 4], [3, 4])
    """
    take = [0] * len(sizes)
    remaining = cap
    order = sorted(range(len(sizes)), key=lambda i: sizes[i])
    for done, i in enumerate(order):
        take[i] = min(sizes[i], remaining // (len(sizes) - done))
        remaining -= take[i]
    return take


def _combination(index: int, radices: list[int]) -> list[int]:
    """The ``index``-th combination of the cartesian product, the last slot fastest.

    >>> [_combination(i, [2, 3]) for i in (0, 1, 3, 5)]
    [[0, 0], [0, 1], [1, 0], [1, 2]]
    """
    choice = []
    for radix in reversed(radices):
        index, digit = divmod(index, radix)
        choice.append(digit)
    return choice[::-1]


def _render(
    pieces: list[tuple[str, str | None]], words: dict[str, ItemSpec], obf: ObfuscationSpec | None
) -> str:
    """A template with its placeholders filled, the obfuscated ones obfuscated."""
    out: list[str] = []
    join_next = False
    for literal, name in pieces:
        if join_next and literal.startswith(" "):
            literal = literal[1:]  # nospace: the word runs into the next one...
        out.append(literal)
        join_next = False
        if name is None:
            continue
        word = words[name].text
        if obf and name in obf.slots:
            word = obfuscate(word, obf.method)
            if obf.method == "nospace":
                out[-1] = out[-1].removesuffix(" ")  # ...and into the one before
                join_next = True
        out.append(word)
    return "".join(out).strip()
