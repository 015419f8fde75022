"""Requests over the service's limits, and how a 422 says so: what is wrong, never the
request echoed back.

Example:
    >>> from odio.serve.settings import ServeSettings
    >>> check_limits(["hola"], ServeSettings())  # within the limits: nothing raised
"""

from __future__ import annotations

from typing import Any

from odio.extras import MissingExtra
from odio.inference.detector import Detector
from odio.serve.schemas import ExplainRequest
from odio.serve.settings import ServeSettings

try:
    from fastapi import Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("serve", "odio serve", "fastapi") from exc

__all__ = ["MAX_ERRORS_SHOWN", "check_explain_request", "check_limits", "validation_error"]

MAX_ERRORS_SHOWN = 10
"""Validation errors listed in a 422 body (a list of 10,000 numbers has 10,000)."""


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """A 422 that says what is wrong without echoing the request back (a body of 256
    texts of 5,000 characters came back whole in every error)."""
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    detail: list[dict[str, Any]] = [
        {"type": e.get("type"), "loc": list(e.get("loc", ())), "msg": e.get("msg")}
        for e in errors[:MAX_ERRORS_SHOWN]
    ]
    if len(errors) > MAX_ERRORS_SHOWN:
        detail.append(
            {
                "type": "too_many_errors",
                "loc": ["body"],
                "msg": f"{len(errors) - MAX_ERRORS_SHOWN} more errors not shown",
            }
        )
    return JSONResponse(status_code=422, content={"detail": detail})


def check_limits(texts: list[str], settings: ServeSettings) -> None:
    """Raise a 422 validation error when a request is over the configured limits."""
    errors: list[dict[str, Any]] = []
    if len(texts) > settings.max_texts:
        errors.append(
            {
                "type": "too_long",
                "loc": ("body", "texts"),
                "msg": f"at most {settings.max_texts} texts per request, got {len(texts)}",
            }
        )
    for i, text in enumerate(texts):
        if len(text) > settings.max_chars:
            errors.append(
                {
                    "type": "string_too_long",
                    "loc": ("body", "texts", i),
                    "msg": f"text {i} has {len(text)} characters; at most {settings.max_chars}",
                }
            )
            break
    if errors:
        raise RequestValidationError(errors)


def check_explain_request(
    request: ExplainRequest, detector: Detector, settings: ServeSettings
) -> None:
    """Raise a 422 validation error for a text over ``max_chars`` or an unknown label."""
    errors: list[dict[str, Any]] = []
    if len(request.text) > settings.max_chars:
        errors.append(
            {
                "type": "string_too_long",
                "loc": ("body", "text"),
                "msg": f"the text has {len(request.text)} characters; at most {settings.max_chars}",
            }
        )
    for i, label in enumerate(request.labels or []):
        if label not in detector.labels:
            errors.append(
                {
                    "type": "value_error",
                    "loc": ("body", "labels", i),
                    "msg": f"unknown label {label[:100]!r}; the model's labels are: "
                    + ", ".join(detector.labels),
                }
            )
    if errors:
        raise RequestValidationError(errors)
