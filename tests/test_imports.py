"""What a fresh interpreter imports to use odio: start-up stays light (issue 22 item 2).

Each check runs in its own interpreter (this one has imported everything already) and
asserts which libraries are imported, never how long it takes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import odio

TRAINING_AND_TABLES = ("sklearn", "scipy", "pandas", "torch", "lightning", "transformers")
"""What ``from odio import Detector`` must not import: seconds of start-up it does not use."""


def imported_after(code: str) -> set[str]:
    """The top-level packages in ``sys.modules`` after a fresh interpreter runs ``code``
    (with this checkout's odio first on the path)."""
    source = str(Path(odio.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([source, os.environ.get("PYTHONPATH", "")])}
    report = "import json, sys; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\n{report}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "code",
    [
        "import odio",
        "from odio import Detector",
        "import odio; odio.Detector",
        "import odio.inference.detector",
    ],
)
def test_the_detector_imports_no_training_library(code):
    loaded = imported_after(code)
    assert "odio" in loaded
    assert not loaded & set(TRAINING_AND_TABLES)


def test_scoring_an_onnx_export_imports_neither_torch_nor_transformers(tiny_onnx):
    for export in tiny_onnx.values():
        loaded = imported_after(
            "from odio import Detector\n"
            f"detector = Detector.load({str(export)!r})\n"
            "assert detector.runtime == 'onnx'\n"
            "detector.predict_proba(['hola weon', 'te odio'])\n"
            "detector.predict('ándate a tu país')\n"
        )
        assert {"onnxruntime", "tokenizers"} <= loaded
        assert not loaded & {"torch", "transformers", "lightning", "sklearn"}
