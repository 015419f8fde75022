"""The ONNX Runtime member: a fold model exported to ONNX (see :mod:`odio.models.export`).

A member folder of an exported model holds::

    fold_0/
      model.onnx       the whole classifier (encoder, pooling, head); or model.int8.onnx
      odio_head.json   n_labels, max_length, the ONNX file, its inputs and outputs
      config.json      the encoder's Hugging Face config (for reference)

The graph takes ``input_ids`` and ``attention_mask`` (int64, dynamic batch and sequence
axes) and returns ``logits`` and ``probabilities``. It needs ONNX Runtime and the model's
tokenizer, read with the ``tokenizers`` library alone
(:class:`~odio.text.tokens.SavedTokenizer`): neither torch nor transformers is imported.

Requires the ``onnx`` extra.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from odio.errors import OdioError
from odio.extras import MissingExtra
from odio.models.headfile import check_max_length, read_head
from odio.models.hub import position_limit
from odio.models.modelconfig import check_member
from odio.models.protocols import HEAD_CONFIG
from odio.text.tokens import encode, length_batches, pad, pad_id

try:
    import onnxruntime as ort
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("onnx", "the ONNX runtime", "onnxruntime") from exc

FP32_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"
ONNX_FILES = (FP32_FILE, INT8_FILE)
"""The only graph files a member folder may name."""
BATCH_SIZE = 8
"""Rows per ONNX Runtime call: on CPU, small length-sorted batches waste the least padding
(int8, 2 busy cores: batches of 8 ran 1.2x faster than 16 and 1.7x faster than 64)."""


class OnnxMember:
    """A fold member exported to ONNX, run by ONNX Runtime on the CPU.

    Its session is thread-safe; its tokenizer is not (callers that share a
    member across threads, such as :mod:`odio.serve`, serialise calls).

    Args:
        directory: the member folder it was read from.
        session: the ONNX Runtime session of its graph.
        tokenizer: the model's tokenizer (shared by its members).
        meta: the contents of ``odio_head.json``.
        batch_size: rows per ONNX Runtime call.

    Example:
        >>> member = OnnxMember.load("model-onnx/fold_0", tokenizer, threads=2)  # doctest: +SKIP
        >>> member.predict_proba(["hola weon"]).shape  # doctest: +SKIP
        (1, 5)
    """

    backend = "transformer"

    def __init__(
        self,
        directory: Path,
        session: ort.InferenceSession,
        tokenizer: Any,
        meta: dict[str, Any],
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.directory = directory
        self.session = session
        self.tokenizer = tokenizer
        self.meta = meta
        self.batch_size = batch_size
        self.n_labels = int(meta["n_labels"])
        self.max_length = int(meta["max_length"])

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities ``(n, n_labels)`` of normalised texts, in input order."""
        return self.predict_encoded(encode(self.tokenizer, texts, self.max_length))

    def predict_encoded(self, ids: list[list[int]]) -> np.ndarray:
        """Probabilities for already tokenised texts, in input order."""
        out = np.zeros((len(ids), self.n_labels))
        padding = pad_id(self.tokenizer)
        for rows in length_batches(ids, self.batch_size):
            input_ids, mask = pad([ids[r] for r in rows], padding)
            (probs,) = self.session.run(
                ["probabilities"], {"input_ids": input_ids, "attention_mask": mask}
            )
            out[rows] = probs
        return out

    def save(self, directory: str | Path) -> None:
        """Copy the member's files (ONNX graph, metadata) to ``directory``."""
        directory = Path(directory)
        if directory.resolve() == self.directory.resolve():
            return
        directory.mkdir(parents=True, exist_ok=True)
        for path in self.directory.iterdir():
            if path.is_file():
                shutil.copy2(path, directory / path.name)

    @classmethod
    def load(
        cls,
        directory: str | Path,
        tokenizer: Any,
        *,
        threads: int | None = None,
        batch_size: int = BATCH_SIZE,
        n_labels: int | None = None,
    ) -> OnnxMember:
        """Read a member folder written by :func:`odio.models.export.export_onnx`; runs no
        code from the files and opens no file outside the folder. Every key of
        ``odio_head.json`` is checked (:func:`~odio.models.headfile.read_head`): ``n_labels``
        against ``n_labels`` (the labels of the model's ``config.json``) when given and
        against the graph's output, ``max_length`` against the encoder's position limit."""
        directory = check_member(Path(directory))
        meta = read_head(directory, onnx=True)
        if n_labels is not None and meta["n_labels"] != n_labels:
            raise OdioError(
                f"{directory / HEAD_CONFIG}: key 'n_labels' is {meta['n_labels']}, but the "
                f"model's config.json has {n_labels} labels"
            )
        file = meta["onnx"].get("file")
        if file not in ONNX_FILES:
            raise OdioError(
                f"{directory}: {HEAD_CONFIG} names ONNX file {file!r}; expected one of {ONNX_FILES}"
            )
        check_max_length(directory, meta["max_length"], _position_limit(directory, tokenizer))
        session = ort.InferenceSession(
            str(directory / file), session_options(threads), providers=["CPUExecutionProvider"]
        )
        inputs = {i.name for i in session.get_inputs()}
        outputs = {o.name: o.shape for o in session.get_outputs()}
        if inputs != {"input_ids", "attention_mask"} or "probabilities" not in outputs:
            raise OdioError(
                f"{directory / file}: not an odio export (inputs {sorted(inputs)}, "
                f"outputs {sorted(outputs)})"
            )
        width = outputs["probabilities"][-1] if outputs["probabilities"] else None
        if isinstance(width, int) and width != meta["n_labels"]:
            raise OdioError(
                f"{directory / HEAD_CONFIG}: key 'n_labels' is {meta['n_labels']}, but "
                f"{file} scores {width} labels"
            )
        return cls(directory, session, tokenizer, meta, batch_size)


def _position_limit(directory: Path, tokenizer: Any) -> int | None:
    """The encoder's position limit, from the Hugging Face ``config.json`` kept beside the
    graph (when there is one) and the tokenizer."""
    from types import SimpleNamespace

    try:
        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        config = {}
    config = config if isinstance(config, dict) else {}
    positions = config.get("max_position_embeddings")
    pad = config.get("pad_token_id")
    return position_limit(
        SimpleNamespace(
            max_position_embeddings=positions if isinstance(positions, int) else None,
            model_type=str(config.get("model_type", "")),
            pad_token_id=pad if isinstance(pad, int) else None,
        ),
        tokenizer,
    )


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
