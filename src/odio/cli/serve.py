"""``odio serve``: an HTTP API around a model. Its limits and batching are the fields of
:class:`~odio.serve.settings.ServeSettings`, each a flag generated from the field and an
environment variable (``ODIO_SERVE_MAX_TEXTS``); the token is ``ODIO_API_TOKEN``."""

from __future__ import annotations

import argparse

from odio.cli import common, flags

SUMMARY = "HTTP API around a model"
DESCRIPTION = (
    "Serve a model over HTTP (FastAPI): POST /v1/predict, /v1/explain, GET /v1/model, "
    "/healthz, /readyz. Concurrent requests are batched into one forward pass. Set "
    "ODIO_API_TOKEN to require 'Authorization: Bearer <token>' on /v1 endpoints. Every limit "
    "is also read from its ODIO_SERVE_<NAME> environment variable; a flag overrides it."
)
EXAMPLES = [
    "odio serve runs/tfidf",
    "ODIO_API_TOKEN=secret odio serve runs/e5/model-onnx-int8 --host 0.0.0.0 --workers 2",
]
SECRET = ("token",)
"""Settings read from the environment only, never flags (a command line is visible to every
user of the machine)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from odio.serve.settings import ServeSettings

    parser.add_argument("model", metavar="MODEL", help=common.MODEL_HELP)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--port", type=common.bounded(int, 1, 65535), default=8000, help="port (1 to 65535)"
    )
    parser.add_argument(
        "--workers",
        type=common.positive,
        default=1,
        help="server processes on the same port, each loading the model and batching its own "
        "requests, with the cores shared among them unless --threads is given",
    )
    common.add_runtime_options(parser)
    common.add_threshold_option(parser)
    flags.add_model_flags(parser, ServeSettings, exclude=SECRET)
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="the server's (uvicorn's) log level",
    )


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    from odio.serve.server import DetectorSpec, serve
    from odio.serve.settings import ServeSettings

    settings = ServeSettings(**flags.model_flags(args, ServeSettings))
    spec = DetectorSpec(
        args.model,
        runtime=common.runtime(args.runtime),
        threads=args.threads,
        thresholds=common.thresholds(args.threshold),
    )
    serve(
        spec,
        settings,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
    )
    return 0
