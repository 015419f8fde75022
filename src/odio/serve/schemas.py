"""The JSON bodies of the HTTP service: requests validated on the way in, responses shaped
on the way out (:mod:`odio.serve.app`).

Example:
    >>> PredictRequest(texts=["hola"]).texts
    ['hola']
    >>> PredictRequest(texts=["que se vayan", "hola"], context=["llegan migrantes", None]).context
    ['llegan migrantes', None]
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictStr, model_validator

__all__ = ["ExplainRequest", "ExplainResponse", "PredictRequest", "PredictResponse", "Prediction"]


class PredictRequest(BaseModel):
    """The body of ``POST /v1/predict``: raw tweets, normalised by the service."""

    model_config = ConfigDict(extra="forbid")

    texts: list[StrictStr] = Field(min_length=1, description="raw tweet texts")
    context: list[StrictStr | None] | None = Field(
        default=None,
        description="each text's conversation context (the tweets it replies to or quotes), "
        "one per text, null or empty where a text has none; read by models trained with "
        "context, ignored by the others",
    )

    @model_validator(mode="after")
    def _one_context_per_text(self) -> PredictRequest:
        if self.context is not None and len(self.context) != len(self.texts):
            raise ValueError(
                f"context must have one entry per text ({len(self.texts)}), got "
                f"{len(self.context)}; null where a text has none"
            )
        return self


class Prediction(BaseModel):
    """One text's probability and 0/1 decision (at the tuned threshold) per label; both
    ``null`` for an empty text (nothing but whitespace), which is not scored."""

    probabilities: dict[str, float] | None
    decisions: dict[str, bool] | None


class ExplainRequest(BaseModel):
    """The body of ``POST /v1/explain``: one raw tweet and, optionally, labels to explain."""

    model_config = ConfigDict(extra="forbid")

    # No length constraint here: pydantic refuses a lone surrogate in a constrained
    # string; an empty text is refused by the explanation itself ("nothing to explain").
    text: StrictStr = Field(description="one raw tweet text")
    labels: list[StrictStr] | None = Field(
        default=None, min_length=1, description="labels to explain (default: all)"
    )


class ExplainResponse(BaseModel):
    """Per-word log-odds contributions (see :mod:`odio.inference.explain`) for the labels asked."""

    normalised: str
    words: list[str]
    scores: dict[str, list[float]]
    probabilities: dict[str, float]
    decisions: dict[str, bool]
    method: str


class PredictResponse(BaseModel):
    """Predictions in the order of the request's texts, and the thresholds behind them."""

    predictions: list[Prediction]
    thresholds: dict[str, float]
