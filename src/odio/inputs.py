"""The data section of a run's settings: where the text, labels and ids are in the training
file, how labels become 0/1, extra training sources and conversation context.

They are part of :class:`odio.config.RunConfig` (``data``) and imported from
:mod:`odio.config`; every field's docstring is its description.

>>> DataConfig(labels=["HS=Odio"]).label_names
['Odio']
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from odio.metrics import DATATHON_LABELS
from odio.sections import Section as _Settings

__all__ = ["TRAINED_DATA", "ContextConfig", "DataConfig", "SourceConfig"]


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
    head: Literal["shared", "own"] = "shared"
    """shared: its labels train the run's own labels (pooled with the main file's); own: they
    keep their own meaning (its notion of hate, not the main file's): an encoder trains a
    classification head of its own on them beside the main head (only the main head is
    shipped and scored); TF-IDF fits a model on this source's rows alone and gives its
    probability to the main labels' models as a feature."""
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


class ContextConfig(_Settings):
    """Conversation context: what each tweet replies to or quotes, read with it.

    Off unless ``path`` or ``column`` is set. With ``path``, each row's references (the
    Datathon's ``conversation_id`` tuples, a plain id, or a list) are looked up in that
    file; references it lacks are counted and reported, never an error. The models read
    the context apart from the tweet (see :mod:`odio.text.context`).

    Example:
        >>> ContextConfig(path="referenced_tweets_data.csv").enabled, ContextConfig().enabled
        (True, False)
    """

    path: str | None = None
    """File of the referenced tweets (e.g. the Datathon's referenced_tweets_data.csv):
    each row's references are looked up in it (default: no context)."""
    ref_column: str = "conversation_id"
    """Column of the data naming each row's referenced tweets: a tuple string such as
    (1079883904318930944, 1079878275118350336), a plain id, or a list."""
    id_column: str = "tweet_id"
    """Column of the context file holding each tweet's id."""
    text_column: str = "text"
    """Column of the context file holding each tweet's text."""
    column: str | None = None
    """Column of the data holding each row's context as text, instead of a context file
    (default: none)."""
    separator: str = " | "
    """Between the texts of a row's several referenced tweets, kept in their order."""

    @field_validator("path", "column")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("give a file (path) or a column name, or leave it unset")
        return value

    @property
    def enabled(self) -> bool:
        """Whether rows get a context."""
        return bool(self.path or self.column)

    @model_validator(mode="after")
    def _one_source(self) -> ContextConfig:
        if self.path and self.column:
            raise ValueError("give a context file (path) or a context column, not both")
        return self


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
    where: dict[str, str] | None = None
    """Keep only the rows whose columns hold these values, e.g. {dataset: haternet}."""
    sources: list[SourceConfig] = Field(default_factory=list)
    """Extra training files, each with its own columns and the labels it has; folds and every
    reported score come from the main training file only."""
    context: ContextConfig = Field(default_factory=ContextConfig)
    """Conversation context read with each tweet (a file of referenced tweets or a
    column); extra sources get none."""

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


TRAINED_DATA = (
    "text_column",
    "labels",
    "min_votes",
    "positive",
    "label_map",
    "id_column",
    "context",
)
"""The data settings a model keeps from its training, which evaluating it starts from."""
