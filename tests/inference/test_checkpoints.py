"""Existing sequence-classification checkpoints (published hate-speech models) as Detectors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from odio.cli import main
from odio.errors import OdioError
from odio.inference.detector import Detector
from odio.models.export import export_onnx
from odio.text.preprocess import preprocess_many

TEXTS = ["ándate a tu país culiao", "qué rico el completo", "las minas no saben nada 😡"]


def reference(folder, texts) -> np.ndarray:
    """The checkpoint's own class probabilities, computed with transformers directly."""
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    out = []
    with torch.no_grad():
        for text in preprocess_many(texts):
            logits = model(**tokenizer(text, return_tensors="pt")).logits[0]
            multi = model.config.problem_type == "multi_label_classification"
            out.append((torch.sigmoid(logits) if multi else torch.softmax(logits, -1)).numpy())
    return np.array(out)


def test_a_multi_label_checkpoint_keeps_its_class_names(tiny_checkpoints):
    detector = Detector.load(f"hf:{tiny_checkpoints['multi']}")
    assert detector.labels == ["hateful", "targeted", "aggressive"]
    expected = reference(tiny_checkpoints["multi"], TEXTS)
    np.testing.assert_allclose(detector.predict_proba(TEXTS), expected, atol=1e-5)
    assert "members=1" in repr(detector)


def test_a_softmax_checkpoint_mapped_to_odio_labels(tiny_checkpoints):
    detector = Detector.from_hf(str(tiny_checkpoints["binary"]), {"Odio": "hateful"})
    assert detector.labels == ["Odio"]
    expected = reference(tiny_checkpoints["binary"], TEXTS)[:, [1]]
    np.testing.assert_allclose(detector.predict_proba(TEXTS), expected, atol=1e-5)
    with pytest.raises(OdioError, match="no class 'odio'; its classes are: 'non-hateful'"):
        Detector.from_hf(str(tiny_checkpoints["binary"]), {"Odio": "odio"})


def test_saved_and_exported_like_any_model(tiny_checkpoints, tmp_path):
    detector = Detector.from_hf(str(tiny_checkpoints["multi"]), {"Odio": "hateful"})
    detector.save(tmp_path / "model")
    again = Detector.load(tmp_path / "model")
    np.testing.assert_allclose(again.predict_proba(TEXTS), detector.predict_proba(TEXTS))
    export_onnx(tmp_path / "model", tmp_path / "onnx")
    onnx = Detector.load(tmp_path / "onnx")
    assert onnx.runtime == "onnx"
    np.testing.assert_allclose(onnx.predict_proba(TEXTS), detector.predict_proba(TEXTS), atol=1e-4)
    assert again.explain(TEXTS[0]).method == "occlusion"


def test_evaluate_and_compare_a_checkpoint_beside_a_run(
    tiny_checkpoints, tfidf_run, split_files, tmp_path, capsys
):
    _, test = split_files
    out = tmp_path / "published"
    argv = ["evaluate", f"hf:{tiny_checkpoints['multi']}", str(test), "--labels", "Odio=hateful"]
    assert main([*argv, "--out", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["labels"] == ["hateful"] and result["metric"] == "macro_f1"
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["kind"] == "evaluation" and saved["test"]["tuned"] == result["tuned"]
    predictions = pd.read_csv(out / "test_predictions.csv")
    assert len(predictions) == len(pd.read_csv(test))
    # the run's own evaluation on the same file, with the same label, ranks beside it
    mine = tmp_path / "mine"
    assert (
        main(["evaluate", str(tfidf_run), str(test), "--labels", "Odio", "--out", str(mine)]) == 0
    )
    capsys.readouterr()
    assert main(["compare", str(out), str(mine), "--format", "csv"]) == 0
    table = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out))
    assert len(table) == 2
    assert main(["evaluate", str(tfidf_run), str(test), "--out", str(out)]) == 2
    assert "pass --overwrite" in capsys.readouterr().err


def test_predict_takes_one_string_and_lists(tfidf_run):
    detector = Detector.load(tfidf_run)
    one = detector.predict("qué rico el completo")
    assert set(one) == {"probabilities", "decisions"} and one.probabilities == one["probabilities"]
    assert one.positive == [label for label, yes in one.decisions.items() if yes]
    assert isinstance(detector.predict(["a", "b"]), list)
    assert repr(detector).startswith("Detector(backend='tfidf', runtime='scikit-learn', members=3")
