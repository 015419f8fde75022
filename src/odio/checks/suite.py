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

import logging
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from odio.checks.cases import NO_TARGET, SEPARATOR, TARGET, Case, Functionality
from odio.checks.expand import expand, resolve_lists
from odio.checks.spec import SuiteSpec, describe_error
from odio.errors import OdioError

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_SUITE",
    "NO_TARGET",
    "SEPARATOR",
    "TARGET",
    "Case",
    "Functionality",
    "Suite",
    "load_suite",
    "parse_suite",
    "shipped_suites",
]

DEFAULT_SUITE = "es_cl"
"""The suite ``odio check`` runs when none is named: Chilean Spanish, written for odio."""


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
        spec = SuiteSpec.model_validate(data)
    except ValidationError as exc:
        raise OdioError(f"{source}: {describe_error(exc, data)}") from None
    lists = resolve_lists(spec, source)
    names: set[str] = set()
    functionalities: list[Functionality] = []
    seen: dict[str, Case] = {}
    for fspec in spec.functionalities:
        where = f"{source}: functionality {fspec.name!r}"
        if fspec.name in names:
            raise OdioError(f"{where}: the name is used twice")
        names.add(fspec.name)
        functionality = expand(fspec, spec, lists, where)
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
