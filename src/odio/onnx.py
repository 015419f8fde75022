"""ONNX export of transformer models and the ONNX Runtime member that serves them.

``export_onnx`` turns a saved transformer model directory into a self-contained ONNX one::

    model-onnx/
      config.json      labels, thresholds, preprocessing, "runtime": "onnx", export facts
      README.md        model card
      fold_0/
        model.onnx     the whole classifier (encoder, pooling, head); or model.int8.onnx
        odio_head.json n_labels, max_length, the ONNX file, its inputs and outputs
        tokenizer.json, tokenizer_config.json, config.json (the encoder's)

The graph takes ``input_ids`` and ``attention_mask`` (int64, dynamic batch and sequence
axes) and returns ``logits`` and ``probabilities``. ``int8`` applies ONNX Runtime's
dynamic quantisation, per output channel, to the MatMul weights, except the ones that map
many features to few (the feed-forward down-projections), which stay fp32 with the
embeddings: they cost the most accuracy for the least time. Activations are quantised per
batch, so an int8 probability moves by about 1e-3 with the other texts in its batch.
:class:`~odio.detector.Detector` loads such a directory with :class:`OnnxBackend`
automatically; it needs ONNX Runtime and a tokenizer, not torch.

Requires the ``onnx`` extra (export also needs torch); imported lazily by the Detector.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from odio.errors import OdioError
from odio.extras import MissingExtra
from odio.tokens import encode, length_batches, load_tokenizer, pad, tokenizer_key

try:
    import onnxruntime as ort
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("onnx", "the ONNX runtime", "onnxruntime") from exc

log = logging.getLogger(__name__)

HEAD_CONFIG = "odio_head.json"  # the member file written by odio.transformer as well
FP32_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"
OPSET = 17
INPUTS = ("input_ids", "attention_mask")
OUTPUTS = ("logits", "probabilities")
BATCH_SIZE = 8
"""Rows per ONNX Runtime call: on CPU, small length-sorted batches waste the least padding
(int8, 2 busy cores: batches of 8 ran 1.2x faster than 16 and 1.7x faster than 64)."""
PROBES = (
    "hola",
    "ándate a tu país, aquí no te queremos",
    "las mujeres no deberían opinar de fútbol, que se vayan a la cocina",
    "@usuario jaja qué buena la once de hoy con mi familia, emoji cara sonriente emoji " * 12,
)
"""Texts of very different lengths (the last is truncated) that every export is checked on."""


class OnnxBackend:
    """A fold member exported to ONNX, run by ONNX Runtime on the CPU.

    Inference only: it reads a member folder written by :func:`export_onnx`. Its session
    is thread-safe; its Hugging Face tokenizer is not (callers that share a member across
    threads, such as :mod:`odio.serve`, serialise calls).

    Args:
        batch_size: rows per ONNX Runtime call.
        threads: ONNX Runtime intra-op threads (``None``: one per physical core).

    Example:
        >>> member = OnnxBackend.load("model-onnx/fold_0", threads=2)  # doctest: +SKIP
        >>> member.predict_proba(["hola weon"]).shape  # doctest: +SKIP
        (1, 5)
    """

    name = "transformer"
    runtime = "onnx"

    def __init__(self, batch_size: int = BATCH_SIZE, threads: int | None = None) -> None:
        self.batch_size = batch_size
        self.threads = threads

    def fit(
        self,
        texts: Sequence[str],
        Y: np.ndarray,
        validation: tuple[Sequence[str], np.ndarray] | None = None,
    ) -> OnnxBackend:
        """Not supported: ONNX members are exported from trained models, never trained."""
        raise OdioError("an ONNX model cannot be trained: train with odio train, then export it")

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities ``(n, n_labels)`` of normalised texts, in input order."""
        return self.predict_encoded(self.encode(texts))

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of normalised texts, truncated to the model's ``max_length``."""
        return encode(self.tokenizer_, texts, self.max_length_)

    def encoding_key(self) -> str:
        """Equal for members that tokenise alike (see :func:`odio.tokens.tokenizer_key`)."""
        return self.encoding_key_

    def predict_encoded(self, ids: list[list[int]]) -> np.ndarray:
        """Probabilities for already tokenised texts, in input order."""
        out = np.zeros((len(ids), self.n_labels_))
        for rows in length_batches(ids, self.batch_size):
            input_ids, mask = pad([ids[r] for r in rows], self.pad_id_)
            (probs,) = self.session_.run(
                ["probabilities"], {"input_ids": input_ids, "attention_mask": mask}
            )
            out[rows] = probs
        return out

    def save(self, directory: str | Path) -> None:
        """Copy the member's files (ONNX graph, tokenizer, head metadata) to ``directory``."""
        directory = Path(directory)
        if directory.resolve() == self.directory_.resolve():
            return
        directory.mkdir(parents=True, exist_ok=True)
        for path in self.directory_.iterdir():
            if path.is_file():
                shutil.copy2(path, directory / path.name)

    @classmethod
    def load(
        cls, directory: str | Path, threads: int | None = None, batch_size: int = BATCH_SIZE
    ) -> OnnxBackend:
        """Read a member folder written by :func:`export_onnx`; runs no code from the files."""
        directory = Path(directory)
        meta = json.loads((directory / HEAD_CONFIG).read_text(encoding="utf-8"))
        if "onnx" not in meta:
            raise OdioError(f"{directory} holds no ONNX model; export it with odio export")
        member = cls(batch_size=batch_size, threads=threads)
        member.directory_ = directory
        member.meta_ = meta
        member.n_labels_ = int(meta["n_labels"])
        member.max_length_ = int(meta["max_length"])
        member.tokenizer_ = load_tokenizer(directory)
        pad_id = member.tokenizer_.pad_token_id
        member.pad_id_ = 0 if pad_id is None else int(pad_id)
        member.encoding_key_ = tokenizer_key(member.tokenizer_, member.max_length_)
        member.session_ = ort.InferenceSession(
            str(directory / meta["onnx"]["file"]),
            session_options(threads),
            providers=["CPUExecutionProvider"],
        )
        return member


def session_options(threads: int | None = None) -> ort.SessionOptions:
    """ONNX Runtime settings for CPU inference.

    All graph optimisations on; ``threads`` intra-op threads (``None``: one per physical
    core); idle worker threads sleep instead of spinning, which matters on a CPU shared with
    other work (a busy server, other processes): on the loaded 2-core benchmark machine
    spinning cut int8 throughput by up to half.

    >>> session_options(2).intra_op_num_threads
    2
    """
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads or 0
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return options


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
    from odio.detector import CONFIG_FILE, Detector, find_model_dir

    start = time.perf_counter()
    source = find_model_dir(model)
    config = json.loads((source / CONFIG_FILE).read_text(encoding="utf-8"))
    if config["backend"] == "tfidf":
        raise OdioError(
            "TF-IDF models need no ONNX export: scikit-learn already scores hundreds of "
            "tweets/s with them; use the model directory as it is"
        )
    if config.get("runtime") == "onnx":
        raise OdioError(f"{source} is already an ONNX export; export the original model")
    output = Path(output)
    if output.exists() and (output.resolve() == source.resolve() or not overwrite):
        raise OdioError(f"{output} already exists; choose another output or pass --overwrite")
    if not output.parent.exists():
        raise OdioError(f"output directory not found: {output.parent}")
    torch = _require_export_tools()
    from odio.transformer import TransformerBackend

    file = INT8_FILE if int8 else FP32_FILE
    tmp = Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))
    try:
        members, worst = [], 0.0
        for name in config["members"]:
            member = TransformerBackend.load(source / name, device="cpu")
            _export_member(member, tmp / name, int8=int8, opset=opset, torch=torch)
            exported = OnnxBackend.load(tmp / name)
            diff = float(
                np.abs(exported.predict_proba(PROBES) - member.predict_proba(PROBES)).max()
            )
            if not int8 and diff > 1e-3:
                raise OdioError(f"ONNX export of {name} differs from PyTorch by {diff:.1e}")
            worst = max(worst, diff)
            members.append(exported)
            del member
        onnx_info = {
            "file": file,
            "quantization": "int8 dynamic, MatMul weights" if int8 else None,
            "opset": opset,
            "max_abs_diff_probes": worst,
            "exported_from": str(source),
        }
        Detector.from_config({**config, "onnx": onnx_info}, members, runtime="onnx").save(tmp)
        if output.exists():
            shutil.rmtree(output)
        os.replace(tmp, output)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
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


def _require_export_tools() -> Any:
    from odio.extras import require

    require("onnx", "onnx", "odio export", torch=True)
    return require("torch", "transformer", "odio export", torch=True)


def _export_member(member: Any, folder: Path, *, int8: bool, opset: int, torch: Any) -> None:
    """Write one member folder: the ONNX graph, the tokenizer, the head metadata."""

    class WithProbabilities(torch.nn.Module):
        def __init__(self, classifier: torch.nn.Module) -> None:
            super().__init__()
            self.classifier = classifier

        def forward(self, input_ids: Any, attention_mask: Any) -> tuple[Any, Any]:
            logits = self.classifier(input_ids, attention_mask)
            return logits, torch.sigmoid(logits)

    folder.mkdir(parents=True)
    graph = WithProbabilities(member.classifier_).eval()
    # A padded example batch: the traced graph then keeps the attention-mask path.
    input_ids, mask = pad(member.encode(PROBES[:2]), member._pad_id())
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
    member.tokenizer_.save_pretrained(folder)
    member.classifier_.encoder.config.save_pretrained(folder)
    meta = {
        "backend": member.name,
        "base_model": member.model,
        "seed": member.seed,
        "n_labels": member.classifier_.head.out_features,
        "max_length": member.max_length_,
        "config": asdict(member.config),
        "history": member.history_,
        "onnx": {
            "file": INT8_FILE if int8 else FP32_FILE,
            "inputs": list(INPUTS),
            "outputs": list(OUTPUTS),
            "opset": opset,
            "int8": int8,
        },
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
