"""An HTTP service around a Detector: FastAPI, loaded once, validated, thin.

The app is an adapter (LitGPT's LitAPI shape): the Detector is loaded once before the app
starts; each request is validated (:class:`PredictRequest` and the limits of
:class:`ServeSettings`), passed to :meth:`~odio.inference.detector.Detector.predict_proba`, and
the probabilities are shaped into the response. Endpoints::

    POST /v1/predict   {"texts": ["...", ...]} -> {"predictions": [{probabilities, decisions}]}
    POST /v1/explain   {"text": "...", "labels": [...]?} -> {words, scores, probabilities, ...}
    GET  /v1/model     labels, thresholds, backend, runtime, preprocessing, metrics, limits
    GET  /healthz      {"status": "ok"} (never needs the token)

Concurrency: FastAPI runs these synchronous endpoints in a thread pool, so the event loop
(and ``/healthz``) stays responsive while a prediction runs. Predictions themselves are
serialised by one lock: a Hugging Face fast tokenizer is not safe to call from several
threads at once ("Already borrowed"), and PyTorch and ONNX Runtime already use every core
for one batch, so running two at once would only make both slower.

Requires the ``serve`` extra (FastAPI, uvicorn).
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
import threading
from typing import Annotated, Any

from odio.errors import OdioError
from odio.extras import MissingExtra, require
from odio.inference.detector import Detector
from odio.serve.settings import TOKEN_ENV, ServeSettings
from odio.versions import VERSION

try:
    from fastapi import Depends, FastAPI, HTTPException, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
    from pydantic import BaseModel, ConfigDict, Field, StrictStr
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("serve", "odio serve", "fastapi") from exc

log = logging.getLogger(__name__)

BEARER = HTTPBearer(auto_error=False)
"""Reads ``Authorization: Bearer <token>``; stateless, so one serves every app."""
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]


class PredictRequest(BaseModel):
    """The body of ``POST /v1/predict``: raw tweets, normalised by the service."""

    model_config = ConfigDict(extra="forbid")

    texts: list[StrictStr] = Field(min_length=1, description="raw tweet texts")


class Prediction(BaseModel):
    """One text's probability and 0/1 decision (at the tuned threshold) per label."""

    probabilities: dict[str, float]
    decisions: dict[str, bool]


class ExplainRequest(BaseModel):
    """The body of ``POST /v1/explain``: one raw tweet and, optionally, labels to explain."""

    model_config = ConfigDict(extra="forbid")

    text: StrictStr = Field(min_length=1, description="one raw tweet text")
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


def create_app(detector: Detector, settings: ServeSettings | None = None) -> FastAPI:
    """A FastAPI app serving ``detector``.

    Args:
        detector: a loaded Detector (load it once, before the app starts).
        settings: limits and token; ``ServeSettings()`` (open, 256 texts of 5000 chars).

    Example:
        >>> from fastapi.testclient import TestClient  # doctest: +SKIP
        >>> client = TestClient(create_app(Detector.load("runs/tfidf/model")))  # doctest: +SKIP
        >>> client.post("/v1/predict", json={"texts": ["hola"]}).json()  # doctest: +SKIP
        {'predictions': [{'probabilities': {'Odio': 0.12, ...}, 'decisions': {...}}]}
    """
    settings = settings or ServeSettings()
    lock = threading.Lock()

    def check_token(credentials: Credentials) -> None:
        if settings.token is None:
            return
        given = (credentials.credentials if credentials else "").encode("utf-8")
        if not secrets.compare_digest(given, settings.token.encode("utf-8")):
            raise HTTPException(
                status_code=401,
                detail="missing or wrong bearer token (Authorization: Bearer <token>)",
                headers={"WWW-Authenticate": "Bearer"},
            )

    # With a token, the schema and docs pages are closed too: they are not behind the guard.
    open_docs = settings.token is None
    app = FastAPI(
        title="odio",
        version=VERSION,
        description="Hate-speech detection for Spanish tweets.",
        docs_url="/docs" if open_docs else None,
        redoc_url="/redoc" if open_docs else None,
        openapi_url="/openapi.json" if open_docs else None,
    )
    guarded = [Depends(check_token)]

    @app.middleware("http")
    async def limit_body(request: Request, call_next: Any) -> Any:
        # Refuse an oversized body before it is read and parsed, not after.
        length = request.headers.get("content-length", "0")
        if not length.isdigit() or int(length) > settings.max_body_bytes:
            return JSONResponse(
                status_code=413,
                content={"detail": f"request body over {settings.max_body_bytes} bytes"},
            )
        return await call_next(request)

    @app.get("/healthz", summary="liveness check")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/model", dependencies=guarded, summary="the served model")
    def model() -> dict[str, Any]:
        return model_info(detector, settings)

    @app.post(
        "/v1/predict",
        dependencies=guarded,
        summary="score tweets",
        description=(
            f"Up to {settings.max_texts} texts of up to {settings.max_chars} characters; "
            "predictions come back in request order."
        ),
    )
    def predict(request: PredictRequest) -> PredictResponse:
        check_limits(request.texts, settings)
        with lock:
            P = detector.predict_proba(request.texts)
        D = detector.decide(P)
        labels = detector.labels
        return PredictResponse(
            predictions=[
                Prediction(
                    probabilities={lab: float(p) for lab, p in zip(labels, row, strict=True)},
                    decisions={lab: bool(d) for lab, d in zip(labels, drow, strict=True)},
                )
                for row, drow in zip(P, D, strict=True)
            ],
            thresholds={lab: float(t) for lab, t in zip(labels, detector.thresholds, strict=True)},
        )

    @app.post(
        "/v1/explain",
        dependencies=guarded,
        summary="which words push each label up or down",
        description=(
            f"One text of up to {settings.max_chars} characters; one log-odds score per "
            "word of the normalised text and per label (exact for TF-IDF models, by "
            "occlusion for transformers)."
        ),
    )
    def explain(request: ExplainRequest) -> ExplainResponse:
        check_explain_request(request, detector, settings)
        try:
            with lock:
                explanation = detector.explain(request.text, request.labels)
        except OdioError as exc:  # e.g. a text that is only whitespace
            raise RequestValidationError(
                [{"type": "value_error", "loc": ("body", "text"), "msg": str(exc), "input": None}]
            ) from exc
        return ExplainResponse.model_validate(explanation.to_dict())  # extra keys ignored

    return app


def check_limits(texts: list[str], settings: ServeSettings) -> None:
    """Raise a 422 validation error when a request is over the configured limits."""
    errors: list[dict[str, Any]] = []
    if len(texts) > settings.max_texts:
        errors.append(
            {
                "type": "too_long",
                "loc": ("body", "texts"),
                "msg": f"at most {settings.max_texts} texts per request, got {len(texts)}",
                "input": None,
            }
        )
    for i, text in enumerate(texts):
        if len(text) > settings.max_chars:
            errors.append(
                {
                    "type": "string_too_long",
                    "loc": ("body", "texts", i),
                    "msg": f"text {i} has {len(text)} characters; at most {settings.max_chars}",
                    "input": None,
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
                "input": None,
            }
        )
    for i, label in enumerate(request.labels or []):
        if label not in detector.labels:
            errors.append(
                {
                    "type": "value_error",
                    "loc": ("body", "labels", i),
                    "msg": f"unknown label {label!r}; the model's labels are: "
                    + ", ".join(detector.labels),
                    "input": None,
                }
            )
    if errors:
        raise RequestValidationError(errors)


def model_info(detector: Detector, settings: ServeSettings) -> dict[str, Any]:
    """What ``GET /v1/model`` returns: the model's description and the service's limits."""
    described = detector.model.describe()
    metrics = detector.info.get("metrics", {})
    metric = detector.info.get("metric", "f1_custom")
    scores = {
        split: metrics[split]["tuned"].get(metric)
        for split in ("oof", "test")
        if "tuned" in metrics.get(split, {})
    }
    onnx = detector.info.get("onnx") or {}
    export = {k: onnx[k] for k in ("file", "quantization", "opset") if k in onnx}  # no paths
    return {
        "odio_version": VERSION,
        "backend": detector.backend,
        "runtime": detector.runtime,
        "base_model": described.get("base_model"),
        "members": len(described.get("members") or described.get("bases") or []),
        "labels": detector.labels,
        "thresholds": {
            lab: float(t) for lab, t in zip(detector.labels, detector.thresholds, strict=True)
        },
        "preprocess": described.get("preprocess"),  # none for a stack: per base
        "metric": metric,
        "scores_tuned": scores,
        "decision_rule": detector.decision_rule,
        "onnx": export or None,
        "limits": {"max_texts": settings.max_texts, "max_chars": settings.max_chars},
        "auth": settings.token is not None,
    }


def serve(
    detector: Detector,
    settings: ServeSettings | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    log_level: str = "info",
) -> None:
    """Run the app with uvicorn until interrupted.

    Example:
        >>> serve(Detector.load("runs/tfidf/model"), port=8000)  # doctest: +SKIP
    """
    uvicorn = require("uvicorn", "serve", "odio serve")
    settings = settings or ServeSettings()
    if settings.token is None and not _is_loopback(host):
        log.warning("serving on %s without %s: anyone who can reach it can use it", host, TOKEN_ENV)
    uvicorn.run(create_app(detector, settings), host=host, port=port, log_level=log_level)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
