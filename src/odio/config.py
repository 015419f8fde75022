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
    C: float = 10.0
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
class RunConfig:
    """Everything a training run needs besides the data files.

    Example:
        >>> cfg = RunConfig.from_dict({"model": "tfidf", "cv": {"folds": 3}})
        >>> cfg.cv.folds, cfg.data.min_votes
        (3, 2)
    """

    model: str = "tfidf"
    """``tfidf`` or a Hugging Face encoder (hub id or local directory)."""
    data: DataConfig = field(default_factory=DataConfig)
    preprocess: PreprocessOptions = field(default_factory=PreprocessOptions)
    cv: CVConfig = field(default_factory=CVConfig)
    tfidf: TfidfConfig = field(default_factory=TfidfConfig)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> RunConfig:
        """Build from nested plain data, rejecting unknown keys with their dotted name."""
        return _build(cls, data or {}, "")

    def to_dict(self) -> dict[str, Any]:
        """Nested plain data (tuples as lists), ready for YAML or JSON."""
        return _plain(dataclasses.asdict(self))

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


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
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
