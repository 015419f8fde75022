"""The networks of a PyTorch member: an encoder with odio's head, or a published checkpoint.

:class:`EncoderClassifier` is an encoder, pooling over real tokens (or the first token),
dropout and a linear head, what ``odio train`` fine-tunes; :class:`SequenceClassifier` wraps
an existing sequence-classification checkpoint, its classes mapped to odio labels by
:func:`class_index`. Both return one logit per label, save their weights as safetensors and
are read back by the ``head`` entry of ``odio_head.json`` (:data:`HEADS`).

Requires the ``transformer`` extra (torch, transformers).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from odio.config import TransformerConfig
from odio.errors import OdioError
from odio.extras import MissingExtra
from odio.models.hub import member_weights, quiet_transformers

try:
    import torch
    from torch import nn
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("transformer", "a transformer model", "torch", torch=True) from exc

HEAD_WEIGHTS = "odio_head.safetensors"


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
        return self.forward_with_attentions(input_ids, attention_mask, attentions=False)[0]

    def forward_with_attentions(
        self, input_ids: Any, attention_mask: Any, *, attentions: bool = True
    ) -> tuple[Any, Any]:
        """Logits and, with ``attentions``, each layer's attention ``(batch, heads, seq,
        seq)`` (the encoder must use eager attention: SDPA returns none)."""
        encoder = self.encoder if self.compiled_encoder is None else self.compiled_encoder
        kwargs = {"output_attentions": True} if attentions else {}
        out = encoder(input_ids=input_ids, attention_mask=attention_mask, **kwargs)  # type: ignore[operator]
        logits = self.head(self.dropout(self.pool(out.last_hidden_state, attention_mask)))
        return logits, (out.attentions if attentions else None)

    @property
    def n_labels(self) -> int:
        return int(self.head.out_features)

    def keep_outputs(self, n: int) -> None:
        """Keep the head's first ``n`` outputs (the main head of a multi-head training).

        Example:
            >>> from transformers import BertConfig, BertModel
            >>> clf = EncoderClassifier(BertModel(BertConfig(vocab_size=50, hidden_size=8,
            ...     num_hidden_layers=1, num_attention_heads=2, intermediate_size=16)), 6)
            >>> clf.keep_outputs(3); clf.n_labels
            3
        """
        if n == self.n_labels:
            return
        head = nn.Linear(self.head.in_features, n, device=self.head.weight.device)
        with torch.no_grad():
            head.weight.copy_(self.head.weight[:n])
            head.bias.copy_(self.head.bias[:n])
        self.head = head

    @property
    def hf_config(self) -> Any:
        """The Hugging Face config of the network (kept beside exports, for reference)."""
        return self.encoder.config

    def describe(self) -> dict[str, Any]:
        """What ``odio_head.json`` records of the head (besides the member settings)."""
        return {"head": "odio"}

    def save_weights(self, directory: Path) -> None:
        """The encoder as a Hugging Face directory (safetensors) plus the odio head."""
        from safetensors.torch import save_file

        with quiet_transformers():
            self.encoder.save_pretrained(directory, safe_serialization=True)
        head = {k: v.detach().cpu().contiguous() for k, v in self.head.state_dict().items()}
        save_file(head, str(directory / HEAD_WEIGHTS))

    @classmethod
    def load_weights(
        cls, directory: Path, meta: dict[str, Any], settings: TransformerConfig
    ) -> EncoderClassifier:
        """Read what :meth:`save_weights` wrote."""
        from safetensors.torch import load_file

        classifier = cls(
            member_weights(directory, "encoder"),
            meta["n_labels"],
            settings.pooling,
            settings.dropout,
        )
        weights = load_file(str(directory / HEAD_WEIGHTS))
        shape = tuple(classifier.head.weight.shape)
        if {k: tuple(v.shape) for k, v in weights.items()} != {"weight": shape, "bias": shape[:1]}:
            raise OdioError(
                f"{directory / HEAD_WEIGHTS} does not hold a head for {shape[0]} labels of "
                f"width {shape[1]} (key 'n_labels' of odio_head.json is {meta['n_labels']})"
            )
        classifier.head.load_state_dict(weights)
        return classifier


class SequenceClassifier(nn.Module):
    """An existing sequence-classification checkpoint (``AutoModelForSequenceClassification``,
    e.g. a published hate-speech model), its classes mapped to odio labels.

    ``forward`` returns one logit per odio label such that its sigmoid is the label's
    probability: the checkpoint's own logit for a multi-label (sigmoid) model, the log-odds
    of the class's softmax probability for a single-label one. Scoring, export and
    explanations then treat it like a fine-tuned odio encoder.

    Args:
        model: the checkpoint.
        index: odio label -> the checkpoint's class index (see :func:`class_index`).

    Example:
        >>> from transformers import BertConfig, BertForSequenceClassification
        >>> cfg = BertConfig(vocab_size=50, hidden_size=8, num_hidden_layers=1,
        ...                  num_attention_heads=2, intermediate_size=16, num_labels=2)
        >>> clf = SequenceClassifier(BertForSequenceClassification(cfg), {"Odio": 1})
        >>> ids = torch.tensor([[2, 5, 7, 0]]); mask = torch.tensor([[1, 1, 1, 0]])
        >>> clf.activation, tuple(clf(ids, mask).shape)
        ('softmax', (1, 1))
    """

    def __init__(self, model: Any, index: Mapping[str, int]) -> None:
        super().__init__()
        self.model = model
        self.labels = list(index)
        self.index = list(index.values())
        config = model.config
        multi = config.problem_type == "multi_label_classification" or config.num_labels == 1
        self.activation = "sigmoid" if multi else "softmax"

    @property
    def n_labels(self) -> int:
        return len(self.index)

    @property
    def hf_config(self) -> Any:
        return self.model.config

    def forward(self, input_ids: Any, attention_mask: Any) -> Any:
        logits = self.model(input_ids=input_ids, attention_mask=attention_mask).logits.float()
        if self.activation == "sigmoid":
            return logits[:, self.index]
        log_p = torch.log_softmax(logits, dim=-1)[:, self.index]
        return log_p - torch.log1p(-log_p.exp().clamp(max=1 - 1e-7))

    def describe(self) -> dict[str, Any]:
        return {
            "head": "sequence_classification",
            "class_index": dict(zip(self.labels, self.index, strict=True)),
        }

    def save_weights(self, directory: Path) -> None:
        with quiet_transformers():
            self.model.save_pretrained(directory, safe_serialization=True)

    @classmethod
    def load_weights(
        cls, directory: Path, meta: dict[str, Any], settings: TransformerConfig
    ) -> SequenceClassifier:
        model = member_weights(directory, "classifier")
        classes = int(model.config.num_labels)
        if any(index >= classes for index in meta["class_index"].values()):
            raise OdioError(
                f"{directory}/odio_head.json: key 'class_index' names a class beyond the "
                f"checkpoint's {classes}"
            )
        return cls(model, meta["class_index"])


HEADS: dict[str, Any] = {"odio": EncoderClassifier, "sequence_classification": SequenceClassifier}
"""Classifier kinds by the ``head`` entry of ``odio_head.json``."""


def class_index(
    config: Any, labels: Mapping[str, str | int] | Sequence[str] | None
) -> dict[str, int]:
    """odio label -> the checkpoint's class index, from its ``id2label`` names.

    ``labels`` maps odio labels to the checkpoint's class names or indices (e.g.
    ``{"Odio": "hateful"}``), or lists class names kept as they are; ``None`` keeps every
    class under its own name.

    >>> from types import SimpleNamespace
    >>> config = SimpleNamespace(id2label={0: "non-hateful", 1: "hateful"})
    >>> class_index(config, {"Odio": "hateful"}), class_index(config, None)
    ({'Odio': 1}, {'non-hateful': 0, 'hateful': 1})
    """
    names = {str(name): int(i) for i, name in config.id2label.items()}
    if labels is None:
        return names
    pairs = labels.items() if isinstance(labels, Mapping) else ((n, n) for n in labels)
    out = {}
    for label, name in pairs:
        if isinstance(name, int) or (
            isinstance(name, str) and name.isdigit() and name not in names
        ):
            index = int(name)
            if not 0 <= index < len(names):
                raise OdioError(f"class index {index} is out of range (0-{len(names) - 1})")
        elif name in names:
            index = names[name]
        else:
            raise OdioError(
                f"the model has no class {name!r}; its classes are: {', '.join(map(repr, names))}"
            )
        out[str(label)] = index
    return out
