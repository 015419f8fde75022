"""What the HTTP service checks before the app sees a request (plain ASGI): the bearer token
and the declared body size before any byte of the body is read, then the body itself,
counted and timed as it arrives, and only then room in the bounded lane of its endpoint.

Every path is bounded: only the scoring endpoints take a body of up to
:attr:`~odio.serve.settings.ServeSettings.max_body_bytes`; any other path (an unknown one
too) takes at most :data:`SMALL_BODY` bytes. With a token, every path but the probes needs
it. A body must arrive whole within ``read_timeout`` seconds (else 408 and the connection is
closed), and a request takes its lane's slot only once its body is complete, so clients that
never finish their uploads hold no slot: predictions and ``/readyz`` go on answering.
Memory stays bounded all the same: the bodies of scoring requests, being read or served,
take at most one full body per slot of the lanes (:attr:`Guard.budget`; 503 past it).

Example:
    >>> Admission(0).limit
    1
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Mapping

from odio.extras import MissingExtra
from odio.serve.settings import ServeSettings

try:
    from fastapi.responses import JSONResponse
    from starlette.datastructures import Headers
    from starlette.types import ASGIApp, Message, Receive, Scope, Send
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("serve", "odio serve", "fastapi") from exc

__all__ = ["PUBLIC_PATHS", "SMALL_BODY", "Admission", "Guard"]

PUBLIC_PATHS = frozenset({"/healthz", "/readyz"})
"""The probes: they never need the token."""
SMALL_BODY = 1024
"""Most bytes of a body sent to any other path than the two scoring endpoints (none of
them reads one)."""


class Admission:
    """How many requests a lane holds (complete, waiting or being served): at most
    ``1 + queued``.

    >>> gate = Admission(1)
    >>> gate.enter(), gate.enter(), gate.enter()
    (True, True, False)
    """

    def __init__(self, queued: int) -> None:
        self.limit = 1 + queued
        self.admitted = 0

    @property
    def full(self) -> bool:
        """Whether a new request would be refused."""
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
        settings: the token, the body limit and the read timeout.
        lanes: the bounded lane of each scoring path (``/v1/predict``, ``/v1/explain``).
    """

    def __init__(self, app: ASGIApp, settings: ServeSettings, lanes: Mapping[str, Admission]):
        self.app = app
        self.settings = settings
        self.lanes = lanes
        self.budget = sum(lane.limit for lane in lanes.values()) * settings.max_body_bytes
        """Most bytes the bodies of scoring requests take at once, being read or served: one
        full body per slot of the lanes."""
        self.held = 0
        """Bytes the bodies of scoring requests take now."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        path: str = scope["path"]
        if path not in PUBLIC_PATHS and not self._authorised(headers):
            await _refuse(scope, receive, send, 401, _UNAUTHORISED, {"WWW-Authenticate": "Bearer"})
            return
        lane = self.lanes.get(path) if scope["method"] == "POST" else None
        limit = self.settings.max_body_bytes if lane is not None else SMALL_BODY
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _refuse(scope, receive, send, 413, f"request body over {limit} bytes", _CLOSE)
            return
        if lane is not None and lane.full:  # refused at once, before the body is read
            await self._busy(scope, receive, send, lane)
            return
        held = _Held()  # the bytes of this request's body, while it is read and served
        try:
            await self._serve(scope, receive, send, lane, limit, held)
        finally:
            self.held -= held.size

    async def _serve(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        lane: Admission | None,
        limit: int,
        held: _Held,
    ) -> None:
        try:
            read = self._read_body(receive, limit, held if lane is not None else None)
            body = await asyncio.wait_for(read, self.settings.read_timeout)
        except _Disconnected:  # the client left before sending its whole body
            return
        except asyncio.TimeoutError:
            detail = f"the request body did not arrive within {self.settings.read_timeout:g} s"
            await _refuse(scope, receive, send, 408, detail, _CLOSE)
            return
        except _OverBudget:
            detail = f"busy: request bodies take {self.held} bytes; retry later"
            headers = {"Retry-After": str(self.settings.retry_after), **_CLOSE}
            await _refuse(scope, receive, send, 503, detail, headers)
            return
        if body is None:
            await _refuse(scope, receive, send, 413, f"request body over {limit} bytes", _CLOSE)
            return
        if lane is None:
            await self.app(scope, _replay(body, receive), send)
            return
        if not lane.enter():  # the slot is taken only now that the body is whole
            await self._busy(scope, receive, send, lane)
            return
        try:
            await self.app(scope, _replay(body, receive), send)
        finally:
            lane.leave()

    async def _read_body(self, receive: Receive, limit: int, held: _Held | None) -> bytes | None:
        """The whole body, or ``None`` as soon as more than ``limit`` bytes have arrived;
        counted in ``held`` (and :attr:`held`) unless ``None``, :class:`_OverBudget` past
        :attr:`budget`."""
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
            if held is not None:
                if self.held + len(chunk) > self.budget:
                    raise _OverBudget
                self.held += len(chunk)
                held.size += len(chunk)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _busy(self, scope: Scope, receive: Receive, send: Send, lane: Admission) -> None:
        detail = f"busy: {lane.admitted} requests are being served or waiting; retry later"
        headers = {"Retry-After": str(self.settings.retry_after)}
        await _refuse(scope, receive, send, 503, detail, headers)

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
_CLOSE = {"Connection": "close"}
"""Sent with a refusal that leaves the body unread: the connection cannot be reused."""


class _Disconnected(Exception):
    """The client went away while its body was being read."""


class _OverBudget(Exception):
    """The bodies of scoring requests would take more than the guard's budget."""


class _Held:
    """The bytes of one request's body counted in :attr:`Guard.held`."""

    size = 0


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
