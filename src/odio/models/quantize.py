"""Static int8 quantisation of an encoder's ONNX graph, with activation smoothing.

Transformer activations have a few channels far larger than the rest; one int8 scale per
tensor then leaves the other channels a handful of levels. Before quantising, every input
of a weight MatMul is *smoothed* (SmoothQuant, Xiao et al. 2023): divided channel by
channel by ``s_j = max|X_j|^alpha / max|W_j|^(1 - alpha)`` in an added ``Mul`` node, while
row ``j`` of the weight is multiplied by ``s_j``; the product is unchanged, and the
activation's range moves into the weights, whose int8 scales are per output channel. The
channel maxima come from the calibration tweets (padding excluded). Then ONNX Runtime's
static quantisation (QDQ) makes the MatMul inputs int8 with ranges calibrated once; the
MatMul outputs stay fp32 (their outlier channels would suffer the same per-tensor scale).

On a fine-tuned multilingual-e5-small member (see ``benchmarks/int8_accuracy.py``) without
smoothing 96.5% of the test tweets' label decisions matched fp32; keeping the MatMul
outputs fp32 gave 98.8%; with smoothing at alpha 0.8, 99.5%.

Requires the ``onnx`` extra.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

SMOOTHING = 0.8
"""How much of an activation channel's range moves into the weights (SmoothQuant's alpha)."""
CALIBRATION_BATCH = 32
"""Tweets per calibration batch (length-sorted, padded to the longest)."""


def quantize_int8(
    fp32: Path,
    int8: Path,
    ids: Sequence[Sequence[int]],
    padding: int,
    alpha: float = SMOOTHING,
) -> None:
    """Write ``int8``: the graph ``fp32`` smoothed and statically quantised, calibrated on
    ``ids`` (token ids of normalised tweets, fed in length-sorted padded batches as at
    prediction time).

    Example:
        >>> quantize_int8(Path("fold_0/model.onnx"), Path("fold_0/model.int8.onnx"),
        ...               [[0, 57, 2], [0, 12, 9, 2]], padding=1)  # doctest: +SKIP
    """
    batches = calibration_batches(ids, padding)
    quantize_matmuls(smooth(fp32, batches, alpha), int8, batches)


def quantize_matmuls(
    model: Any, int8: Path, batches: Sequence[dict[str, np.ndarray]], *, outputs_fp32: bool = True
) -> None:
    """ONNX Runtime's static quantisation (QDQ) of the weight MatMuls of ``model`` (a path or
    an ``onnx.ModelProto``) into ``int8``: weights int8 per output channel, inputs uint8
    with ranges calibrated on ``batches``, outputs fp32 unless ``outputs_fp32`` is False.

    Example:
        >>> quantize_matmuls(Path("model.onnx"), Path("model.int8.onnx"),
        ...                  calibration_batches([[0, 57, 2]], padding=1))  # doctest: +SKIP
    """
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Batches(CalibrationDataReader):
        def __init__(self) -> None:
            self.rest = iter(batches)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.rest, None)

    extra: dict[str, Any] = {"MatMulConstBOnly": True}  # not attention's activation products
    if outputs_fp32:
        extra["OpTypesToExcludeOutputQuantization"] = ["MatMul"]
    quantize_static(
        model,
        int8,
        Batches(),
        quant_format=QuantFormat.QDQ,
        op_types_to_quantize=["MatMul"],
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        extra_options=extra,
    )


def smooth(fp32: Path, batches: Sequence[dict[str, np.ndarray]], alpha: float = SMOOTHING) -> Any:
    """The graph ``fp32`` with each weight MatMul's input smoothed: an ``onnx.ModelProto``
    computing the same function (up to float rounding).

    MatMuls that share an input (query, key and value) share one smoothing, from the largest
    of their weights' rows.
    """
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(fp32))
    graph = model.graph
    weights = {init.name: init for init in graph.initializer if len(init.dims) == 2}
    consumers: dict[str, list[Any]] = {}
    for node in graph.node:
        if node.op_type == "MatMul" and node.input[1] in weights:
            consumers.setdefault(node.input[0], []).append(node)
    maxima = _channel_maxima(model, list(consumers), batches)
    before: dict[int, Any] = {}  # id of a smoothed input's first reader -> its Mul
    for k, (name, nodes) in enumerate(consumers.items()):
        arrays = [numpy_helper.to_array(weights[n.input[1]]) for n in nodes]
        w_max = np.max([np.abs(w).max(axis=1) for w in arrays], axis=0)
        scale = np.maximum(maxima[name], 1e-5) ** alpha / np.maximum(w_max, 1e-5) ** (1 - alpha)
        scale = np.clip(scale, 1e-3, 1e3).astype(np.float32)
        inverse = numpy_helper.from_array((1 / scale).astype(np.float32), f"smooth_{k}_inverse")
        graph.initializer.append(inverse)
        before[id(nodes[0])] = helper.make_node(
            "Mul", [name, inverse.name], [f"{name}_smoothed"], name=f"smooth_{k}"
        )
        for node, w in zip(nodes, arrays, strict=True):
            weights[node.input[1]].CopyFrom(
                numpy_helper.from_array((w * scale[:, None]).astype(np.float32), node.input[1])
            )
            node.input[0] = f"{name}_smoothed"
    ordered = []
    for node in graph.node:  # each Mul right before the first MatMul that reads it
        if id(node) in before:
            ordered.append(before[id(node)])
        ordered.append(node)
    del graph.node[:]
    graph.node.extend(ordered)
    return model


def _channel_maxima(
    model: Any, names: list[str], batches: Sequence[dict[str, np.ndarray]]
) -> dict[str, np.ndarray]:
    """The largest |value| of each channel (last axis) of the tensors ``names`` over the
    calibration batches, padded positions left out."""
    import onnx
    import onnxruntime as ort

    from odio.models.onnx import session_options

    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    for name in names:
        probe.graph.output.append(onnx.helper.make_empty_tensor_value_info(name))
    session = ort.InferenceSession(
        probe.SerializeToString(), session_options(), providers=["CPUExecutionProvider"]
    )
    maxima: dict[str, np.ndarray] = {}
    for batch in batches:
        real = batch["attention_mask"].astype(bool)
        for name, value in zip(names, session.run(names, batch), strict=True):
            padded = value.shape[:2] == real.shape
            rows = value[real] if padded else value.reshape(-1, value.shape[-1])
            top = np.abs(rows).max(axis=0)
            maxima[name] = np.maximum(maxima[name], top) if name in maxima else top
    return maxima


def calibration_batches(ids: Sequence[Sequence[int]], padding: int) -> list[dict[str, np.ndarray]]:
    """ONNX inputs of ``ids`` in length-sorted padded batches, as the model sees them when
    it scores.

    >>> [b["input_ids"].shape for b in calibration_batches([[0, 5, 2], [0, 2]], padding=1)]
    [(2, 3)]
    """
    from odio.text.tokens import length_batches, pad

    out = []
    for rows in length_batches(ids, CALIBRATION_BATCH):
        input_ids, mask = pad([ids[r] for r in rows], padding)
        out.append({"input_ids": input_ids, "attention_mask": mask})
    return out
