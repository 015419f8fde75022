"""Every config in benchmarks/ is one `odio train --config` accepts, so each RESULTS.md
command that names one runs as printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from odio.config import RunConfig

CONFIGS = sorted((Path(__file__).parents[1] / "benchmarks").glob("*.yaml"))


def test_there_are_configs() -> None:
    assert len(CONFIGS) > 10


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_config_is_valid(path: Path) -> None:
    RunConfig.from_yaml(path)
