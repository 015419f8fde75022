"""The ``odio`` argument parser, one subcommand per module of :mod:`odio.cli`.

Only the arguments of the command being run are built (:func:`build_parser` with its
name): ``odio --help`` and ``odio --version`` read the one-line summaries of the command
modules, which import nothing heavy, and ``odio train --help`` reads the run settings
without importing a model backend.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from types import ModuleType

from odio.cli import (
    check,
    common,
    compare,
    distill,
    evaluate,
    explain,
    export,
    info,
    label,
    predict,
    report,
    serve,
    train,
)
from odio.versions import VERSION

COMMANDS: tuple[ModuleType, ...] = (
    train,
    evaluate,
    predict,
    info,
    explain,
    check,
    distill,
    export,
    serve,
    report,
    compare,
    label,
)
"""The command modules, in the order ``odio --help`` lists them. Each has ``SUMMARY``,
``DESCRIPTION``, ``EXAMPLES``, ``add_arguments(parser)`` and ``run(args) -> int``, and may
have ``LIST_OPTIONS``, the options taking several words that could swallow its files."""

ALL = "*"
"""``build_parser(ALL)``: every command's arguments (for tests and documentation)."""


def build_parser(command: str | None = ALL) -> argparse.ArgumentParser:
    """The argument parser of every subcommand, with the arguments of ``command`` (every
    command's with :data:`ALL`, none with ``None``).

    >>> build_parser().parse_args(["info", "runs/tfidf"]).model
    'runs/tfidf'
    """
    parser = common.Parser(
        prog="odio",
        description="Hate-speech detection for Spanish tweets: train with k-fold "
        "cross-validation, evaluate, score files, explain, check, export and serve.",
        epilog="examples:\n"
        "  odio train examples/tweets_sample.csv --out runs/example\n"
        "  odio predict runs/example --text 'ándate a tu país'\n"
        "  odio COMMAND --help",
        formatter_class=common.HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"odio {VERSION}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        name = module.__name__.rsplit(".", 1)[-1]
        subparser = common.command(sub, module)
        if command in (ALL, name):
            module.add_arguments(subparser)
            subparser.set_defaults(module=module)
    return parser


def command_of(argv: Sequence[str]) -> str | None:
    """The subcommand named on a command line (its first word not an option), if any.

    >>> command_of(["train", "x.csv"]), command_of(["--help"])
    ('train', None)
    """
    names = {module.__name__.rsplit(".", 1)[-1] for module in COMMANDS}
    first = next((word for word in argv if not word.startswith("-")), None)
    return first if first in names else None


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """The arguments of a command line, with the files given after a list option read as
    files (:func:`~odio.cli.common.files_before_lists`); usage errors exit with status 2
    as argparse's do.

    >>> parse(["check", "runs/tfidf", "--labels", "Odio", "Mujeres"]).labels
    ['Odio', 'Mujeres']
    """
    name = command_of(argv)
    parser = build_parser(name)
    if name is None:
        return parser.parse_args(argv)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    command = sub.choices[name]
    options: Sequence[str] = getattr(command.get_default("module"), "LIST_OPTIONS", ())
    assert isinstance(command, common.Parser)
    command.list_options = [option for option in options if option in argv]
    return parser.parse_args(common.files_before_lists(argv, options))
