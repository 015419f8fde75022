"""odio --help, --version and every COMMAND --help import no model library: the command
modules import their libraries inside run(), and only the command named is built."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("sklearn", "torch", "lightning", "transformers", "pandas", "scipy", "onnxruntime")
"""Libraries that only the paths needing them may import."""

RUNNER = """
import contextlib, json, sys
from odio.cli import main
with contextlib.redirect_stdout(sys.stderr), contextlib.suppress(SystemExit):
    main(json.loads(sys.argv[1]))
print(json.dumps(sorted(name for name in json.loads(sys.argv[2]) if name in sys.modules)))
"""


def imported(argv: list[str], names: tuple[str, ...] = HEAVY) -> list[str]:
    """Which of ``names`` ``odio ARGV`` imported, run in a fresh interpreter."""
    command = [sys.executable, "-c", RUNNER, json.dumps(argv), json.dumps(names)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["train", "--help"]])
def test_help_and_version_import_no_model_library(argv):
    assert imported(argv) == []


def test_the_main_help_imports_no_settings_either():
    assert imported(["--help"], ("pydantic", "numpy", "yaml", "odio.config")) == []


@pytest.mark.parametrize(
    "command",
    ["evaluate", "predict", "info", "explain", "check", "distill", "export", "serve", "report"],
)
def test_no_command_help_imports_a_model_library(command):
    assert imported([command, "--help"], ("sklearn", "torch", "lightning", "transformers")) == []


def test_python_m_odio_cli_runs_the_command():
    out = subprocess.run(
        [sys.executable, "-m", "odio.cli", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0 and out.stdout.startswith("odio ")
