"""A model records the library versions it was trained with, and warns when they drift."""

from __future__ import annotations

import json
import logging
import shutil

from odio.inference.detector import Detector
from odio.versions import VERSION, library_versions, version_drift


def test_versions_are_recorded_and_match_the_package():
    from importlib.metadata import version

    import odio

    assert odio.__version__ == VERSION == version("odio")
    assert library_versions()["odio"] == VERSION


def test_a_drift_in_what_shapes_inputs_is_warned_about(tfidf_run, tmp_path, caplog):
    model = tmp_path / "model"
    shutil.copytree(tfidf_run / "model", model)
    with caplog.at_level(logging.WARNING, logger="odio"):
        Detector.load(model)
    assert not [r for r in caplog.records if "other versions" in r.getMessage()]

    config = json.loads((model / "config.json").read_text())
    config["versions"].update({"emoji": "0.0.1", "scikit-learn": "0.0.1"})
    (model / "config.json").write_text(json.dumps(config))
    with caplog.at_level(logging.WARNING, logger="odio"):
        Detector.load(model)
    (message,) = [r.getMessage() for r in caplog.records if "other versions" in r.getMessage()]
    assert "emoji 0.0.1 (trained)" in message and "scikit-learn" not in message


def test_drift_skips_libraries_the_model_did_not_use():
    assert version_drift({"tokenizers": None}, {"tokenizers": "0.23"}) == []
    assert version_drift({"odio": "0.1.0"}, {"odio": "0.2.0"}) == [
        "odio 0.1.0 (trained) != 0.2.0 (installed)"
    ]
