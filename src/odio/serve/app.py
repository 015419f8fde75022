"""An HTTP service around a Detector: FastAPI, loaded once, validated, thin, bounded.

The app is an adapter (LitGPT's LitAPI shape): the Detector is loaded once before the app
starts; each request is validated (:class:`PredictRequest` and the limits of
:class:`ServeSettings`), passed to :meth:`~odio.inference.detector.Detector.predict_proba`, and
the probabilities are shaped into the response. Endpoints::

    POST /v1/predict   {"texts": ["...", ...]} -> {"predictions": [{probabilities, decisions}]}
    POST /v1/explain   {"text": "...", "labels": [...]?} -> {words, scores, probabilities, ...}
    GET  /v1/model     labels, thresholds, backend, runtime, preprocessing, metrics, limits
    GET  /healthz      {"status": "ok"}: the process answers (never needs the token)
    GET  /readyz       {"status": "ready"}: the model is loaded and a request would be queued

Before the app sees a request, :class:`Guard` (plain ASGI, so it runs before any body is
read) checks, in this order: the bearer token of ``/v1`` paths; the declared body size;
room in the queue of scoring requests (503 with ``Retry-After`` when full); then it reads
the body, counting bytes as they arrive whatever the transfer encoding, and answers 413
as soon as the count passes :attr:`ServeSettings.max_body_bytes`.

Concurrency: one :class:`~odio.serve.batching.Batcher` thread owns the model, started and
stopped with the app (its lifespan). ``/v1/predict`` hands its texts to it and awaits their
rows on the event loop, so concurrent requests are scored together in one forward pass (up
to :attr:`ServeSettings.max_batch` texts); explanations run on the same thread between
batches. ``/healthz`` and ``/readyz`` run on the event loop and never wait for the model. No
page loads anything from the network: there is no Swagger UI or ReDoc, and
``/openapi.json`` is served when no token is set. :mod:`odio.serve.server` runs the app, in
one process or several.

Requires the ``serve`` extra (FastAPI, uvicorn).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from odio.data.tables import is_text
from odio.errors import OdioError
from odio.extras import MissingExtra
from odio.inference.detector import Detector
from odio.inference.summary import model_summary
from odio.serve.batching import Batcher
from odio.serve.settings import ServeSettings
from odio.versions import VERSION

try:
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from pydantic import BaseModel, ConfigDict, Field, StrictStr
    from starlette.datastructures import Headers
    from starlette.types import ASGIApp, Message, Receive, Scope, Send
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("serve", "odio serve", "fastapi") from exc

SCORING_PATHS = frozenset({"/v1/predict", "/v1/explain"})
"""The endpoints that use the model, behind a bounded queue."""
MAX_ERRORS_SHOWN = 10
"""Validation errors listed in a 422 body (a list of 10,000 numbers has 10,000)."""


class PredictRequest(BaseModel):
    """The body of ``POST /v1/predict``: raw tweets, normalised by the service."""

    model_config = ConfigDict(extra="forbid")

    texts: list[StrictStr] = Field(min_length=1, description="raw tweet texts")


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


def create_app(detector: Detector, settings: ServeSettings | None = None) -> FastAPI:
    """A FastAPI app serving ``detector``.

    The model is used by one :class:`~odio.serve.batching.Batcher` thread, which runs while
    the app does (its lifespan: a test client must be used as a context manager), and is
    ``app.state.batcher``.

    Args:
        detector: a loaded Detector (load it once, before the app starts).
        settings: limits, batching and token; ``ServeSettings()`` (open, 256 texts of 5000
            chars, batches of up to 64 texts).

    Example:
        >>> from fastapi.testclient import TestClient  # doctest: +SKIP
        >>> app = create_app(Detector.load("runs/tfidf/model"))  # doctest: +SKIP
        >>> with TestClient(app) as client:  # doctest: +SKIP
        ...     client.post("/v1/predict", json={"texts": ["hola"]}).json()
        {'predictions': [{'probabilities': {'Odio': 0.12, ...}, 'decisions': {...}}]}
    """
    settings = settings or ServeSettings()
    admission = Admission(settings)
    batcher = Batcher(
        detector.predict_proba, max_batch=settings.max_batch, max_wait_ms=settings.max_wait_ms
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        batcher.start()
        try:
            yield
        finally:
            await asyncio.to_thread(batcher.stop)  # finishes the batch being scored

    # No Swagger UI or ReDoc: both load their scripts from a CDN, so offline they are blank.
    # With a token the schema is closed too: it is not behind the guard.
    app = FastAPI(
        title="odio",
        version=VERSION,
        description="Hate-speech detection for Spanish tweets.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.token is None else None,
        lifespan=lifespan,
    )
    app.state.batcher = batcher
    app.add_middleware(Guard, settings=settings, admission=admission)
    app.add_exception_handler(RequestValidationError, _validation_error)

    # async: answered on the event loop, never behind predictions
    @app.get("/healthz", summary="liveness: the process answers")
    @app.head("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        summary="readiness: the model is loaded and the queue has room",
        response_model=None,
    )
    @app.head("/readyz", include_in_schema=False, response_model=None)
    async def readyz() -> dict[str, str] | JSONResponse:
        if admission.full:
            return JSONResponse(
                status_code=503,
                content={"status": "busy"},
                headers={"Retry-After": str(settings.retry_after)},
            )
        return {"status": "ready"}

    @app.get("/v1/model", summary="the served model")
    def model() -> dict[str, Any]:
        return model_info(detector, settings)

    @app.post(
        "/v1/predict",
        summary="score tweets",
        description=(
            f"Up to {settings.max_texts} texts of up to {settings.max_chars} characters; "
            "predictions come back in request order. An empty text (nothing but "
            "whitespace) is not scored: its probabilities and decisions are null."
        ),
    )
    async def predict(request: PredictRequest) -> PredictResponse:
        check_limits(request.texts, settings)
        texts = request.texts
        scored = [i for i, text in enumerate(texts) if is_text(text)]
        predictions = [Prediction(probabilities=None, decisions=None) for _ in texts]
        if scored:
            # awaited on the event loop: a waiting request holds no thread
            P = await asyncio.wrap_future(batcher.submit([texts[i] for i in scored]))
            D = detector.decide(P)
            labels = detector.labels
            for i, row, drow in zip(scored, P, D, strict=True):
                predictions[i] = Prediction(
                    probabilities={lab: float(p) for lab, p in zip(labels, row, strict=True)},
                    decisions={lab: bool(d) for lab, d in zip(labels, drow, strict=True)},
                )
        return PredictResponse(
            predictions=predictions,
            thresholds={
                lab: float(t) for lab, t in zip(detector.labels, detector.thresholds, strict=True)
            },
        )

    @app.post(
        "/v1/explain",
        summary="which words push each label up or down",
        description=(
            f"One text of up to {settings.max_chars} characters; one log-odds score per "
            "word of the normalised text and per label (exact for TF-IDF models, by "
            f"occlusion for transformers, for at most {settings.max_explain_words} words)."
        ),
    )
    async def explain(request: ExplainRequest) -> ExplainResponse:
        check_explain_request(request, detector, settings)
        try:
            explain = partial(detector.explain, max_words=settings.max_explain_words)
            explanation = await asyncio.wrap_future(
                batcher.run(partial(explain, request.text, request.labels))
            )
        except OdioError as exc:  # an empty text, or one over max_explain_words
            raise RequestValidationError(
                [{"type": "value_error", "loc": ("body", "text"), "msg": str(exc)}]
            ) from exc
        return ExplainResponse.model_validate(explanation.to_dict())  # extra keys ignored

    return app


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
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


def model_info(detector: Detector, settings: ServeSettings) -> dict[str, Any]:
    """What ``GET /v1/model`` returns: the model's summary (no local paths) and the
    service's limits."""
    return {
        **model_summary(detector),
        "limits": {
            "max_texts": settings.max_texts,
            "max_chars": settings.max_chars,
            "max_body_bytes": settings.max_body_bytes,
            "max_explain_words": settings.max_explain_words,
            "max_queued": settings.max_queued,
            "max_batch": settings.max_batch,
            "max_wait_ms": settings.max_wait_ms,
        },
        "auth": settings.token is not None,
    }
