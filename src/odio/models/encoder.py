"""The PyTorch member: a fine-tuned encoder (or a published checkpoint) with its tokenizer.

:class:`EncoderMember` holds one of the networks of :mod:`odio.models.heads` and the model's
tokenizer, ready to score, save and load; :func:`checkpoint_member` makes one from an
existing sequence-classification checkpoint. Training it is :mod:`odio.training.finetune`'s
job: nothing here imports Lightning.

A member folder holds the encoder as a Hugging Face directory (``config.json``,
safetensors weights) plus ``odio_head.json`` (settings, history) and
``odio_head.safetensors`` (the head). The tokenizer is shared by all members of a model and
saved once, beside them (see :class:`odio.models.blend.Blend`).

Requires the ``transformer`` extra (torch, transformers).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import numpy as np

from odio.config import TransformerConfig
from odio.errors import OdioError
from odio.extras import MissingExtra
from odio.models.headfile import check_max_length, read_head
from odio.models.heads import HEADS, EncoderClassifier, SequenceClassifier, class_index
from odio.models.hub import position_limit, pretrained
from odio.models.modelconfig import check_member, first_line
from odio.models.protocols import HEAD_CONFIG
from odio.text.tokens import encode, length_batches, pad, pad_id

try:
    import torch
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("transformer", "a transformer model", "torch", torch=True) from exc


class EncoderMember:
    """A fine-tuned :class:`EncoderClassifier` (or a :class:`SequenceClassifier` checkpoint)
    with its tokenizer: scores, saves, loads.

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
        classifier: EncoderClassifier | SequenceClassifier,
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
        self.n_labels = classifier.n_labels

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

    def predict_encoded(
        self,
        ids: list[list[int]],
        around: Callable[[np.ndarray], AbstractContextManager[Any]] | None = None,
    ) -> np.ndarray:
        """Probabilities for already tokenised texts, in input order.

        Batches of ``eval_batch_size`` rows of similar length, each padded to its longest
        row, run under ``torch.inference_mode`` on :attr:`device`; ``around(rows)``, when
        given, is entered around each batch's forward pass (the training harness runs the
        upper layers on cached frozen-layer output this way).
        """
        out = np.zeros((len(ids), self.n_labels))
        if not ids:
            return out
        device, padding = self.device, pad_id(self.tokenizer)
        self.classifier.eval()
        with torch.inference_mode():
            for rows in length_batches(ids, self.settings.eval_batch_size):
                input_ids, mask = pad([ids[r] for r in rows], padding)
                with nullcontext() if around is None else around(rows):
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
            **self.classifier.describe(),
        }

    def save(self, directory: str | Path) -> None:
        """The network's weights (safetensors, Hugging Face layout) and ``odio_head.json``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.classifier.save_weights(directory)
        (directory / HEAD_CONFIG).write_text(json.dumps(self.meta(), indent=2), encoding="utf-8")

    @classmethod
    def load(
        cls,
        directory: str | Path,
        tokenizer: Any,
        *,
        device: str | None = None,
        threads: int | None = None,
        n_labels: int | None = None,
    ) -> EncoderMember:
        """Read a member written by :meth:`save`, onto ``device`` (GPU when available).

        Only safetensors weights are read, no code shipped with the folder is run and no
        file outside it is opened. Every key of ``odio_head.json`` is checked
        (:func:`~odio.models.headfile.read_head`): ``n_labels`` against ``n_labels`` (the
        labels of the model's ``config.json``) when given, ``max_length`` against the
        encoder's position limit. ``threads`` sets ``torch.set_num_threads``, which is
        process-wide.
        """
        directory = check_member(Path(directory))
        meta = read_head(directory)
        if n_labels is not None and meta["n_labels"] != n_labels:
            raise OdioError(
                f"{directory / HEAD_CONFIG}: key 'n_labels' is {meta['n_labels']}, but the "
                f"model's config.json has {n_labels} labels"
            )
        try:
            settings = TransformerConfig.model_validate(meta["config"])
        except ValueError as exc:
            raise OdioError(
                f"{directory / HEAD_CONFIG}: key 'config' is not valid fine-tuning settings "
                f"({first_line(exc)})"
            ) from None
        if threads:
            torch.set_num_threads(threads)
        classifier = HEADS[meta.get("head", "odio")].load_weights(directory, meta, settings)
        check_max_length(
            directory, meta["max_length"], position_limit(classifier.hf_config, tokenizer)
        )
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        classifier.to(device).eval()
        return cls(
            classifier,
            tokenizer,
            meta["max_length"],
            base_model=meta["base_model"],
            settings=settings,
            seed=meta.get("seed", 42),
            history=meta.get("history", []),
        )


def checkpoint_member(
    source: str,
    labels: Mapping[str, str | int] | Sequence[str] | None = None,
    *,
    max_length: int = 128,
    device: str | None = None,
) -> EncoderMember:
    """A member from an existing sequence-classification checkpoint (hub id or directory).

    Args:
        source: e.g. ``pysentimiento/robertuito-hate-speech`` or a local directory.
        labels: odio label -> the checkpoint's class name or index (see :func:`class_index`).
        max_length: token limit (capped by the model's position limit).
        device: where it scores (default: the GPU when there is one).

    Example:
        >>> member = checkpoint_member("pysentimiento/robertuito-hate-speech",
        ...                            {"Odio": "hateful"})  # doctest: +SKIP
    """
    model = pretrained(source, "classifier")
    tokenizer = pretrained(source, "tokenizer")
    limit = position_limit(model.config, tokenizer)
    classifier = SequenceClassifier(model, class_index(model.config, labels))
    classifier.to(device or ("cuda" if torch.cuda.is_available() else "cpu")).eval()
    return EncoderMember(
        classifier,
        tokenizer,
        min(max_length, limit) if limit else max_length,
        base_model=source,
        settings=TransformerConfig(max_length=max_length),
    )
