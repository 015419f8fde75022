"""An HTTP service around a Detector: FastAPI, loaded once, validated, thin, bounded.

The app is an adapter (LitGPT's LitAPI shape): the Detector is loaded once before the app
starts; each request is validated (:class:`PredictRequest` and the limits of
:class:`ServeSettings`), passed to :meth:`~odio.inference.detector.Detector.predict_proba`, and
the probabilities are shaped into the response. Endpoints::

    POST /v1/predict   {"texts": ["...", ...], "context": ["...", null, ...]?}
                       -> {"predictions": [{probabilities, decisions}]}
    POST /v1/explain   {"text": "...", "labels": [...]?} -> {words, scores, probabilities, ...}
    GET  /v1/model     labels, thresholds, backend, runtime, preprocessing, metrics, limits
    GET  /healthz      {"status": "ok"}: the process answers (never needs the token)
    GET  /readyz       {"status": "ready"}: the model is loaded and a request would be queued

Before the app sees a request, :class:`Guard` (plain ASGI) checks, in this order: the
bearer token (every path but the probes, when one is set); the declared body size (only
the scoring endpoints take a body); room in the endpoint's lane (503 with ``Retry-After``
when full); then it reads the body, counting bytes as they arrive whatever the transfer
encoding (413 as soon as the count passes the limit) within ``read_timeout`` seconds (408),
and only then takes the lane's slot.

Concurrency: one :class:`~odio.serve.batching.Batcher` thread owns the model, started and
stopped with the app (its lifespan). ``/v1/predict`` hands its texts to it and awaits their
rows on the event loop, so concurrent requests are scored together in one forward pass (up
to :attr:`ServeSettings.max_batch` texts). Explanations have their own bounded lane
(:mod:`odio.serve.explaining`): one at a time, their scoring given to the batcher a few
texts at a time, between batches. ``/healthz`` and ``/readyz`` run on the event loop and
never wait for the model. No
page loads anything from the network: there is no Swagger UI or ReDoc, and
``/openapi.json`` is served when no token is set. :mod:`odio.serve.server` runs the app, in
one process or several.

Requires the ``serve`` extra (FastAPI, uvicorn).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from concurrent.futures import Future
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from odio.data.tables import is_text
from odio.errors import OdioError
from odio.extras import MissingExtra
from odio.inference.detector import Detector
from odio.inference.summary import model_summary
from odio.serve.batching import Batcher
from odio.serve.explaining import ExplainLane
from odio.serve.settings import ServeSettings
from odio.versions import VERSION

try:
    from fastapi import FastAPI, HTTPException
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("serve", "odio serve", "fastapi") from exc

from odio.serve.guard import Admission, Guard
from odio.serve.limits import check_explain_request, check_limits, validation_error
from odio.serve.schemas import (
    ExplainRequest,
    ExplainResponse,
    Prediction,
    PredictRequest,
    PredictResponse,
)
from odio.text.context import join_contexts

__all__ = ["Admission", "Guard", "check_limits", "create_app", "model_info"]

log = logging.getLogger(__name__)
T = TypeVar("T")


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
    admission = Admission(settings.max_queued)
    lanes = {"/v1/predict": admission, "/v1/explain": Admission(settings.max_explain_queued)}
    batcher = Batcher(  # texts joined with their context (odio.text.context)
        detector.predict_proba, max_batch=settings.max_batch, max_wait_ms=settings.max_wait_ms
    )
    explainer = ExplainLane(detector, batcher, max_words=settings.max_explain_words)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        batcher.start()
        explainer.start()
        try:
            yield
        finally:
            await asyncio.to_thread(explainer.stop)  # finishes the explanations given
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
    app.add_middleware(Guard, settings=settings, lanes=lanes)
    app.add_exception_handler(RequestValidationError, validation_error)

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
            "whitespace) is not scored: its probabilities and decisions are null. An "
            "optional context holds each text's conversation context (one per text, null "
            "where none), under the same limits as the texts."
        ),
    )
    async def predict(request: PredictRequest) -> PredictResponse:
        check_limits(request.texts, settings)
        if request.context is not None:
            check_context_limits(request.context, settings)
        scored = [i for i, text in enumerate(request.texts) if is_text(text)]
        texts = join_contexts(request.texts, request.context)
        predictions = [Prediction(probabilities=None, decisions=None) for _ in texts]
        if scored:
            # awaited on the event loop: a waiting request holds no thread
            P = await scoring(batcher.submit([texts[i] for i in scored]), "texts")
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
        # in its own lane: an empty text, or one over max_explain_words, is a 422
        explanation = await scoring(explainer.explain(request.text, request.labels), "text")
        return ExplainResponse.model_validate(explanation.to_dict())  # extra keys ignored

    return app


def check_context_limits(contexts: list[str | None], settings: ServeSettings) -> None:
    """A 422 naming the first context over ``max_chars`` (the limit of a text)."""
    for i, context in enumerate(contexts):
        if context is not None and len(context) > settings.max_chars:
            raise RequestValidationError(
                [
                    {
                        "type": "string_too_long",
                        "loc": ("body", "context", i),
                        "msg": f"context {i} has {len(context)} characters; "
                        f"at most {settings.max_chars}",
                    }
                ]
            )


async def scoring(future: Future[T], field: str) -> T:
    """The result of work given to the scoring thread, or the error a client reads: a 422
    naming ``field`` when the input is at fault (an :class:`~odio.errors.OdioError`), else a
    500 of one line (the traceback goes to the log)."""
    try:
        return await asyncio.wrap_future(future)
    except OdioError as exc:
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("body", field), "msg": str(exc)}]
        ) from exc
    except Exception as exc:
        log.error("scoring failed", exc_info=exc)
        raise HTTPException(
            500, f"scoring failed ({type(exc).__name__}); the server's log has the details"
        ) from exc


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
            "max_explain_queued": settings.max_explain_queued,
            "read_timeout": settings.read_timeout,
            "max_batch": settings.max_batch,
            "max_wait_ms": settings.max_wait_ms,
        },
        "auth": settings.token is not None,
    }
