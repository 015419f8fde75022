"""A Hugging Face encoder with a classification head: the PyTorch member.

:class:`EncoderClassifier` is the network (encoder, pooling over real tokens or the first
token, dropout, a linear head); :class:`EncoderMember` is a fitted one with its tokenizer,
ready to score, save and load. Training it is :mod:`odio.training.finetune`'s job: nothing
here imports Lightning.

A member folder holds the encoder as a Hugging Face directory (``config.json``,
safetensors weights) plus ``odio_head.json`` (settings, history) and
``odio_head.safetensors`` (the head). The tokenizer is shared by all members of a model and
saved once, beside them (see :class:`odio.models.blend.Blend`).

Requires the ``transformer`` extra (torch, transformers).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from odio.config import TransformerConfig
from odio.errors import OdioError
from odio.extras import MissingExtra
from odio.models.protocols import HEAD_CONFIG
from odio.text.tokens import encode, length_batches, load_tokenizer, pad, pad_id

try:
    import torch
    from torch import nn
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("transformer", "a transformer model", "torch", torch=True) from exc

HEAD_WEIGHTS = "odio_head.safetensors"


def pretrained(model: str, what: str = "encoder") -> Any:
    """The ``encoder`` (``AutoModel``), ``tokenizer`` or ``config`` of a Hugging Face hub id
    or local directory, with a clear error. Code shipped with a model is never run.

    A hub id needs the network the first time (set ``HF_HUB_OFFLINE=1`` to fail fast
    offline); a path-like name must exist.

    >>> pretrained("./no-such-model-dir")
    Traceback (most recent call last):
    ...
    odio.errors.OdioError: model directory not found: ./no-such-model-dir
    """
    from transformers import AutoConfig, AutoModel

    path = Path(model).expanduser()
    if path.exists():
        model = str(path)
    elif model.startswith((".", "/", "~")) or model.count("/") > 1:
        raise OdioError(f"model directory not found: {model}")
    loaders: dict[str, Callable[[str], Any]] = {
        "encoder": lambda m: AutoModel.from_pretrained(m, trust_remote_code=False),
        "tokenizer": load_tokenizer,
        "config": lambda m: AutoConfig.from_pretrained(m, trust_remote_code=False),
    }
    try:
        return loaders[what](model)
    except (OSError, ValueError, KeyError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise OdioError(
            f"cannot load model {model!r} ({reason[:200]}). Check the name; if this machine "
            "is offline, pass a local directory saved with save_pretrained() "
            "(and set HF_HUB_OFFLINE=1 to fail fast)"
        ) from None


def position_limit(config: Any, tokenizer: Any) -> int | None:
    """The longest input an encoder accepts (RoBERTa reserves padding_idx + 1 positions).

    >>> from types import SimpleNamespace as NS
    >>> position_limit(NS(max_position_embeddings=514, model_type="roberta", pad_token_id=1),
    ...                NS(model_max_length=10**30))
    512
    """
    limits = []
    positions = getattr(config, "max_position_embeddings", None)
    if positions:
        offset = 0
        if getattr(config, "model_type", "") in ("roberta", "xlm-roberta", "camembert"):
            offset = (getattr(config, "pad_token_id", 1) or 1) + 1
        limits.append(positions - offset)
    model_max = getattr(tokenizer, "model_max_length", None)
    if model_max and model_max < 1_000_000:
        limits.append(model_max)
    return min(limits) if limits else None


class EncoderClassifier(nn.Module):
    """Encoder, pooling over real tokens (or the first token), dropout, linear head.

    Example:
        >>> from transformers import BertConfig, BertModel
        >>> enc = BertModel(BertConfig(vocab_size=50, hidden_size=8, num_hidden_layers=1,
        ...                            num_attention_heads=2, intermediate_size=16))
        >>> clf = EncoderClassifier(enc, n_labels=3)
        >>> ids = torch.tensor([[2, 5, 7, 0]]); mask = torch.tensor([[1, 1, 1, 0]])
        >>> tuple(clf(ids, mask).shape)
        (1, 3)
    """

    def __init__(
        self, encoder: Any, n_labels: int, pooling: str = "mean", dropout: float = 0.2
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.pooling = pooling
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(encoder.config.hidden_size, n_labels)
        nn.init.xavier_uniform_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        self.set_compiled(None)

    def set_compiled(self, compiled: Any) -> None:
        """Use ``compiled`` (from ``torch.compile``, sharing the encoder's parameters) in
        ``forward``; kept out of the module tree so state dicts are unchanged."""
        object.__setattr__(self, "compiled_encoder", compiled)

    def pool(self, hidden: Any, attention_mask: Any) -> Any:
        """Sentence vectors ``(batch, hidden)`` from token states ``(batch, seq, hidden)``."""
        if self.pooling == "cls":
            return hidden[:, 0]
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)

    def forward(self, input_ids: Any, attention_mask: Any) -> Any:
        encoder = self.encoder if self.compiled_encoder is None else self.compiled_encoder
        hidden = encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state  # type: ignore[operator]
        return self.head(self.dropout(self.pool(hidden, attention_mask)))


class EncoderMember:
    """A fine-tuned :class:`EncoderClassifier` with its tokenizer: scores, saves, loads.

    Args:
        classifier: the network, on the device it should score on.
        tokenizer: the base model's tokenizer (shared by the members of one model).
        max_length: token limit per text.
        base_model: the hub id or directory it was fine-tuned from.
        settings: the fine-tuning settings (pooling, dropout and the prediction batch size
            are read from them).
        seed: the training seed.
        history: per-epoch losses of its training.

    Example:
        >>> member = EncoderMember.load("runs/e5/model/fold_0", tokenizer)  # doctest: +SKIP
        >>> member.predict_proba(["te odio weon"]).shape  # doctest: +SKIP
        (1, 5)
    """

    backend = "transformer"

    def __init__(
        self,
        classifier: EncoderClassifier,
        tokenizer: Any,
        max_length: int,
        *,
        base_model: str,
        settings: TransformerConfig,
        seed: int = 42,
        history: list[dict[str, float]] | None = None,
    ) -> None:
        self.classifier = classifier
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.base_model = base_model
        self.settings = settings
        self.seed = seed
        self.history = list(history or [])
        self.n_labels = int(classifier.head.out_features)

    @property
    def device(self) -> Any:
        """Where the classifier's weights are (and where it scores)."""
        return next(self.classifier.parameters()).device

    def to(self, device: Any) -> EncoderMember:
        """Move the classifier to ``device`` (e.g. ``"cpu"`` before the member is sent to a
        machine without a GPU); returns the member."""
        self.classifier.to(device)
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities ``(n, n_labels)`` of normalised texts, in input order."""
        return self.predict_encoded(encode(self.tokenizer, texts, self.max_length))

    def predict_encoded(self, ids: list[list[int]]) -> np.ndarray:
        """Probabilities for already tokenised texts, in input order.

        Batches of ``eval_batch_size`` rows of similar length, each padded to its longest
        row, run under ``torch.inference_mode`` on :attr:`device`.
        """
        out = np.zeros((len(ids), self.n_labels))
        if not ids:
            return out
        device, padding = self.device, pad_id(self.tokenizer)
        self.classifier.eval()
        with torch.inference_mode():
            for rows in length_batches(ids, self.settings.eval_batch_size):
                input_ids, mask = pad([ids[r] for r in rows], padding)
                logits = self.classifier(
                    torch.from_numpy(input_ids).to(device), torch.from_numpy(mask).to(device)
                )
                out[rows] = torch.sigmoid(logits.float()).cpu().numpy()
        return out

    def meta(self) -> dict[str, Any]:
        """What ``odio_head.json`` holds (the ONNX export adds its own ``onnx`` entry)."""
        return {
            "backend": self.backend,
            "base_model": self.base_model,
            "seed": self.seed,
            "n_labels": self.n_labels,
            "max_length": self.max_length,
            "config": self.settings.model_dump(mode="json"),
            "history": self.history,
        }

    def save(self, directory: str | Path) -> None:
        """The encoder as a Hugging Face directory (safetensors) plus the odio head."""
        from safetensors.torch import save_file

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.classifier.encoder.save_pretrained(directory, safe_serialization=True)
        head = {
            k: v.detach().cpu().contiguous() for k, v in self.classifier.head.state_dict().items()
        }
        save_file(head, str(directory / HEAD_WEIGHTS))
        (directory / HEAD_CONFIG).write_text(json.dumps(self.meta(), indent=2), encoding="utf-8")

    @classmethod
    def load(
        cls,
        directory: str | Path,
        tokenizer: Any,
        *,
        device: str | None = None,
        threads: int | None = None,
    ) -> EncoderMember:
        """Read a member written by :meth:`save`, onto ``device`` (GPU when available).

        ``threads`` sets ``torch.set_num_threads``, which is process-wide.
        """
        from safetensors.torch import load_file

        if threads:
            torch.set_num_threads(threads)
        directory = Path(directory)
        meta = json.loads((directory / HEAD_CONFIG).read_text(encoding="utf-8"))
        settings = TransformerConfig.model_validate(meta["config"])
        encoder = pretrained(str(directory), "encoder")
        classifier = EncoderClassifier(
            encoder, meta["n_labels"], settings.pooling, settings.dropout
        )
        classifier.head.load_state_dict(load_file(str(directory / HEAD_WEIGHTS)))
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        classifier.to(device).eval()
        return cls(
            classifier,
            tokenizer,
            int(meta["max_length"]),
            base_model=meta["base_model"],
            settings=settings,
            seed=meta["seed"],
            history=meta.get("history", []),
        )
