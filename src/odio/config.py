"""Typed run settings (pydantic v2): validated on construction, round-tripped to YAML.

A run's whole configuration is one :class:`RunConfig`. Every field has a docstring, which is
also its description and, for the settings that have a flag (:data:`FLAGS`), its ``odio
train --help`` text. A run saves its settings as ``config.yaml``; ``odio train TRAIN
--config RUN/config.yaml`` reproduces the run (the data files are given again: they are
recorded in ``metrics.json``, apart from the settings).

Values are read the way a person writes them: ``lr: 3e-5`` (which YAML reads as a string)
is a float, ``devices: 2`` is ``"2"``. A mistake is one line naming the YAML key and its
flag; an unknown key gets a did-you-mean.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from odio.errors import OdioError
from odio.metrics import DATATHON_LABELS, check_objective, default_objective, resolve_metric
from odio.text.preprocess import PreprocessOptions

FLAGS: dict[str, str] = {
    "model": "--model",
    "data.labels": "--labels",
    "data.min_votes": "--min-votes",
    "data.text_column": "--text-column",
    "data.strict": "--strict",
    "data.encoding": "--encoding",
    "data.label_format": "--label-format",
    "data.positive": "--positive",
    "data.id_column": "--id-column",
    "data.sep": "--sep",
    "metric": "--metric",
    "thresholds.objective": "--threshold-objective",
    "thresholds.decision_rule": "--decision-rule",
    "cv.folds": "--folds",
    "cv.seed": "--seed",
    "cv.split": "--split",
    "transformer.max_epochs": "--epochs",
    "transformer.lr": "--lr",
    "transformer.batch_size": "--batch-size",
    "transformer.max_length": "--max-length",
    "transformer.freeze_layers": "--freeze-layers",
    "transformer.accelerator": "--accelerator",
    "transformer.devices": "--devices",
    "transformer.strategy": "--strategy",
    "transformer.num_nodes": "--num-nodes",
    "transformer.precision": "--precision",
}
"""The settings that ``odio train`` also takes as flags (dotted YAML key -> flag)."""


class _Settings(BaseModel):
    """Shared behaviour: unknown keys rejected, docstrings as field descriptions, no NaN or
    infinity (``--lr nan`` would pass ``gt=0`` checks and train nothing)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, allow_inf_nan=False)


class SourceConfig(_Settings):
    """An extra training file: its rows are in the training set of every fold, never scored.

    Its settings default to the run's (``data``); a label it does not list is *missing* for
    its rows (left out of that label's fit, masked in an encoder's loss), not negative, and
    so is an empty label cell.

    Example:
        >>> src = SourceConfig(path="superset.csv", labels=["hate=Odio"],
        ...                    where={"dataset": "hascosva"}, positives_only=["Odio"])
        >>> src.labels, src.positives_only
        (['hate=Odio'], ['Odio'])
    """

    path: str
    """The file (CSV, TSV, JSON Lines, JSON, Parquet)."""
    labels: list[str] | None = None
    """The labels this file has, COLUMN=LABEL to rename (default: the run's labels whose
    columns it has)."""
    text_column: str | None = None
    """Its text column (default: the run's)."""
    where: dict[str, str] | None = None
    """Keep only rows whose columns hold these values, e.g. {dataset: hascosva}."""
    positives_only: list[str] = Field(default_factory=list)
    """Labels this file marks only when positive: its 0 means unknown, not negative."""
    label_format: Literal["auto", "votes", "binary"] | None = None
    """As data.label_format (default: the run's)."""
    min_votes: int | None = Field(None, ge=1)
    """As data.min_votes (default: the run's)."""
    positive: list[str] | None = None
    """As data.positive (default: the run's)."""
    label_map: dict[str, int] | None = None
    """As data.label_map (default: the run's)."""
    sep: str | None = None
    """As data.sep (default: the run's)."""
    encoding: str | None = None
    """As data.encoding (default: the run's)."""


class DataConfig(_Settings):
    """Where the text, the labels and the ids are in a table, and how labels become 0/1.

    Example:
        >>> data = DataConfig(labels=["HS=Odio"], positive=["1"])
        >>> data.label_names, data.label_columns
        (['Odio'], ['HS'])
    """

    text_column: str = "text"
    """Column holding the tweet text."""
    labels: list[str] = Field(default_factory=lambda: list(DATATHON_LABELS), min_length=1)
    """Label columns, in order; the first is the main label. COLUMN=LABEL reads the file's
    column COLUMN as label LABEL (e.g. HS=Odio)."""
    min_votes: int = Field(2, ge=1)
    """Annotator votes needed for a positive label (2 of 3 matches the Datathon test gold)."""
    label_format: Literal["auto", "votes", "binary"] = "auto"
    """votes (binarise with min_votes), binary (0/1 as is) or auto: a file whose label values
    are all 0 or 1 is binary, otherwise votes."""
    positive: list[str] | None = None
    """Label values (text) that mean positive, e.g. sexist; every other value is negative."""
    label_map: dict[str, int] | None = None
    """Label value (text) -> 0 or 1, e.g. {sexist: 1, non-sexist: 0}; other values are errors."""
    id_column: str | None = None
    """Column with each row's id, carried into the predictions (default: a column named id
    or tweet_id, when the file has one)."""
    sep: str | None = None
    """Delimiter of CSV files: , tab ; | (default: from the file name, else the header line)."""
    strict: bool = False
    """Reject rows with an empty text instead of dropping them with a warning."""
    encoding: str = "utf-8"
    """Text encoding of CSV, TSV and JSON files."""
    sources: list[SourceConfig] = Field(default_factory=list)
    """Extra training files, each with its own columns and the labels it has; folds and every
    reported score come from the main training file only."""

    @field_validator("labels")
    @classmethod
    def _distinct(cls, labels: list[str]) -> list[str]:
        names = [entry.split("=", 1)[-1].strip() for entry in labels]
        if not all(names) or any(not part.strip() for e in labels for part in e.split("=", 1)):
            raise ValueError(f"a label is empty in {labels}")
        if len(set(names)) != len(names):
            raise ValueError(f"a label is listed twice: {labels}")
        return labels

    @field_validator("label_map")
    @classmethod
    def _zero_or_one(cls, mapping: dict[str, int] | None) -> dict[str, int] | None:
        if mapping is not None and not set(mapping.values()) <= {0, 1}:
            raise ValueError("label_map values must be 0 or 1")
        return mapping

    @property
    def label_names(self) -> list[str]:
        """The labels, renamed (``HS=Odio`` -> ``Odio``)."""
        return [entry.split("=", 1)[-1].strip() for entry in self.labels]

    @property
    def label_columns(self) -> list[str]:
        """The file columns the labels are read from (``HS=Odio`` -> ``HS``)."""
        return [entry.split("=", 1)[0].strip() for entry in self.labels]


TRAINED_DATA = ("text_column", "labels", "min_votes", "positive", "label_map", "id_column")
"""The data settings a model keeps from its training, which evaluating it starts from."""


class CVConfig(_Settings):
    """How the training rows are split into folds.

    Example:
        >>> CVConfig().folds
        5
    """

    folds: int = Field(5, ge=2)
    """Number of folds; one model is trained per fold."""
    seed: int = 42
    """Seed of the fold split and of training."""
    split: Literal["auto", "stratified", "kfold"] = "auto"
    """stratified (iterative multi-label stratification; plain for one label), kfold
    (shuffled KFold) or auto (stratified)."""


class TfidfConfig(_Settings):
    """The TF-IDF + logistic regression backend.

    Example:
        >>> TfidfConfig().char_ngrams
        (2, 5)
    """

    char_ngrams: tuple[int, int] = (2, 5)
    """Character n-gram range inside word boundaries (char_wb)."""
    word_ngrams: tuple[int, int] = (1, 2)
    """Word n-gram range."""
    min_df: int = Field(2, ge=1)
    """Ignore n-grams seen in fewer training tweets (keeps saved models small)."""
    C: float = Field(3.0, gt=0)
    """Inverse regularisation strength of each label's logistic regression."""
    class_weight: Literal["balanced"] | None = "balanced"
    """balanced re-weights rare labels; null for none."""
    max_iter: int = Field(2000, ge=1)
    """Solver iteration limit."""

    @field_validator("char_ngrams", "word_ngrams")
    @classmethod
    def _ngram_range(cls, value: tuple[int, int]) -> tuple[int, int]:
        low, high = value
        if not 1 <= low <= high:
            raise ValueError("must be (low, high) with 1 <= low <= high")
        return value


class TransformerConfig(_Settings):
    """Fine-tuning a Hugging Face encoder (RoBERTuito, BETO, XLM-R, ...), one model per fold.

    The default learning rate is 3e-5 with linear warmup and decay, not the 3e-4 without a
    schedule of the reference blog post: at 3e-4 a pretrained encoder forgets much of its
    pretraining in the first epoch, which is why the post's scores fell after epoch 1.

    Example:
        >>> TransformerConfig(lr="3e-5").lr
        3e-05
    """

    lr: float = Field(3e-5, gt=0)
    """Peak AdamW learning rate."""
    weight_decay: float = Field(0.01, ge=0)
    """AdamW weight decay (never applied to biases and LayerNorm weights)."""
    warmup: float = Field(0.1, ge=0, lt=1)
    """Fraction of the optimisation steps spent warming up linearly; then linear decay to 0."""
    max_epochs: int = Field(3, ge=1)
    """Most epochs per fold; early stopping on the validation loss often stops sooner."""
    patience: int = Field(1, ge=1)
    """Epochs without a lower validation loss before stopping."""
    batch_size: int = Field(32, ge=1)
    """Training batch size (per device)."""
    eval_batch_size: int = Field(64, ge=1)
    """Batch size for validation and prediction."""
    max_length: int = Field(128, ge=8)
    """Token limit per tweet; capped by the model's position limit."""
    pooling: Literal["mean", "cls"] = "mean"
    """mean (over real tokens, padding masked out) or cls (the first token)."""
    dropout: float = Field(0.2, ge=0, lt=1)
    """Dropout before the linear head."""
    freeze_embeddings: bool = False
    """Do not train the embedding matrix (large speed-up for XLM-R-size vocabularies)."""
    freeze_layers: int = Field(0, ge=0)
    """Do not train the embeddings nor the lowest N encoder layers: the backward pass stops
    above them (faster on a CPU; see benchmarks/RESULTS.md)."""
    pos_weight: bool = False
    """Weight each label's positives by negatives/positives (capped at 10) for rare labels."""
    group_by_length: bool = True
    """Batch tweets of similar length together (less padding); batch order still shuffled."""
    num_workers: int = Field(0, ge=0)
    """DataLoader workers; 0 (the main process) avoids oversubscribing a small CPU."""
    compile: bool = False
    """torch.compile the encoder; falls back to eager with a warning if it fails."""
    accelerator: str = "auto"
    """Lightning accelerator: auto, cpu, gpu, mps, ..."""
    devices: str = "auto"
    """Lightning devices: auto, a count such as 2, or a list such as 0,1."""
    strategy: str = "auto"
    """Lightning strategy, e.g. ddp for several devices: on one machine odio runs it in
    spawned workers (gloo on the CPU)."""
    precision: str = "32-true"
    """Lightning precision: 32-true, bf16-mixed or 16-mixed."""
    accumulate_grad_batches: int = Field(1, ge=1)
    """Gradient accumulation steps."""
    num_nodes: int = Field(1, ge=1)
    """Machines for multi-node DDP, each started by a cluster launcher (torchrun, SLURM)."""
    fast_dev_run: bool = False
    """Debug: run one training and one validation batch per fold."""
    overfit_batches: float = Field(0.0, ge=0)
    """Debug: train and validate on this many (or this fraction of) batches."""

    @field_validator("devices", mode="before")
    @classmethod
    def _devices_as_text(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, list):
            return ",".join(str(v) for v in value)
        return value


class StackConfig(_Settings):
    """The meta-learner of a stacked model (``model: stack:tfidf+<encoder>``).

    Example:
        >>> StackConfig().features
        'label'
    """

    C: float = Field(1.0, gt=0)
    """Inverse regularisation strength of each label's logistic regression."""
    features: Literal["label", "all"] = "label"
    """label: a label's meta-model sees that label's probability from every base; all: every
    label's probability from every base (chosen by nested out-of-fold f1_custom on the
    Datathon training set, benchmarks/RESULTS.md)."""


class ThresholdConfig(_Settings):
    """How decision thresholds are tuned on the out-of-fold predictions, and applied.

    Example:
        >>> ThresholdConfig(objective="precision>=0.8").objective
        'precision>=0.8'
    """

    objective: str = "auto"
    """What each label's threshold maximises: f1, macro_f1 (two-class), accuracy,
    precision>=X (most recall at that precision) or recall>=X; auto serves the headline
    metric (two-class macro-F1 for one label, F1 per label otherwise)."""
    per_label: dict[str, str] = Field(default_factory=dict)
    """Objectives for some labels, overriding objective, e.g. {Odio: precision>=0.8}."""
    decision_rule: Literal["independent", "targets_require_main"] = "independent"
    """targets_require_main: a label other than the main one is decided positive only when
    the main label is (no target group without hate)."""

    @field_validator("objective")
    @classmethod
    def _objective(cls, value: str) -> str:
        return value if value == "auto" else check_objective(value)

    @field_validator("per_label")
    @classmethod
    def _objectives(cls, values: dict[str, str]) -> dict[str, str]:
        return {label: check_objective(objective) for label, objective in values.items()}


class AugmentConfig(_Settings):
    """Obfuscated copies of training tweets (see :mod:`odio.text.augment`), added to the
    training part of each fold only (never to the held-out fold or the test set).

    Example:
        >>> AugmentConfig(spacing=0.2).active
        True
    """

    swaps: float = Field(0.0, ge=0, le=1)
    """Probability that a tweet gets a copy with two letters of a word swapped."""
    deletions: float = Field(0.0, ge=0, le=1)
    """Probability of a copy with a letter of a word dropped."""
    leetspeak: float = Field(0.0, ge=0, le=1)
    """Probability of a copy with a word in leetspeak (m4r1c0n)."""
    spacing: float = Field(0.0, ge=0, le=1)
    """Probability of a copy with a word's letters spaced out (o d i o)."""

    @property
    def active(self) -> bool:
        """Whether any copy can be made."""
        return any(self.model_dump().values())


class RunConfig(_Settings):
    """Everything a training run needs besides the data files.

    Example:
        >>> cfg = RunConfig.from_dict({"model": "tfidf", "cv": {"folds": 3}})
        >>> cfg.cv.folds, cfg.data.min_votes
        (3, 2)
    """

    model: str = "tfidf"
    """tfidf, a Hugging Face encoder (hub id or local directory), or a stack:
    stack:tfidf+ENCODER (a base may be a finished run directory to reuse)."""
    data: DataConfig = Field(default_factory=DataConfig)
    """Columns, labels and vote threshold."""
    preprocess: PreprocessOptions | None = None
    """Tweet normalisation steps; null uses the backend's default."""
    cv: CVConfig = Field(default_factory=CVConfig)
    """Fold split."""
    metric: Literal["auto", "f1_custom", "macro_f1", "main_f1", "accuracy"] = "auto"
    """Headline metric, shown first and used for ranking: auto is f1_custom for the Datathon
    labels and macro_f1 (scikit-learn's) otherwise."""
    thresholds: ThresholdConfig = Field(default_factory=ThresholdConfig)
    """Threshold tuning and the decision rule."""
    augment: AugmentConfig = Field(default_factory=AugmentConfig)
    """Training-time obfuscation of copies of the training tweets."""
    tfidf: TfidfConfig = Field(default_factory=TfidfConfig)
    """TF-IDF backend settings."""
    transformer: TransformerConfig = Field(default_factory=TransformerConfig)
    """Encoder fine-tuning settings."""
    stack: StackConfig = Field(default_factory=StackConfig)
    """Stack meta-model settings."""

    @field_validator("model")
    @classmethod
    def _model_given(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("give 'tfidf', a Hugging Face encoder or stack:A+B")
        return value.strip()

    def headline(self, labels: list[str]) -> str:
        """The headline metric for ``labels`` (``metric``, with ``auto`` resolved).

        >>> RunConfig().headline(["HS"]), RunConfig().headline(list(DATATHON_LABELS))
        ('macro_f1', 'f1_custom')
        """
        try:
            return resolve_metric(self.metric, labels)
        except ValueError as exc:
            raise OdioError(f"setting 'metric' (--metric): {exc}") from None

    def objectives(self, labels: list[str]) -> list[str]:
        """The threshold objective of each label (``auto`` resolved from the headline).

        >>> RunConfig().objectives(["HS"]), RunConfig().objectives(["Odio", "Mujeres"])
        (['macro_f1'], ['f1', 'f1'])
        """
        unknown = sorted(set(self.thresholds.per_label) - set(labels))
        if unknown:
            raise OdioError(
                f"setting 'thresholds.per_label' names {unknown[0]!r}, which is not a label "
                f"({', '.join(labels)})"
            )
        objective = self.thresholds.objective
        if objective == "auto":
            objective = default_objective(self.headline(labels), len(labels))
        return [self.thresholds.per_label.get(label, objective) for label in labels]

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> RunConfig:
        """Build from nested plain data; a mistake is an :class:`OdioError` naming the key.

        >>> RunConfig.from_dict({"cv": {"fold": 3}})
        Traceback (most recent call last):
        ...
        odio.errors.OdioError: unknown setting 'cv.fold'; did you mean 'cv.folds'? (cv takes: folds, seed, split)
        """  # noqa: E501 - a doctest output line cannot be wrapped
        try:
            return cls.model_validate(data or {})
        except ValidationError as exc:
            raise OdioError(describe_error(exc)) from None

    def to_dict(self) -> dict[str, Any]:
        """Nested plain data (tuples as lists), ready for YAML or JSON."""
        return self.model_dump(mode="json")

    @classmethod
    def from_yaml(cls, path: str | Path) -> RunConfig:
        """Read a YAML file written by :meth:`to_yaml` (a run's ``config.yaml``) or by hand."""
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise OdioError(f"config file not found: {path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise OdioError(f"{path}: cannot be read ({exc})") from None
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


def describe_error(exc: ValidationError) -> str:
    """The first problem of a validation error as one line: the dotted YAML key, its flag
    when it has one, what is wrong and the value given; a did-you-mean for unknown keys.

    >>> try:
    ...     RunConfig.model_validate({"transformer": {"lr": "fast"}})
    ... except ValidationError as exc:
    ...     print(describe_error(exc))
    setting 'transformer.lr' (--lr): input should be a valid number, unable to parse string as a number, got 'fast'
    """  # noqa: E501 - a doctest output line cannot be wrapped
    error = exc.errors()[0]
    loc = [str(part) for part in error["loc"] if not isinstance(part, int)]
    key = ".".join(loc)
    if error["type"] == "extra_forbidden":
        return _unknown_key(loc)
    flag = FLAGS.get(key)
    message = error["msg"].removeprefix("Value error, ")
    message = message[:1].lower() + message[1:]
    given = error.get("input")
    quiet = isinstance(given, dict) or given is None or repr(given) in message
    shown = "" if quiet else f", got {given!r}"
    return f"setting '{key}'" + (f" ({flag})" if flag else "") + f": {message}{shown}"


def _unknown_key(loc: list[str]) -> str:
    """``unknown setting 'cv.fold'; did you mean 'cv.folds'?`` with the section's keys."""
    model: Any = RunConfig
    for part in loc[:-1]:
        annotation = model.model_fields[part].annotation
        model = next(
            (a for a in getattr(annotation, "__args__", (annotation,)) if _is_model(a)),
            model,
        )
    valid = list(model.model_fields)
    key = ".".join(loc)
    close = difflib.get_close_matches(loc[-1], valid, n=1)
    hint = f"; did you mean '{'.'.join([*loc[:-1], close[0]])}'?" if close else ""
    where = f"{'.'.join(loc[:-1])} takes" if len(loc) > 1 else "valid settings"
    return f"unknown setting '{key}'{hint} ({where}: {', '.join(valid)})"


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def setting_help(key: str) -> str:
    """The description of a dotted setting (its docstring), for ``--help``.

    >>> setting_help("cv.folds")
    'Number of folds; one model is trained per fold.'
    """
    model: type[BaseModel] = RunConfig
    *sections, name = key.split(".")
    for section in sections:
        annotation = model.model_fields[section].annotation
        assert _is_model(annotation), key
        model = annotation  # type: ignore[assignment]
    return " ".join((model.model_fields[name].description or "").split())


def setting_default(key: str) -> Any:
    """The default value of a dotted setting.

    >>> setting_default("transformer.lr")
    3e-05
    """
    value: Any = RunConfig()
    for part in key.split("."):
        value = getattr(value, part)
    return value
