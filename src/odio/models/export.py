"""ONNX export of encoder models: fp32 or int8, checked against PyTorch.

``export_onnx`` turns a saved encoder model directory into a self-contained ONNX one: the
same ``config.json`` (labels, thresholds, normalisation; ``"runtime": "onnx"`` and the
export's facts), the shared tokenizer, and one folder per member holding its graph (see
:mod:`odio.models.onnx`). ``int8`` applies ONNX Runtime's dynamic quantisation, per output
channel, to the MatMul weights, except the ones that map many features to few (the
feed-forward down-projections), which stay fp32 with the embeddings: they cost the most
accuracy for the least time. Activations are quantised per batch, so an int8 probability
moves by about 1e-3 with the other texts in its batch.

Requires the ``onnx`` and ``transformer`` extras.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from odio.errors import OdioError
from odio.extras import require
from odio.files import staging_dir, swap_in
from odio.models.protocols import HEAD_CONFIG

OPSET = 17
"""The default ONNX opset."""
INPUTS = ("input_ids", "attention_mask")
OUTPUTS = ("logits", "probabilities")
PROBES = (
    "hola",
    "ándate a tu país, aquí no te queremos",
    "las mujeres no deberían opinar de fútbol, que se vayan a la cocina",
    "@usuario jaja qué buena la once de hoy con mi familia, emoji cara sonriente emoji " * 12,
)
"""Texts of very different lengths (the last is truncated) that every export is checked on."""


@dataclass
class ExportReport:
    """What :func:`export_onnx` wrote and how closely it matches PyTorch."""

    output: str
    members: int
    file: str
    """The ONNX file in each member folder (``model.onnx`` or ``model.int8.onnx``)."""
    max_abs_diff: float
    """Largest |ONNX - PyTorch| probability on the probe texts, over all members."""
    megabytes: float
    """Size of the ONNX files, all members together."""
    seconds: float

    def summary(self) -> str:
        return (
            f"{self.output}: {self.members} members exported to {self.file} "
            f"({self.megabytes:.0f} MB) in {self.seconds:.1f}s; largest probability "
            f"difference from PyTorch on the probe texts: {self.max_abs_diff:.1e}"
        )


def export_onnx(
    model: str | Path,
    output: str | Path,
    *,
    int8: bool = False,
    opset: int = OPSET,
    overwrite: bool = False,
) -> ExportReport:
    """Export every fold member of a transformer model to ONNX (fp32, or int8 weights).

    The output directory is complete or absent: it is written next to its final place and
    renamed at the end. Each member is checked against PyTorch on :data:`PROBES`; an fp32
    export that differs by more than 1e-3 is an error (int8 differs by design).

    Args:
        model: a model directory (or its run directory) saved by ``odio train``.
        output: the directory to write.
        int8: quantise MatMul weights to int8 (a RoBERTuito-size member: 178 MB instead
            of 433, the fp32 embeddings being most of it; several times faster on CPU,
            see ``benchmarks/RESULTS.md``).
        opset: ONNX opset version.
        overwrite: replace an existing ``output``.

    Example:
        >>> export_onnx("runs/e5/model", "runs/e5/model-int8", int8=True)  # doctest: +SKIP
    """
    require("onnx", "onnx", "odio export", torch=True)
    torch = require("torch", "transformer", "odio export", torch=True)
    from odio.models.blend import Blend
    from odio.models.encoder import EncoderMember
    from odio.models.modeldir import (
        OWN_KEYS,
        child,
        find_model_dir,
        load_part,
        model_tokenizer,
        read_config,
        save_model,
    )
    from odio.models.onnx import FP32_FILE, INT8_FILE, OnnxMember
    from odio.text.preprocess import PreprocessOptions

    start = time.perf_counter()
    source = find_model_dir(model)
    config = read_config(source)
    if config["backend"] != "transformer":
        raise OdioError(
            f"{source} is a {config['backend']} model: only encoder models are exported "
            "(TF-IDF already scores hundreds of tweets/s with scikit-learn)"
        )
    if config.get("runtime") == "onnx":
        raise OdioError(f"{source} is already an ONNX export; export the original model")
    output = _checked_output(Path(output), source, overwrite)
    file = INT8_FILE if int8 else FP32_FILE
    folders = [child(source, name) for name in config["members"]]
    tokenizer = model_tokenizer(source, folders[0])
    tmp = staging_dir(output)
    try:
        members, worst = [], 0.0
        for folder in folders:
            member = load_part(lambda f: EncoderMember.load(f, tokenizer, device="cpu"), folder)
            _export_member(member, tmp / folder.name, int8=int8, opset=opset, torch=torch)
            exported = OnnxMember.load(tmp / folder.name, tokenizer)
            diff = float(
                np.abs(exported.predict_proba(PROBES) - member.predict_proba(PROBES)).max()
            )
            if not int8 and diff > 1e-3:
                raise OdioError(f"ONNX export of {folder.name} differs from PyTorch by {diff:.1e}")
            worst = max(worst, diff)
            members.append(exported)
            del member
        info = {k: v for k, v in config.items() if k not in OWN_KEYS}
        info["onnx"] = {
            "file": file,
            "quantization": "int8 dynamic, MatMul weights" if int8 else None,
            "opset": opset,
            "max_abs_diff_probes": worst,
            "exported_from": str(source),
        }
        labels = config["labels"]
        blend = Blend(
            members,
            PreprocessOptions.from_dict(config["preprocess"]),
            backend="transformer",
            runtime="onnx",
            base_model=config.get("base_model"),
        )
        save_model(
            tmp, blend, labels, np.array([config["thresholds"][lab] for lab in labels]), info
        )
        swap_in(tmp, output)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):  # a full disk, a quota, a read-only folder
            raise OdioError(f"cannot write {output}: {exc.strerror or exc}") from None
        raise
    size = sum(p.stat().st_size for p in output.glob(f"*/{file}")) / 1e6
    return ExportReport(
        output=str(output),
        members=len(members),
        file=file,
        max_abs_diff=worst,
        megabytes=size,
        seconds=time.perf_counter() - start,
    )


def _narrowing_matmuls(path: Path) -> list[str]:
    """MatMul nodes whose weight maps more features to fewer (the feed-forward
    down-projections), left in fp32 by the int8 export.

    Measured on a fine-tuned multilingual-e5-small member (400 test tweets): quantising every
    weight MatMul changed 3.0% of label decisions; per-channel weights, 1.5%; per-channel with
    these nodes kept in fp32, 0.65%, at about 60% of the all-int8 speed.
    """
    import onnx

    graph = onnx.load(str(path)).graph
    shapes = {init.name: tuple(init.dims) for init in graph.initializer}
    return [
        node.name
        for node in graph.node
        if node.op_type == "MatMul"
        and any(len(shapes.get(i, ())) == 2 and shapes[i][0] > shapes[i][1] for i in node.input)
    ]


def _checked_output(output: Path, source: Path, overwrite: bool) -> Path:
    """``output`` if an export may be written there; only an earlier ONNX export (or an
    empty folder) is ever replaced, so ``--overwrite`` cannot delete a user's files."""
    if not output.parent.exists():
        raise OdioError(f"output directory not found: {output.parent}")
    if not output.exists():
        return output
    resolved = output.resolve()
    if resolved == source.resolve() or resolved in source.resolve().parents:
        raise OdioError(f"{output} holds the model being exported; choose another output")
    if not output.is_dir():
        raise OdioError(f"{output} exists and is not a directory; choose another output")
    if any(output.iterdir()):
        from odio.models.modeldir import CONFIG_FILE

        try:
            previous = json.loads((output / CONFIG_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            previous = {}
        if not isinstance(previous, dict) or previous.get("runtime") != "onnx":
            raise OdioError(
                f"{output} exists and is not an ONNX export of an odio model; odio will not "
                "replace it: choose another output"
            )
        if not overwrite:
            raise OdioError(f"{output} already exists; choose another output or pass --overwrite")
    return output


def _export_member(member: Any, folder: Path, *, int8: bool, opset: int, torch: Any) -> None:
    """Write one member folder: the ONNX graph, the encoder's config, the member metadata."""
    from odio.models.onnx import FP32_FILE, INT8_FILE
    from odio.text.tokens import encode, pad, pad_id

    class WithProbabilities(torch.nn.Module):
        def __init__(self, classifier: torch.nn.Module) -> None:
            super().__init__()
            self.classifier = classifier

        def forward(self, input_ids: Any, attention_mask: Any) -> tuple[Any, Any]:
            logits = self.classifier(input_ids, attention_mask)
            return logits, torch.sigmoid(logits)

    folder.mkdir(parents=True)
    graph = WithProbabilities(member.classifier).eval()
    # A padded example batch: the traced graph then keeps the attention-mask path.
    input_ids, mask = pad(
        encode(member.tokenizer, PROBES[:2], member.max_length), pad_id(member.tokenizer)
    )
    axes = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"}}
    axes.update({out: {0: "batch"} for out in OUTPUTS})
    fp32 = folder / FP32_FILE
    with _quiet_export(), torch.no_grad():
        # The TorchScript exporter: the dynamo one's int8 graphs ran about 30% slower here.
        torch.onnx.export(
            graph,
            (torch.from_numpy(input_ids), torch.from_numpy(mask)),
            str(fp32),
            dynamo=False,
            input_names=list(INPUTS),
            output_names=list(OUTPUTS),
            dynamic_axes=axes,
            opset_version=opset,
        )
        if int8:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantize_dynamic(
                fp32,
                folder / INT8_FILE,
                weight_type=QuantType.QInt8,
                op_types_to_quantize=["MatMul"],
                per_channel=True,
                nodes_to_exclude=_narrowing_matmuls(fp32),
            )
            fp32.unlink()
    member.classifier.hf_config.save_pretrained(folder)
    meta = member.meta()
    meta["onnx"] = {
        "file": INT8_FILE if int8 else FP32_FILE,
        "inputs": list(INPUTS),
        "outputs": list(OUTPUTS),
        "opset": opset,
        "int8": int8,
    }
    (folder / HEAD_CONFIG).write_text(json.dumps(meta, indent=2), encoding="utf-8")


@contextlib.contextmanager
def _quiet_export() -> Iterator[None]:
    """Silence the exporter's tracer warnings and the quantiser's pre-processing advice."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            yield
        finally:
            root.setLevel(level)
