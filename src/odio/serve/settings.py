"""Limits, batching and access control of the HTTP API, read from the environment and the
``odio serve`` flags; needs no web framework (the CLI reads them without importing FastAPI).

:class:`ServeSettings` is a pydantic-settings model: every field is read from an
environment variable ``ODIO_SERVE_<FIELD>`` (``ODIO_SERVE_MAX_TEXTS=32``), and every field
but the token is also an ``odio serve`` flag of the same name (``--max-texts 32``), generated
from the field by :mod:`odio.cli.flags`: a flag overrides the environment, which overrides
the default. The bearer token is read from ``ODIO_API_TOKEN`` only (never a flag: a command
line is visible to every user of the machine).

Every bound of the service is here: texts per request (``max_texts``), characters per text
(``max_chars``), the request body they allow (:attr:`ServeSettings.max_body_bytes`, counted
as it arrives), words per explanation (``max_explain_words``), predictions and explanations
held at once (``max_queued``, ``max_explain_queued``) and the time a body may take to
arrive (``read_timeout``); and how concurrent requests are batched: texts per forward pass
(``max_batch``) and the wait for more (``max_wait_ms``).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from odio.errors import OdioError
from odio.inference import MAX_WORDS

TOKEN_ENV = "ODIO_API_TOKEN"
"""The environment variable holding the bearer token."""
ENV_PREFIX = "ODIO_SERVE_"
"""The prefix of the environment variable of every other setting (``ODIO_SERVE_MAX_TEXTS``)."""


class ServeSettings(BaseSettings):
    """Limits, batching and access control of the service, validated on construction.

    Values given here override the environment (``ODIO_SERVE_<FIELD>``, ``ODIO_API_TOKEN``),
    which overrides the defaults; a bad value is an :class:`~odio.errors.OdioError` naming
    the setting, its flag and its variable.

    Example:
        >>> ServeSettings(max_texts=32).max_chars
        5000
        >>> ServeSettings(max_batch=0)
        Traceback (most recent call last):
        ...
        odio.errors.OdioError: serve setting max_batch (--max-batch, ODIO_SERVE_MAX_BATCH): input should be greater than or equal to 1, got 0
    """  # noqa: E501 - a doctest output line cannot be wrapped

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        frozen=True,
        extra="forbid",
        use_attribute_docstrings=True,
        populate_by_name=True,
        allow_inf_nan=False,
    )

    max_texts: int = Field(256, ge=1)
    """Most texts in one request."""
    max_chars: int = Field(5000, ge=1)
    """Most characters in one text."""
    max_explain_words: int = Field(MAX_WORDS, ge=1)
    """Most words of a /v1/explain text, for occlusion.

    Transformer and stack models score the text once without each word, so the work grows
    with the square of the word count (TF-IDF explanations are exact and take any length)."""
    max_queued: int = Field(64, ge=0)
    """Predictions held beyond the first (complete, waiting or being scored); past it 503
    with Retry-After.

    A ``/v1/predict`` request takes its slot once its body has arrived whole; when the queue
    is full it is answered 503 at once, before its body is read. Bodies, being read or
    served, take at most one ``max_body_bytes`` per slot of both lanes (``(2 + max_queued +
    max_explain_queued) * max_body_bytes``: about 1 GB at the default text limits for a worst
    case of full requests, a few hundred KB for tweets). 64 lets 64 clients
    each keep one request in flight (a client that sends its next request as soon as the last
    is answered may briefly hold two) without a 503."""
    max_explain_queued: int = Field(4, ge=0)
    """Explanations held beyond the one being computed; past it 503 with Retry-After.

    Explanations have their own lane: one is computed at a time, its scoring given to the
    model a few texts at a time between batches of predictions, so that an explanation never
    holds predictions up for long and explanations never take the predictions' slots."""
    read_timeout: float = Field(10.0, gt=0)
    """Seconds a client has to send a request's whole body; past it 408 and the connection
    is closed.

    A request takes its slot only once its body is complete, so uploads that never finish
    hold no slot, and each holds its connection for at most this long."""
    max_batch: int = Field(64, ge=1)
    """Most texts scored in one forward pass: concurrent requests are batched up to it; 1
    scores one request at a time.

    A request with more texts is scored alone."""
    max_wait_ms: int = Field(5, ge=0)
    """Milliseconds a batch waits for more requests after its first; 0 takes only those
    already waiting.

    Under load the requests that arrive while a batch is scored fill the next one whatever
    the wait."""
    retry_after: int = Field(1, ge=1)
    """Seconds a 503 asks the client to wait (the Retry-After header)."""
    token: str | None = Field(None, repr=False, validation_alias=TOKEN_ENV)
    """Bearer token every ``/v1`` request must carry (from ODIO_API_TOKEN); ``None`` leaves
    the service open."""

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise OdioError(_describe(exc)) from None

    @field_validator("token")
    @classmethod
    def _token_given(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError(f"{TOKEN_ENV} is set but empty; unset it or give a token")
        return value

    @property
    def max_body_bytes(self) -> int:
        """Largest request body accepted: the text limits at 4 UTF-8 bytes (JSON-escaped
        emoji take 12) per character, plus room for the JSON around them."""
        return self.max_texts * (self.max_chars * 12 + 64) + 4096

    @classmethod
    def from_env(cls, **overrides: Any) -> ServeSettings:
        """The settings of the environment, with ``overrides`` on top (the same as
        ``ServeSettings(**overrides)``; kept for the callers that name it).

        >>> ServeSettings.from_env(token=None).token is None
        True
        """
        return cls(**overrides)


def _describe(exc: ValidationError) -> str:
    """The first problem of a validation error as one line naming the setting, its flag and
    its environment variable."""
    error = exc.errors()[0]
    name = str(error["loc"][0]) if error["loc"] else ""
    message = error["msg"].removeprefix("Value error, ")
    if name in (TOKEN_ENV, "token") and error["type"] == "value_error":
        return message
    message = message[:1].lower() + message[1:]
    if error["type"] == "extra_forbidden":
        return f"unknown serve setting {name!r}"
    where = f"--{name.replace('_', '-')}, {ENV_PREFIX}{name.upper()}"
    given = error.get("input")
    shown = "" if repr(given) in message else f", got {given!r}"
    return f"serve setting {name} ({where}): {message}{shown}"
