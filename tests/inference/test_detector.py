from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from odio.inference.detector import Detector
from odio.training.trainers import default_preprocess


def test_save_load_identical_probabilities(tfidf_run, tmp_path, sample_frame):
    detector = Detector.load(tfidf_run / "model")
    texts = sample_frame["text"].tolist()
    P = detector.predict_proba(texts)
    detector.save(tmp_path / "copy")
    again = Detector.load(tmp_path / "copy")
    assert np.array_equal(P, again.predict_proba(texts))
    assert np.array_equal(detector.thresholds, again.thresholds)
    assert again.model.preprocess == detector.model.preprocess


def test_model_directory_describes_itself(tfidf_run):
    model = tfidf_run / "model"
    config = json.loads((model / "config.json").read_text())
    assert config["backend"] == "tfidf"
    assert config["members"] == ["fold_0", "fold_1", "fold_2"]
    assert set(config["thresholds"]) == set(config["labels"])
    assert config["preprocess"] == default_preprocess("tfidf").to_dict()
    assert config["data"]["min_votes"] == 2
    assert config["versions"]["scikit-learn"] and config["versions"]["emoji"]
    card = (model / "README.md").read_text()
    assert "f1_custom" in card and "test at tuned thresholds" in card
    assert not list(model.rglob("*.pkl")) and not list(model.rglob("*.pickle"))


def test_predict_returns_probabilities_and_decisions(tfidf_run):
    detector = Detector.load(tfidf_run)  # a run directory works too
    out = detector.predict(["Fuera los inmigrantes culiaos", "Qué rico el completo"])
    assert len(out) == 2
    assert set(out[0]["probabilities"]) == set(detector.labels)
    for item in out:
        for label, p in item["probabilities"].items():
            t = detector.thresholds[detector.labels.index(label)]
            assert item["decisions"][label] == (p >= t)


def test_the_documented_entry_point_works(tfidf_run):
    from odio import Detector as Exported

    detector = Exported.load(tfidf_run / "model")
    assert isinstance(detector, Detector)
    assert set(detector.predict(["ándate a tu país culiao"])[0]) == {"probabilities", "decisions"}


def test_scoring_with_an_encoder_does_not_import_lightning(tiny_run):
    """A service that only scores must not need the training stack."""
    code = (
        "import sys; from odio import Detector; "
        f"d = Detector.load({str(tiny_run)!r}, runtime='torch'); d.predict(['hola weon']); "
        "d.explain('hola weon'); "
        "print(sorted(m for m in ('lightning', 'torchmetrics', 'odio.training') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
