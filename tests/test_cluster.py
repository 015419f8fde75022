"""Ray stays optional: nothing imports it until --engine ray runs; folders travel to workers."""

from __future__ import annotations

import subprocess
import sys

import pytest

from odio.cluster import require_ray, ship_dir, unpack
from odio.extras import MissingExtra


def test_odio_and_its_help_never_import_ray():
    code = """
import contextlib, sys
import odio, odio.cli, odio.cluster, odio.training.engines, odio.training.run
import odio.inference.distributed
parser = odio.cli.build_parser()
for command in ("train", "predict"):
    with contextlib.suppress(SystemExit):
        parser.parse_args([command, "--help"])
print("ray imported" if "ray" in sys.modules else "ray not imported")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "--fold-cpus" in out.stdout and "--actors" in out.stdout
    assert out.stdout.strip().endswith("ray not imported")


def test_without_ray_the_message_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(MissingExtra) as info:
        require_ray()
    assert str(info.value) == (
        "--engine ray needs the 'ray' extra (ray is not installed): pip install 'odio[ray]'"
    )


@pytest.mark.cluster
def test_a_shipped_folder_unpacks_once_per_node(ray_local, tmp_path):
    model = tmp_path / "model"
    (model / "fold_0").mkdir(parents=True)
    (model / "config.json").write_text('{"labels": ["Odio"]}')
    (model / "fold_0" / "weights.bin").write_bytes(bytes(range(256)) * 10)
    shipped = ship_dir(model)
    assert shipped.name == "model" and shipped.size == 2560 + 20
    first = unpack(shipped, tmp_path / "node")
    assert first.name == "model" and first.parent.name == shipped.digest
    assert (first / "fold_0" / "weights.bin").read_bytes() == bytes(range(256)) * 10
    assert unpack(shipped, tmp_path / "node") == first  # already there: reused
    left = {p.name for p in (tmp_path / "node").iterdir()}
    assert left == {shipped.digest, f".{shipped.digest}.lock"}  # no half-written copy
    (model / "config.json").write_text('{"labels": ["Odio", "Mujeres"]}')
    assert ship_dir(model).digest != shipped.digest  # other contents, another folder
