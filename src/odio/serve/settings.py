"""Limits, batching and access control of the HTTP API; needs no web framework (the CLI
reads its defaults without importing FastAPI).

Every bound of the service is here, with its ``odio serve`` flag: texts per request
(``--max-texts``), characters per text (``--max-chars``), the request body they allow
(:attr:`ServeSettings.max_body_bytes`, counted as it arrives), words per explanation
(``--max-explain-words``) and scoring requests held at once (``--max-queued``); and how
concurrent requests are batched: texts per forward pass (``--max-batch``) and the wait for
more (``--max-wait-ms``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from odio.errors import OdioError
from odio.inference.explain import MAX_WORDS

TOKEN_ENV = "ODIO_API_TOKEN"
"""The environment variable holding the bearer token."""


@dataclass(frozen=True)
class ServeSettings:
    """Limits, batching and access control of the service.

    Example:
        >>> ServeSettings(max_texts=32).max_chars
        5000
    """

    max_texts: int = 256
    """Most texts in one request (``--max-texts``)."""
    max_chars: int = 5000
    """Most characters in one text (``--max-chars``)."""
    max_explain_words: int = MAX_WORDS
    """Most words of a text explained by occlusion (``--max-explain-words``): transformer
    and stack models score the text once without each word, so the work grows with the
    square of the word count (TF-IDF explanations are exact and take any length)."""
    max_queued: int = 64
    """Scoring requests (``/v1/predict``, ``/v1/explain``) held beyond the first, being read,
    waiting for a batch or being scored in one (``--max-queued``); past it a request is
    answered 503 with ``Retry-After`` at once, before its body is read. Each holds at most one
    body, so bodies take at most ``(1 + max_queued) * max_body_bytes``: about 1 GB at the
    default text limits for a worst case of 65 full requests, a few hundred KB for 65 tweets.
    64 lets 64 clients each keep one request in flight (a client that sends its next request
    as soon as the last is answered may briefly hold two) without a 503."""
    max_batch: int = 64
    """Most texts scored in one forward pass (``--max-batch``): concurrent requests are
    gathered up to it; a request with more texts is scored alone; 1 scores one request at a
    time."""
    max_wait_ms: int = 5
    """Milliseconds to wait for more requests to join a batch once its first is taken
    (``--max-wait-ms``); 0 takes only the requests already waiting. Under load the requests
    that arrive while a batch is scored fill the next one whatever the wait."""
    retry_after: int = 1
    """Seconds a 503 asks the client to wait (the ``Retry-After`` header)."""
    token: str | None = field(default=None, repr=False)
    """Bearer token every ``/v1`` request must carry; ``None`` leaves the service open."""

    @property
    def max_body_bytes(self) -> int:
        """Largest request body accepted: the text limits at 4 UTF-8 bytes (JSON-escaped
        emoji take 12) per character, plus room for the JSON around them."""
        return self.max_texts * (self.max_chars * 12 + 64) + 4096

    def __post_init__(self) -> None:
        if min(self.max_texts, self.max_chars, self.max_explain_words, self.retry_after) < 1:
            raise OdioError(
                "serve limits max_texts, max_chars, max_explain_words and retry_after must be >= 1"
            )
        if self.max_batch < 1:
            raise OdioError("serve setting max_batch must be >= 1")
        if min(self.max_queued, self.max_wait_ms) < 0:
            raise OdioError("serve settings max_queued and max_wait_ms must be >= 0")
        if self.token is not None and not self.token.strip():
            raise OdioError(f"{TOKEN_ENV} is set but empty; unset it or give a token")

    @classmethod
    def from_env(cls, **overrides: Any) -> ServeSettings:
        """Settings with the token read from ``ODIO_API_TOKEN`` (unset: no token).

        >>> ServeSettings.from_env(token=None).token is None
        True
        """
        values: dict[str, Any] = {"token": os.environ.get(TOKEN_ENV)}
        values.update(overrides)
        return cls(**values)
