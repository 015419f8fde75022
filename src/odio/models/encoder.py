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

import contextlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from odio.config import TransformerConfig
from odio.errors import OdioError
from odio.extras import MissingExtra, require
from odio.models.protocols import HEAD_CONFIG
from odio.text.tokens import encode, length_batches, load_tokenizer, pad, pad_id

try:
    import torch
    from torch import nn
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("transformer", "a transformer model", "torch", torch=True) from exc

HEAD_WEIGHTS = "odio_head.safetensors"


def pretrained(model: str, what: str = "encoder") -> Any:
    """The ``encoder`` (``AutoModel``), ``classifier`` (``AutoModelForSequenceClassification``),
    ``tokenizer`` or ``config`` of a Hugging Face hub id
    or local directory, with a clear error. Code shipped with a model is never run.

    A hub id needs the network the first time (set ``HF_HUB_OFFLINE=1`` to fail fast
    offline); a path-like name must exist.

    >>> pretrained("./no-such-model-dir")
    Traceback (most recent call last):
    ...
    odio.errors.OdioError: model directory not found: ./no-such-model-dir
    """
    transformers = require("transformers", "transformer", "a transformer model", torch=True)
    AutoConfig, AutoModel = transformers.AutoConfig, transformers.AutoModel
    AutoModelForSequenceClassification = transformers.AutoModelForSequenceClassification

    path = Path(model).expanduser()
    if path.exists():
        model = str(path)
    elif model.startswith((".", "/", "~")) or model.count("/") > 1:
        raise OdioError(f"model directory not found: {model}")
    loaders: dict[str, Callable[[str], Any]] = {
        "encoder": lambda m: AutoModel.from_pretrained(m, trust_remote_code=False),
        "classifier": lambda m: AutoModelForSequenceClassification.from_pretrained(
            m, trust_remote_code=False
        ),
        "tokenizer": load_tokenizer,
        "config": lambda m: AutoConfig.from_pretrained(m, trust_remote_code=False),
    }
    try:
        with quiet_transformers(keep_report=what == "classifier"):
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

    @property
    def n_labels(self) -> int:
        return int(self.head.out_features)

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
        classifier.head.load_state_dict(load_file(str(directory / HEAD_WEIGHTS)))
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
        return cls(member_weights(directory, "classifier"), meta["class_index"])


def member_weights(directory: Path, what: str) -> Any:
    """The ``encoder`` or ``classifier`` network saved in a member folder.

    A member folder is data: safetensors weights only (never a pickled
    ``pytorch_model.bin``), no code shipped with it, nothing fetched from the hub.
    """
    transformers = require("transformers", "transformer", "a transformer model", torch=True)
    auto = (
        transformers.AutoModel
        if what == "encoder"
        else transformers.AutoModelForSequenceClassification
    )
    with quiet_transformers(keep_report=what != "encoder"):
        return auto.from_pretrained(
            str(directory), trust_remote_code=False, use_safetensors=True, local_files_only=True
        )


@contextlib.contextmanager
def quiet_transformers(*, keep_report: bool = False) -> Iterator[None]:
    """No "Loading weights" or "Writing model shards" progress bar (a fraction of a second
    per model, once per fold member), and unless ``keep_report`` no load report: an encoder
    loaded without the pooler it never uses is not news, but a sequence-classification head
    initialised at random would be. Transformers' own settings are restored after.

    Example:
        >>> with quiet_transformers():  # doctest: +SKIP
        ...     encoder = AutoModel.from_pretrained("./e5-small")
    """
    from transformers.utils import logging

    bars, verbosity = logging.is_progress_bar_enabled(), logging.get_verbosity()
    logging.disable_progress_bar()
    if not keep_report:
        logging.set_verbosity_error()
    try:
        yield
    finally:
        logging.set_verbosity(verbosity)
        if bars:
            logging.enable_progress_bar()


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
    ) -> EncoderMember:
        """Read a member written by :meth:`save`, onto ``device`` (GPU when available).

        Only safetensors weights are read, and no code shipped with the folder is run.
        ``threads`` sets ``torch.set_num_threads``, which is process-wide.
        """
        if threads:
            torch.set_num_threads(threads)
        directory = Path(directory)
        meta = json.loads((directory / HEAD_CONFIG).read_text(encoding="utf-8"))
        settings = TransformerConfig.model_validate(meta["config"])
        head = meta.get("head", "odio")
        if head not in HEADS:
            raise OdioError(f"{directory}: unknown head {head!r} in {HEAD_CONFIG}")
        classifier = HEADS[head].load_weights(directory, meta, settings)
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
