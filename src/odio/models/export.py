"""ONNX export of encoder models: fp32 or int8, checked against PyTorch.

``export_onnx`` turns a saved encoder model directory into a self-contained ONNX one: the
same ``config.json`` (labels, thresholds, normalisation; ``"runtime": "onnx"`` and the
export's facts), the shared tokenizer, and one folder per member holding its graph (see
:mod:`odio.models.onnx`). ``int8`` quantises the weight MatMuls statically (see
:mod:`odio.models.quantize`): weights int8 per output channel, inputs smoothed and uint8
with ranges calibrated once, on tweets like the ones the model will score (by default the
run's own training tweets, ``oof.csv``). Fixed activation ranges make a tweet's
probabilities independent of the other tweets in its batch, which dynamic quantisation
(ranges measured per batch) does not.

Requires the ``onnx`` and ``transformer`` extras.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from odio.errors import OdioError
from odio.extras import require
from odio.files import check_replaceable, replacing
from odio.models.protocols import HEAD_CONFIG
from odio.models.quantize import SMOOTHING, quantize_int8

OPSET = 17
"""The default ONNX opset."""
CALIBRATION_TEXTS = 512
"""Tweets that calibrate the int8 activation ranges (a fixed random sample of those given)."""
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
    calibration: Sequence[str] | None = None,
    opset: int = OPSET,
    overwrite: bool = False,
) -> ExportReport:
    """Export every fold member of a transformer model to ONNX (fp32, or int8).

    The output directory is complete or absent: it is written next to its final place and
    renamed at the end. Each member is checked against PyTorch on :data:`PROBES`; an fp32
    export that differs by more than 1e-3 is an error (int8 differs by design).

    Args:
        model: a model directory (or its run directory) saved by ``odio train``.
        output: the directory to write.
        int8: quantise the MatMul nodes to int8 (a RoBERTuito-size member: 178 MB instead
            of 433, the fp32 embeddings being most of it; several times faster on CPU,
            see ``benchmarks/RESULTS.md``).
        calibration: raw tweets that calibrate the int8 activation ranges (required with
            ``int8``; :data:`CALIBRATION_TEXTS` of them are used). Use tweets like the ones
            the model will score: its training tweets are the usual choice.
        opset: ONNX opset version.
        overwrite: replace an existing ``output``.

    Example:
        >>> tweets = pd.read_csv("runs/e5/oof.csv")["text"]  # doctest: +SKIP
        >>> export_onnx("runs/e5/model", "runs/e5/model-int8", int8=True,
        ...             calibration=tweets)  # doctest: +SKIP
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
    preprocess = PreprocessOptions.from_dict(config["preprocess"])
    calibrating = _calibration_sample(calibration, preprocess) if int8 else []
    file = INT8_FILE if int8 else FP32_FILE
    folders = [child(source, name) for name in config["members"]]
    tokenizer = model_tokenizer(source, folders[0])
    with replacing(output, what="the export", kind="export") as tmp:
        members, worst = [], 0.0
        for folder in folders:
            member = load_part(lambda f: EncoderMember.load(f, tokenizer, device="cpu"), folder)
            _export_member(member, tmp / folder.name, calibrating, opset=opset, torch=torch)
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
            "quantization": (
                f"int8 static, MatMul inputs smoothed (alpha {SMOOTHING}), "
                f"calibrated on {len(calibrating)} tweets"
                if int8
                else None
            ),
            "opset": opset,
            "max_abs_diff_probes": worst,
            "exported_from": str(source),
        }
        labels = config["labels"]
        blend = Blend(
            members,
            preprocess,
            backend="transformer",
            runtime="onnx",
            base_model=config.get("base_model"),
        )
        save_model(
            tmp, blend, labels, np.array([config["thresholds"][lab] for lab in labels]), info
        )
    size = sum(p.stat().st_size for p in output.glob(f"*/{file}")) / 1e6
    return ExportReport(
        output=str(output),
        members=len(members),
        file=file,
        max_abs_diff=worst,
        megabytes=size,
        seconds=time.perf_counter() - start,
    )


def _calibration_sample(texts: Sequence[str] | None, options: Any) -> list[str]:
    """Up to :data:`CALIBRATION_TEXTS` normalised tweets, a fixed random sample of ``texts``.

    >>> from odio.text.preprocess import PreprocessOptions
    >>> _calibration_sample(["Hola @juan", " ", "jajajaja"], PreprocessOptions())
    ['Hola @usuario', 'jaja']
    """
    from odio.data.tables import is_text
    from odio.text.preprocess import preprocess_many

    kept = [t for t in texts or () if is_text(t)]
    if not kept:
        raise OdioError(
            "an int8 export needs tweets to calibrate on: give the run directory (its "
            "training tweets are used) or --calibration FILE"
        )
    if len(kept) > CALIBRATION_TEXTS:
        rows = np.random.default_rng(0).choice(len(kept), CALIBRATION_TEXTS, replace=False)
        kept = [kept[i] for i in sorted(rows)]
    return [t for t in preprocess_many(kept, options) if t.strip()]


def _checked_output(output: Path, source: Path, overwrite: bool) -> Path:
    """``output`` if an export may be written there: new, empty, or (with ``overwrite``)
    an earlier export that holds nothing else (see :func:`odio.files.check_replaceable`)."""
    if not output.parent.exists():
        raise OdioError(f"output directory not found: {output.parent}")
    check_replaceable(output, kind="export", overwrite=overwrite, inputs=[source])
    return output


def _export_member(
    member: Any, folder: Path, calibration: list[str], *, opset: int, torch: Any
) -> None:
    """Write one member folder: the ONNX graph (int8 when ``calibration`` is given, see
    :func:`~odio.models.quantize.quantize_int8`), the encoder's config, the member metadata."""
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
        if calibration:
            ids = encode(member.tokenizer, calibration, member.max_length)
            quantize_int8(fp32, folder / INT8_FILE, ids, pad_id(member.tokenizer))
            fp32.unlink()
    member.classifier.hf_config.save_pretrained(folder)
    meta = member.meta()
    meta["onnx"] = {
        "file": INT8_FILE if calibration else FP32_FILE,
        "inputs": list(INPUTS),
        "outputs": list(OUTPUTS),
        "opset": opset,
        "int8": bool(calibration),
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
