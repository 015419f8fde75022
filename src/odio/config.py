"""Typed run settings (pydantic v2): validated on construction, round-tripped to YAML.

A run's whole configuration is one :class:`RunConfig`. Every field has a docstring, which is
also its description and, for the settings that have a flag (:data:`FLAGS`), its ``odio
train --help`` text (the command line is generated from these models by :mod:`odio.cli`).
The sections about how models are trained (``cv``, ``tfidf``, ``transformer``, ``stack``,
``augment``) are defined in :mod:`odio.sections`, the data section (``data``: files, labels,
sources, context) in :mod:`odio.inputs`; all are imported from here.

A run saves its settings as ``config.yaml``; ``odio train TRAIN --config RUN/config.yaml``
reproduces the run (the data files are given again: they are recorded in ``metrics.json``,
apart from the settings).

Values are read the way a person writes them: ``lr: 3e-5`` (which YAML reads as a string)
is a float, ``devices: 2`` is ``"2"``. A mistake is one line naming the YAML key and its
flag; an unknown key gets a did-you-mean.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator

from odio.errors import OdioError
from odio.inputs import TRAINED_DATA, ContextConfig, DataConfig, SourceConfig
from odio.metrics import check_objective
from odio.sections import AugmentConfig, CVConfig, StackConfig, TfidfConfig, TransformerConfig
from odio.sections import Section as _Settings
from odio.text.preprocess import PreprocessOptions

__all__ = [
    "FLAGS",
    "TRAINED_DATA",
    "AugmentConfig",
    "CVConfig",
    "ChecksConfig",
    "ContextConfig",
    "DataConfig",
    "RunConfig",
    "SourceConfig",
    "StackConfig",
    "TfidfConfig",
    "ThresholdConfig",
    "TransformerConfig",
    "describe_error",
]

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
    "data.context.path": "--context",
    "data.context.column": "--context-column",
    "data.context.ref_column": "--context-ref-column",
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
    "transformer.ear_weight": "--ear-weight",
    "transformer.init": "--init",
    "transformer.checkpoint_minutes": "--checkpoint-minutes",
    "checks.enabled": "--check",
}
"""The settings that ``odio train`` also takes as flags (dotted YAML key -> flag)."""


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


class ChecksConfig(_Settings):
    """The functional test suite run on the finished run (``odio train --check``).

    The suite is for evaluation only: it runs after the run directory is written, on the
    saved model, and changes nothing in the training. Its accuracies go into
    ``metrics.json`` (``checks``), the report and ``odio compare``. ``odio train`` acts on
    it; from Python, score a saved run with :func:`odio.checks.record.check_run`
    (``check_run(odio.fit(data, config).save("runs/x"))``).

    Example:
        >>> ChecksConfig().enabled, ChecksConfig().suite
        (False, 'es_cl')
    """

    enabled: bool = False
    """Run the functional test suite on the finished run and record its accuracy (Odio
    only and all labels) in metrics.json, the report and odio compare."""
    suite: str = "es_cl"
    """The suite: a shipped suite's name or a suite YAML file."""

    @field_validator("suite")
    @classmethod
    def _suite_given(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("give a shipped suite's name (es_cl) or a suite YAML file")
        return value.strip()


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
    checks: ChecksConfig = Field(default_factory=ChecksConfig)
    """The functional test suite run on the finished run (evaluation only)."""

    @field_validator("model")
    @classmethod
    def _model_given(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("give 'tfidf', a Hugging Face encoder or stack:A+B")
        return value.strip()

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
        """Nested plain data (tuples as lists), ready for YAML or JSON.

        ``preprocess`` keeps only the steps it names: each backend fills in the others with
        its own defaults (a trained run's ``config.yaml`` names every step).

        >>> RunConfig.from_dict({"preprocess": {"deobfuscate": True}}).to_dict()["preprocess"]
        {'deobfuscate': True}
        """
        data = self.model_dump(mode="json")
        if self.preprocess is not None:
            data["preprocess"] = self.preprocess.model_dump(mode="json", exclude_unset=True)
        return data

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
