"""What the HTTP service checks before the app sees a request (plain ASGI, before the body
is read): the bearer token of ``/v1`` paths, the declared and the actual body size, and room
in the bounded queue of scoring requests.

Example:
    >>> from odio.serve.settings import ServeSettings
    >>> Admission(ServeSettings(max_queued=0)).limit
    1
"""

from __future__ import annotations

import secrets

from odio.extras import MissingExtra
from odio.serve.settings import ServeSettings

try:
    from fastapi.responses import JSONResponse
    from starlette.datastructures import Headers
    from starlette.types import ASGIApp, Message, Receive, Scope, Send
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("serve", "odio serve", "fastapi") from exc

__all__ = ["SCORING_PATHS", "Admission", "Guard"]

SCORING_PATHS = frozenset({"/v1/predict", "/v1/explain"})
"""The endpoints that use the model, behind a bounded queue."""


class Admission:
    """How many scoring requests are held (being read, waiting or being scored): at most
    ``1 + max_queued``.

    >>> gate = Admission(ServeSettings(max_queued=1))
    >>> gate.enter(), gate.enter(), gate.enter()
    (True, True, False)
    """

    def __init__(self, settings: ServeSettings) -> None:
        self.limit = 1 + settings.max_queued
        self.admitted = 0

    @property
    def full(self) -> bool:
        """Whether a new scoring request would be refused."""
        return self.admitted >= self.limit

    def enter(self) -> bool:
        """Admit one request if there is room (the caller must :meth:`leave` after)."""
        if self.full:
            return False
        self.admitted += 1
        return True

    def leave(self) -> None:
        self.admitted -= 1


class Guard:
    """What is checked before the app sees a request: plain ASGI, before the body is read.

    Args:
        app: the ASGI app it guards.
        settings: the token and the body limit.
        admission: the queue of scoring requests.
    """

    def __init__(self, app: ASGIApp, settings: ServeSettings, admission: Admission) -> None:
        self.app = app
        self.settings = settings
        self.admission = admission

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        path: str = scope["path"]
        if (path == "/v1" or path.startswith("/v1/")) and not self._authorised(headers):
            await _refuse(scope, receive, send, 401, _UNAUTHORISED, {"WWW-Authenticate": "Bearer"})
            return
        limit = self.settings.max_body_bytes
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _refuse(scope, receive, send, 413, f"request body over {limit} bytes")
            return
        scoring = scope["method"] == "POST" and path in SCORING_PATHS
        if scoring and not self.admission.enter():
            await _refuse(
                scope,
                receive,
                send,
                503,
                f"busy: {self.admission.admitted} requests are being scored or waiting; "
                "retry later",
                {"Retry-After": str(self.settings.retry_after)},
            )
            return
        try:
            body = await _read_body(receive, limit)
            if body is None:
                await _refuse(scope, receive, send, 413, f"request body over {limit} bytes")
                return
            await self.app(scope, _replay(body, receive), send)
        except _Disconnected:  # the client left before sending its whole body
            return
        finally:
            if scoring:
                self.admission.leave()

    def _authorised(self, headers: Headers) -> bool:
        if self.settings.token is None:
            return True
        scheme, _, given = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            given = ""
        return secrets.compare_digest(
            given.strip().encode("utf-8"), self.settings.token.encode("utf-8")
        )


_UNAUTHORISED = "missing or wrong bearer token (Authorization: Bearer <token>)"


class _Disconnected(Exception):
    """The client went away while its body was being read."""


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or ``None`` as soon as more than ``limit`` bytes have arrived."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` whole, then whatever the client sends next."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _refuse(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    detail: str,
    headers: dict[str, str] | None = None,
) -> None:
    response = JSONResponse(status_code=status, content={"detail": detail}, headers=headers)
    await response(scope, receive, send)
