"""Static int8 with smoothing: the same function before quantising, fp32's probabilities
after it, even when one activation channel is far larger than the others (as in real
pretrained encoders)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from odio.inference.detector import Detector
from odio.text.tokens import encode, pad_id

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from odio.models.quantize import calibration_batches, quantize_int8, smooth  # noqa: E402


@pytest.fixture(scope="module")
def outlier_graph(tiny_onnx, tmp_path_factory) -> Path:
    """The tiny fp32 member with channel 0 of every LayerNorm scaled by 30: an outlier
    channel through the whole residual stream."""
    from onnx import numpy_helper

    model = onnx.load(str(tiny_onnx["fp32"] / "fold_0" / "model.onnx"))
    norms = {n.input[1] for n in model.graph.node if n.op_type == "LayerNormalization"}
    assert norms
    for init in model.graph.initializer:
        if init.name in norms:
            scale = numpy_helper.to_array(init).copy()
            scale[0] *= 30
            init.CopyFrom(numpy_helper.from_array(scale, init.name))
    path = tmp_path_factory.mktemp("outlier") / "model.onnx"
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def tokens(tiny_run) -> tuple[list[list[int]], int]:
    detector = Detector.load(tiny_run, runtime="torch")
    member = detector.model.members[0]
    from odio.text.preprocess import preprocess_many

    texts = preprocess_many(pd.read_csv(tiny_run / "oof.csv")["text"].tolist())
    return encode(member.tokenizer, texts, member.max_length), pad_id(member.tokenizer)


def probabilities(graph: Path | bytes, batches) -> np.ndarray:
    session = ort.InferenceSession(
        graph if isinstance(graph, bytes) else str(graph), providers=["CPUExecutionProvider"]
    )
    return np.concatenate([session.run(["probabilities"], b)[0] for b in batches])


def test_smoothing_keeps_the_function(outlier_graph, tokens):
    batches = calibration_batches(*tokens)
    smoothed = smooth(outlier_graph, batches)
    assert sum(n.op_type == "Mul" and n.name.startswith("smooth_") for n in smoothed.graph.node)
    before = probabilities(outlier_graph, batches)
    after = probabilities(smoothed.SerializeToString(), batches)
    assert np.abs(after - before).max() <= 1e-5


def test_int8_follows_fp32_despite_an_outlier_channel(outlier_graph, tokens, tmp_path):
    """Per-tensor scales without smoothing moved these probabilities by up to 0.13."""
    ids, padding = tokens
    batches = calibration_batches(ids, padding)
    int8 = tmp_path / "model.int8.onnx"
    quantize_int8(outlier_graph, int8, ids, padding)
    diff = np.abs(probabilities(int8, batches) - probabilities(outlier_graph, batches))
    assert diff.max() <= 5e-3
