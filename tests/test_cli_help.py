"""Every subcommand's help: a description, examples that parse, defaults shown, -q and -v."""

from __future__ import annotations

import argparse
import shlex

import pytest

from odio.cli import build_parser, main

PARSER = build_parser()
COMMANDS = next(a for a in PARSER._actions if isinstance(a, argparse._SubParsersAction)).choices


def test_every_subcommand_is_listed_in_the_main_help(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out
    for name in COMMANDS:
        assert f"    {name}" in out


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_has_a_description_examples_and_defaults(name, capsys):
    command = COMMANDS[name]
    assert command.description and len(command.description) > 40
    with pytest.raises(SystemExit):
        main([name, "--help"])
    out = capsys.readouterr().out
    assert command.description.split()[0] in out and "examples:" in out
    examples = [line.strip() for line in command.epilog.splitlines()[1:]]
    assert examples and all(f"odio {name} " in e for e in examples)
    for example in examples:  # each example parses
        words = shlex.split(example.split(" < ")[0].split(" > ")[0])
        words = words[words.index("odio") + 1 :]
        assert PARSER.parse_args(words).command == name
    flags = {s for a in command._actions for s in a.option_strings}
    assert {"-q", "--quiet", "-v", "--verbose"} <= flags
    formatter = command._get_formatter()
    for action in command._actions:
        shown = action.default not in (None, False, argparse.SUPPRESS) and not action.required
        if shown and action.option_strings:
            text = formatter._get_help_string(action)
            assert "default" in text, f"{name} {action.option_strings[0]}: default not shown"


def test_the_same_kind_of_argument_has_the_same_name():
    for name, command in COMMANDS.items():
        for action in command._actions:
            if action.dest == "model" and not action.option_strings:
                assert action.metavar == "MODEL", name
            if "-o" in action.option_strings:
                assert action.metavar in ("FILE", "OUT_DIR"), name
