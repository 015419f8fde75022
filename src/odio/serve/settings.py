"""Limits and access control of the HTTP API; needs no web framework (the CLI reads its
defaults without importing FastAPI)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from odio.errors import OdioError

TOKEN_ENV = "ODIO_API_TOKEN"
"""The environment variable holding the bearer token."""


@dataclass(frozen=True)
class ServeSettings:
    """Limits and access control of the service.

    Example:
        >>> ServeSettings(max_texts=32).max_chars
        5000
    """

    max_texts: int = 256
    """Most texts in one request."""
    max_chars: int = 5000
    """Most characters in one text."""
    token: str | None = field(default=None, repr=False)
    """Bearer token every ``/v1`` request must carry; ``None`` leaves the service open."""

    @property
    def max_body_bytes(self) -> int:
        """Largest request body accepted: the text limits at 4 UTF-8 bytes (JSON-escaped
        emoji take 12) per character, plus room for the JSON around them."""
        return self.max_texts * (self.max_chars * 12 + 64) + 4096

    def __post_init__(self) -> None:
        if self.max_texts < 1 or self.max_chars < 1:
            raise OdioError("serve limits max_texts and max_chars must be >= 1")
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
