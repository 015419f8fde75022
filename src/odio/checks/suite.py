"""Functional test suites: a YAML file of functionalities, expanded into labelled cases.

A suite says what a hate-speech model should decide for kinds of text (a *functionality*:
explicit derogation, a threat, counter-speech quoting hate, a friendly insult, a slur spelt
with digits...). Each functionality has a name, a description, a group (``derogation``,
``threat``, ``counter_speech``, ``obfuscation``, ...), the label values every case of it
expects (``expect``), and its cases: literal texts, and templates whose placeholders
(``{grupo}``, ``{insulto}``) range over the suite's word lists::

    name: mini
    description: A two-functionality example.
    language: es-CL
    labels: [Odio, Mujeres, Comunidades Migrantes]   # the schema; the main label first
    lists:
      grupo:
        - {text: las mujeres, target: Mujeres}        # the expected target follows the word
        - {text: los peruanos, target: Comunidades Migrantes}
      plaga: [una plaga, basura]
    functionalities:
      - name: derogation_dehumanising
        description: A group compared to vermin or waste.
        group: derogation
        expect: {Odio: 1, target: 1}     # target: the case's target group label(s)
        templates: ["{grupo} son {plaga}"]
      - name: neutral_mention
        description: A group named without judgement.
        group: mention
        expect: {Odio: 0, target: 0}
        cases: [{text: "mi vecina es peruana", target: Comunidades Migrantes}]

``expect`` maps labels of the suite's schema to 0 or 1; its key ``target`` stands for the
target-group labels of each case: those of the functionality's ``target`` and of the list
items its template used. A case expects exactly these labels; the others are not scored
(a hateful tweet about Peruvian women may or may not also be marked for ``Mujeres``).

A template expands to the cartesian product of its placeholders' lists (a placeholder used
twice takes the same word both times). ``max_cases`` (per functionality, default the
suite's) caps what the templates of a functionality generate: the cap is shared fairly
between its templates and each keeps a sample of its combinations drawn with a seed made of
the suite's ``seed``, the functionality's name and the template's position, so a suite
always expands to the same cases. Literal ``cases`` are always kept. ``obfuscate: {method:
leet, slots: [grupo]}`` obfuscates the words those placeholders take
(:mod:`odio.checks.obfuscate`). Duplicate texts within a functionality are dropped.

Mistakes (an unknown placeholder, list or label, an empty list, a template with no target
where one is expected) raise :class:`~odio.errors.OdioError` naming the file and the
functionality. Suites are for evaluation only: never train or tune a model on one.
"""

from __future__ import annotations

import itertools
import logging
import math
import random
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from odio.checks.obfuscate import METHODS, obfuscate
from odio.errors import OdioError

log = logging.getLogger(__name__)

__all__ = ["Case", "Functionality", "Suite", "load_suite", "parse_suite", "shipped_suites"]

DEFAULT_SUITE = "es_cl"
"""The suite ``odio check`` runs when none is named: Chilean Spanish, written for odio."""
TARGET = "target"
"""The ``expect`` key standing for each case's target-group labels."""
SEPARATOR = "; "
"""Joins a case's target labels into its target group name (``none`` when it has none)."""
NO_TARGET = "none"


# --- the YAML file, as written -----------------------------------------------------------


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _as_list(value: Any) -> Any:
    """``"Mujeres"`` -> ``["Mujeres"]``; lists and anything else unchanged."""
    return [value] if isinstance(value, str) else value


class _Item(_Spec):
    """A word of a list, with the target-group label(s) it names."""

    text: str = Field(min_length=1)
    target: list[str] = []

    _targets = field_validator("target", mode="before")(_as_list)


class _Union(_Spec):
    """A list made of other lists: ``{union: [grupo_m, grupo_f]}``."""

    union: list[str] = Field(min_length=1)


class _Obfuscation(_Spec):
    method: str
    slots: list[str] = Field(min_length=1)

    _slots = field_validator("slots", mode="before")(_as_list)

    @field_validator("method")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in METHODS:
            raise ValueError(f"unknown method {value!r}; methods: {', '.join(METHODS)}")
        return value


class _FunctionalitySpec(_Spec):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = Field(min_length=1)
    group: str = Field(min_length=1)
    expect: dict[str, int] = Field(min_length=1)
    target: list[str] = []
    templates: list[str] = []
    cases: list[str | _Item] = []
    obfuscate: _Obfuscation | None = None
    max_cases: int | None = Field(None, ge=1)

    _target = field_validator("target", mode="before")(_as_list)

    @field_validator("expect")
    @classmethod
    def _binary(cls, value: dict[str, int]) -> dict[str, int]:
        wrong = {k: v for k, v in value.items() if v not in (0, 1)}
        if wrong:
            raise ValueError(f"expected values are 0 or 1, got {wrong}")
        return value


class _SuiteSpec(_Spec):
    name: str = Field(min_length=1)
    description: str = ""
    language: str = ""
    labels: list[str] = Field(min_length=1)
    max_cases: int = Field(60, ge=1)
    seed: int = 0
    lists: dict[str, list[str | _Item] | _Union] = {}
    functionalities: list[_FunctionalitySpec] = Field(min_length=1)


# --- the expanded suite ------------------------------------------------------------------


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


@dataclass(frozen=True)
class Suite:
    """A functional test suite, expanded (see the module documentation for the format).

    Example:
        >>> suite = load_suite()
        >>> suite.name, len(suite.functionalities) >= 25, len(suite.cases) >= 1500
        ('es_cl', True, True)
    """

    name: str
    description: str
    language: str
    labels: list[str]
    """The label schema of its expectations, the main label first."""
    functionalities: list[Functionality]
    source: str = ""
    """Where it was read from."""
    lists: dict[str, list[str]] = field(default_factory=dict)
    """The words of every list (for keeping them out of training data)."""

    @property
    def cases(self) -> list[Case]:
        """Every case, functionality by functionality."""
        return [case for f in self.functionalities for case in f.cases]

    @property
    def groups(self) -> list[str]:
        """Functionality groups, in order of first appearance."""
        return list(dict.fromkeys(f.group for f in self.functionalities))

    def summary(self) -> str:
        """One line: name, size, language.

        >>> load_suite().summary()  # doctest: +ELLIPSIS
        'es_cl: ... functionalities, ... cases (es-CL)'
        """
        n = len(self.functionalities)
        language = f" ({self.language})" if self.language else ""
        return f"{self.name}: {n} functionalities, {len(self.cases)} cases{language}"


def shipped_suites() -> dict[str, Path]:
    """Suites that ship with odio: name -> YAML file.

    >>> "es_cl" in shipped_suites()
    True
    """
    folder = resources.files("odio.checks").joinpath("suites")
    return {
        Path(entry.name).stem: Path(str(entry))
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith((".yaml", ".yml"))
    }


def load_suite(name_or_path: str | Path | None = None) -> Suite:
    """Read and expand a suite: a shipped one by name, or a YAML file.

    Args:
        name_or_path: a YAML file, or the name of a suite that ships with odio (see
            :func:`shipped_suites`); ``None`` is :data:`DEFAULT_SUITE`.

    Raises:
        OdioError: no such file or suite, or the file is not a valid suite.

    Example:
        >>> load_suite("es_cl").labels[0]
        'Odio'
    """
    shipped = shipped_suites()
    name = str(name_or_path) if name_or_path is not None else DEFAULT_SUITE
    path = Path(name)
    if not path.is_file():
        if name not in shipped:
            raise OdioError(
                f"{name}: no such suite file or shipped suite (shipped: {', '.join(shipped)})"
            )
        path = shipped[name]
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise OdioError(f"{path}: cannot read the suite: {exc}") from None
    return parse_suite(data, source=str(path))


def parse_suite(data: Any, *, source: str = "<suite>") -> Suite:
    """Validate a suite's YAML content (already parsed) and expand its cases.

    Example:
        >>> suite = parse_suite({"name": "s", "labels": ["Odio"], "lists": {"x": ["a", "b"]},
        ...     "functionalities": [{"name": "f", "description": "d", "group": "g",
        ...                          "expect": {"Odio": 1}, "templates": ["odio {x}"]}]})
        >>> [(c.id, c.text, c.expect) for c in suite.cases]
        [('f:1', 'odio a', {'Odio': 1}), ('f:2', 'odio b', {'Odio': 1})]
    """
    if not isinstance(data, dict):
        raise OdioError(f"{source}: a suite is a YAML mapping (name, labels, functionalities)")
    try:
        spec = _SuiteSpec.model_validate(data)
    except ValidationError as exc:
        raise OdioError(f"{source}: {_describe(exc, data)}") from None
    lists = _resolve_lists(spec, source)
    names: set[str] = set()
    functionalities: list[Functionality] = []
    seen: dict[str, Case] = {}
    for fspec in spec.functionalities:
        where = f"{source}: functionality {fspec.name!r}"
        if fspec.name in names:
            raise OdioError(f"{where}: the name is used twice")
        names.add(fspec.name)
        functionality = _expand(fspec, spec, lists, where)
        for case in functionality.cases:
            other = seen.setdefault(case.text, case)
            if other.expect != case.expect:
                raise OdioError(
                    f"{where}: case {case.text!r} expects {case.expect}, but case {other.id} "
                    f"has the same text and expects {other.expect}"
                )
        functionalities.append(functionality)
    suite = Suite(
        spec.name,
        spec.description,
        spec.language,
        list(spec.labels),
        functionalities,
        source,
        {name: [item.text for item in items] for name, items in lists.items()},
    )
    log.debug("suite %s", suite.summary())
    return suite


def _describe(exc: ValidationError, data: dict[str, Any]) -> str:
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
    """A validation error's location without pydantic's union tags (``str``, ``_Item``,
    ``list[...]``): the YAML keys and list positions."""
    return [
        p for p in loc if isinstance(p, int) or not (p == "str" or p.startswith("_") or "[" in p)
    ]


def _resolve_lists(spec: _SuiteSpec, source: str) -> dict[str, list[_Item]]:
    """Every list as items, unions flattened; labels of targets checked."""
    plain: dict[str, list[_Item]] = {}
    for name, value in spec.lists.items():
        if isinstance(value, _Union):
            continue
        if not value:
            raise OdioError(f"{source}: list {name!r} is empty")
        items = [_Item(text=v) if isinstance(v, str) else v for v in value]
        for item in items:
            _check_labels(item.target, spec.labels, f"{source}: list {name!r}, {item.text!r}")
        plain[name] = items
    lists = dict(plain)
    for name, value in spec.lists.items():
        if isinstance(value, _Union):
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


def _expand(
    fspec: _FunctionalitySpec, spec: _SuiteSpec, lists: dict[str, list[_Item]], where: str
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
        item = _Item(text=case) if isinstance(case, str) else case
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
    pieces: list[tuple[str, str | None]], words: dict[str, _Item], obf: _Obfuscation | None
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
