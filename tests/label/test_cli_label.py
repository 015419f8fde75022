"""``odio label``'s help imports no data or model library (the page's server is the
standard library's), and its serve flags are the fields of LabelSettings."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from odio.cli.parser import parse

HEAVY = ("sklearn", "torch", "transformers", "pandas", "numpy", "scipy", "fastapi", "uvicorn")
RUNNER = """
import contextlib, json, sys
from odio.cli import main
with contextlib.redirect_stdout(sys.stderr), contextlib.suppress(SystemExit):
    main(json.loads(sys.argv[1]))
print(json.dumps(sorted(name for name in json.loads(sys.argv[2]) if name in sys.modules)))
"""


@pytest.mark.parametrize("argv", [["label", "--help"], ["label", "serve", "--help"]])
def test_label_help_imports_no_heavy_library(argv):
    command = [sys.executable, "-c", RUNNER, json.dumps(argv), json.dumps(HEAVY)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_serve_flags_come_from_the_settings_and_the_token_is_no_flag(monkeypatch):
    from odio.cli import flags
    from odio.label.web import LabelSettings, settings

    args = parse(["label", "serve", "p.db", "--votes", "2", "--port", "9000"])
    monkeypatch.setenv("ODIO_LABEL_TOKEN", "s3cret")
    config = settings(**flags.model_flags(args, LabelSettings))
    assert (config.votes, config.port, config.host, config.token) == (
        2,
        9000,
        "127.0.0.1",
        "s3cret",
    )
    with pytest.raises(SystemExit):
        parse(["label", "serve", "p.db", "--token", "x"])
    with pytest.raises(SystemExit):
        parse(["label", "serve", "p.db", "--votes", "0"])
