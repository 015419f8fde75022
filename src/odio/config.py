"""Typed run settings: small dataclasses, validated on construction, round-tripped to YAML.

A run's whole configuration is one :class:`RunConfig`; it is saved as ``config.yaml`` in
the run directory, so every figure in ``metrics.json`` can be traced to the settings
(``min_votes`` included) that produced it.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import yaml

from odio.errors import OdioError
from odio.preprocess import PreprocessOptions

DATATHON_LABELS: tuple[str, ...] = (
    "Odio",
    "Mujeres",
    "Comunidad LGBTQ+",
    "Comunidades Migrantes",
    "Pueblos Originarios",
)
"""The Datathon 2022 label columns: hate first, then the four target groups."""

SPLITS = ("auto", "stratified", "kfold")
LABEL_FORMATS = ("auto", "votes", "binary")
STACK_FEATURES = ("label", "all")


@dataclass
class DataConfig:
    """Where the text and the labels are in a table, and how votes become 0/1.

    Example:
        >>> DataConfig(labels=["Odio"]).min_votes
        2
    """

    text_column: str = "text"
    """Column holding the tweet text."""
    labels: list[str] = field(default_factory=lambda: list(DATATHON_LABELS))
    """Label columns, in order; the first is the main label of ``f1_custom``."""
    min_votes: int = 2
    """A label is positive when at least this many annotators voted for it (2 of 3 matches
    the Datathon test gold)."""
    label_format: str = "auto"
    """``votes`` (binarise with ``min_votes``), ``binary`` (0/1 as is) or ``auto``: a file
    whose label values are all 0 or 1 is binary, otherwise votes."""
    strict: bool = False
    """Reject rows with an empty text instead of dropping them with a warning."""
    encoding: str = "utf-8"
    """Text encoding of CSV and JSONL files."""

    def __post_init__(self) -> None:
        if not self.labels:
            raise OdioError("data.labels: give at least one label column")
        if len(set(self.labels)) != len(self.labels):
            raise OdioError(f"data.labels: a label column is listed twice: {self.labels}")
        if self.min_votes < 1:
            raise OdioError(f"data.min_votes must be >= 1, got {self.min_votes}")
        if self.label_format not in LABEL_FORMATS:
            raise OdioError(f"data.label_format must be one of {LABEL_FORMATS}")


@dataclass
class CVConfig:
    """How the training rows are split into folds.

    Example:
        >>> CVConfig().folds
        5
    """

    folds: int = 5
    """Number of folds; one model is trained per fold."""
    seed: int = 42
    """Seed of the fold split and of training (42, as in the reference work)."""
    split: str = "auto"
    """``stratified`` (iterative multi-label stratification; plain stratification for one
    label), ``kfold`` (shuffled KFold) or ``auto`` (stratified)."""

    def __post_init__(self) -> None:
        if self.folds < 2:
            raise OdioError(f"cv.folds must be >= 2, got {self.folds}")
        if self.split not in SPLITS:
            raise OdioError(f"cv.split must be one of {SPLITS}, got {self.split!r}")


@dataclass
class TfidfConfig:
    """The TF-IDF + logistic regression backend.

    Example:
        >>> TfidfConfig().char_ngrams
        (2, 5)
    """

    char_ngrams: tuple[int, int] = (2, 5)
    """Character n-gram range inside word boundaries (``char_wb``)."""
    word_ngrams: tuple[int, int] = (1, 2)
    """Word n-gram range."""
    min_df: int = 2
    """Ignore n-grams seen in fewer training tweets (keeps saved models small)."""
    C: float = 3.0
    """Inverse regularisation strength of each label's logistic regression."""
    class_weight: str | None = "balanced"
    """``balanced`` re-weights rare labels; ``null`` for none."""
    max_iter: int = 2000
    """Solver iteration limit."""

    def __post_init__(self) -> None:
        for name in ("char_ngrams", "word_ngrams"):
            lo, hi = getattr(self, name)
            if not 1 <= lo <= hi:
                raise OdioError(f"tfidf.{name} must be (low, high) with 1 <= low <= high")
        if self.C <= 0:
            raise OdioError(f"tfidf.C must be > 0, got {self.C}")
        if self.class_weight not in (None, "balanced"):
            raise OdioError("tfidf.class_weight must be 'balanced' or null")


@dataclass
class TransformerConfig:
    """Fine-tuning a Hugging Face encoder (RoBERTuito, BETO, XLM-R, ...), one model per fold.

    The default learning rate is 3e-5 with linear warmup and decay, not the 3e-4 without a
    schedule of the reference blog post: at 3e-4 a pretrained encoder forgets much of its
    pretraining in the first epoch, which is why the post's scores fell after epoch 1.

    Example:
        >>> TransformerConfig().lr
        3e-05
    """

    lr: float = 3e-5
    """Peak AdamW learning rate."""
    weight_decay: float = 0.01
    """AdamW weight decay (never applied to biases and LayerNorm weights)."""
    warmup: float = 0.1
    """Fraction of the optimisation steps spent warming up linearly; then linear decay to 0."""
    max_epochs: int = 3
    """Upper bound on epochs; early stopping on the validation loss usually stops sooner."""
    patience: int = 1
    """Epochs without a lower validation loss before stopping."""
    batch_size: int = 32
    """Training batch size (per device)."""
    eval_batch_size: int = 64
    """Batch size for validation and prediction."""
    max_length: int = 128
    """Token limit per tweet; capped by the model's position limit."""
    pooling: str = "mean"
    """``mean`` (over real tokens, padding masked out) or ``cls`` (the first token)."""
    dropout: float = 0.2
    """Dropout before the linear head."""
    freeze_embeddings: bool = False
    """Do not train the embedding matrix (large speed-up for XLM-R-size vocabularies)."""
    pos_weight: bool = False
    """Weight each label's positives by negatives/positives (capped at 10) for rare labels."""
    group_by_length: bool = True
    """Batch tweets of similar length together (less padding); batch order still shuffled."""
    num_workers: int = 0
    """DataLoader workers; 0 (the main process) avoids oversubscribing a small CPU."""
    compile: bool = False
    """``torch.compile`` the encoder; falls back to eager with a warning if it fails."""
    accelerator: str = "auto"
    """Lightning accelerator: ``auto``, ``cpu``, ``gpu``, ``mps``, ..."""
    devices: str = "auto"
    """Lightning devices: ``auto``, a count such as ``"2"``, or a list such as ``"0,1"``."""
    strategy: str = "auto"
    """Lightning strategy, e.g. ``ddp`` for several GPUs."""
    precision: str = "32-true"
    """Lightning precision: ``32-true``, ``bf16-mixed``, ``16-mixed``."""
    accumulate_grad_batches: int = 1
    """Gradient accumulation steps."""
    num_nodes: int = 1
    """Machines for multi-node DDP."""
    fast_dev_run: bool = False
    """Debug: run one training and one validation batch per fold."""
    overfit_batches: float = 0.0
    """Debug: train and validate on this many (or this fraction of) batches."""

    def __post_init__(self) -> None:
        if self.pooling not in ("mean", "cls"):
            raise OdioError(f"transformer.pooling must be 'mean' or 'cls', got {self.pooling!r}")
        if not 0 <= self.warmup < 1:
            raise OdioError("transformer.warmup is a fraction of the steps, in [0, 1)")
        if self.lr <= 0 or self.max_epochs < 1 or self.batch_size < 1 or self.max_length < 8:
            raise OdioError(
                "transformer: lr > 0, max_epochs >= 1, batch_size >= 1 and "
                "max_length >= 8 are required"
            )


@dataclass
class StackConfig:
    """The meta-learner of a stacked model (``model: stack:tfidf+<encoder>``).

    Example:
        >>> StackConfig().features
        'label'
    """

    C: float = 1.0
    """Inverse regularisation strength of each label's logistic regression."""
    features: str = "label"
    """``label``: a label's meta-model sees that label's probability from every base;
    ``all``: every label's probability from every base. Chosen by nested out-of-fold
    f1_custom on the Datathon training set (``benchmarks/RESULTS.md``)."""

    def __post_init__(self) -> None:
        if self.C <= 0:
            raise OdioError(f"stack.C must be > 0, got {self.C}")
        if self.features not in STACK_FEATURES:
            raise OdioError(f"stack.features must be one of {STACK_FEATURES}")


@dataclass
class RunConfig:
    """Everything a training run needs besides the data files.

    Example:
        >>> cfg = RunConfig.from_dict({"model": "tfidf", "cv": {"folds": 3}})
        >>> cfg.cv.folds, cfg.data.min_votes
        (3, 2)
    """

    model: str = "tfidf"
    """``tfidf``, a Hugging Face encoder (hub id or local directory), or a stack of them:
    ``stack:tfidf+<encoder>`` (a base may also be a finished run directory to reuse)."""
    data: DataConfig = field(default_factory=DataConfig)
    preprocess: PreprocessOptions | None = None
    """Tweet normalisation steps; ``None`` uses the backend's default (see
    :func:`odio.backend.default_preprocess`)."""
    cv: CVConfig = field(default_factory=CVConfig)
    tfidf: TfidfConfig = field(default_factory=TfidfConfig)
    transformer: TransformerConfig = field(default_factory=TransformerConfig)
    stack: StackConfig = field(default_factory=StackConfig)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> RunConfig:
        """Build from nested plain data, rejecting unknown keys with their dotted name."""
        return _build(cls, data or {}, "")

    def to_dict(self) -> dict[str, Any]:
        """Nested plain data (tuples as lists), ready for YAML or JSON."""
        return plain_data(self)

    @classmethod
    def from_yaml(cls, path: str | Path) -> RunConfig:
        """Read a YAML file written by :meth:`to_yaml` or by hand."""
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise OdioError(f"config file not found: {path}") from None
        except yaml.YAMLError as exc:
            raise OdioError(f"{path}: not valid YAML ({exc})") from None
        if data is not None and not isinstance(data, dict):
            raise OdioError(f"{path}: expected a mapping of settings at the top level")
        try:
            return cls.from_dict(data)
        except OdioError as exc:
            raise OdioError(f"{path}: {exc}") from None

    def to_yaml(self, path: str | Path) -> None:
        """Write the settings as YAML."""
        Path(path).write_text(
            yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True), encoding="utf-8"
        )


def plain_data(value: Any) -> Any:
    """A config dataclass (or nested data) as plain dicts and lists, ready for YAML/JSON.

    >>> plain_data(TfidfConfig())["char_ngrams"]
    [2, 5]
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    if isinstance(value, dict):
        return {k: plain_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_data(v) for v in value]
    return value


def _build(cls: type, data: dict[str, Any], prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise OdioError(
            f"unknown setting '{prefix}{unknown[0]}'; valid settings here: {', '.join(names)}"
        )
    kwargs = {}
    for name, value in data.items():
        kwargs[name] = _coerce(hints[name], value, f"{prefix}{name}")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise OdioError(f"{prefix.rstrip('.') or 'config'}: {exc}") from None


def _coerce(hint: Any, value: Any, name: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return _coerce(args[0], value, name)
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise OdioError(f"setting {name!r} must be a mapping")
        return _build(hint, value, f"{name}.")
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise OdioError(f"setting {name!r} must be a list, got {value!r}")
        (item,) = typing.get_args(hint)[:1]
        items = [_coerce(item, v, name) for v in value]
        return tuple(items) if origin is tuple else items
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in (int, float, str, bool) and not isinstance(value, hint):
        raise OdioError(f"setting {name!r} must be {hint.__name__}, got {value!r}")
    if hint is int and isinstance(value, bool):
        raise OdioError(f"setting {name!r} must be int, got {value!r}")
    return value
