"""Running the app: uvicorn in this process, or several worker processes on one socket.

:func:`serve` loads the model once (so a bad model is one clear error before anything
starts), binds the address itself (so an address in use is one too), and runs the app of
:mod:`odio.serve.app` with uvicorn. With ``workers`` > 1, uvicorn's own supervisor
(:class:`uvicorn.supervisors.Multiprocess`) starts that many processes sharing the socket and
restarts one that dies; each loads the model from a :class:`DetectorSpec` (through
:func:`worker_app`, uvicorn's app factory) and batches its own requests, with its share of
the cores. Every bound of :class:`~odio.serve.settings.ServeSettings` holds per worker.

Requires the ``serve`` extra (FastAPI, uvicorn).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import logging
import os
import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from odio.errors import OdioError
from odio.extras import require
from odio.inference.detector import Detector
from odio.serve.app import create_app
from odio.serve.settings import TOKEN_ENV, ServeSettings

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger(__name__)

WORKER_ENV = "ODIO_SERVE_WORKER"
"""The environment variable through which :func:`serve` tells each worker process what to
load (JSON: a :class:`DetectorSpec` and the settings)."""


@dataclass(frozen=True)
class DetectorSpec:
    """How to load the served Detector: what each worker process loads for itself.

    Example:
        >>> spec = DetectorSpec("runs/tfidf/model", thresholds={"Odio": 0.7})
        >>> spec.load().thresholds[0]  # doctest: +SKIP
        0.7
    """

    model: str
    """Model directory, run directory or ``hf:ID`` (see :meth:`Detector.load`)."""
    runtime: str | None = None
    """``torch`` or ``onnx`` for a transformer model; ``None`` picks ONNX when exported."""
    threads: int | None = None
    """CPU threads for inference; ``None`` keeps the default (all cores), and gives each of
    several workers an equal share."""
    thresholds: dict[str, float] = field(default_factory=dict)
    """Decision thresholds to use instead of the tuned ones, by label."""

    def load(self) -> Detector:
        """The Detector this spec describes."""
        detector = Detector.load(self.model, runtime=self.runtime, threads=self.threads)
        return detector.with_thresholds(self.thresholds)

    def for_workers(self, workers: int) -> DetectorSpec:
        """This spec with the cores shared among ``workers`` processes, unless its
        ``threads`` are set.

        >>> DetectorSpec("m", threads=3).for_workers(2).threads
        3
        """
        if self.threads or workers == 1:
            return self
        return dataclasses.replace(self, threads=max(1, (os.cpu_count() or 1) // workers))


def serve(
    model: Detector | DetectorSpec,
    settings: ServeSettings | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    log_level: str = "info",
) -> None:
    """Serve a model over HTTP with uvicorn until interrupted.

    Args:
        model: a loaded Detector, served by this process; or a :class:`DetectorSpec`,
            loaded here (a bad model fails before anything starts) and, with several
            workers, by each of them.
        settings: limits, batching and token (``ServeSettings()`` by default).
        host: address to listen on.
        port: port to listen on.
        workers: processes serving requests on the same socket (a DetectorSpec is needed
            for more than one).
        log_level: uvicorn's log level.

    Example:
        >>> serve(DetectorSpec("runs/tfidf/model"), workers=2, port=8000)  # doctest: +SKIP
    """
    require("uvicorn", "serve", "odio serve")
    settings = settings or ServeSettings()
    if workers < 1:
        raise OdioError(f"workers must be >= 1, got {workers}")
    if isinstance(model, DetectorSpec):
        detector = model.load()  # with several workers too: a bad model fails once, here
    elif workers == 1:
        detector = model
    else:
        raise OdioError("several workers load the model each: give a DetectorSpec, not a Detector")
    log.info(
        "serving %s (%s, %s runtime) on http://%s:%d, %d worker%s%s",
        model.model if isinstance(model, DetectorSpec) else "a model",
        detector.backend,
        detector.runtime,
        host,
        port,
        workers,
        "s" if workers > 1 else "",
        ", with a bearer token" if settings.token else "",
    )
    if settings.token is None and not _is_loopback(host):
        log.warning("serving on %s without %s: anyone who can reach it can use it", host, TOKEN_ENV)
    sock = bind(host, port)
    try:
        if isinstance(model, DetectorSpec) and workers > 1:
            del detector  # each worker loads its own
            _run_workers(model.for_workers(workers), settings, sock, workers, log_level)
        else:
            _run(create_app(detector, settings), sock, log_level)
    finally:
        sock.close()


def _run(app: FastAPI, sock: socket.socket, log_level: str) -> None:
    """Serve ``app`` on ``sock`` in this process until interrupted."""
    import uvicorn

    host, port = sock.getsockname()[:2]
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level=log_level))
    server.run(sockets=[sock])
    if not server.started:
        raise OdioError(f"the server on {host}:{port} did not start (see the log above)")


def _run_workers(
    spec: DetectorSpec, settings: ServeSettings, sock: socket.socket, workers: int, log_level: str
) -> None:
    """Serve :func:`worker_app` on ``sock`` in ``workers`` processes until interrupted."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(
        f"{__name__}:worker_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
    )
    given = {"model": dataclasses.asdict(spec), "settings": settings.model_dump()}
    os.environ[WORKER_ENV] = json.dumps(given)  # the workers start with this environment
    try:
        Multiprocess(config, sockets=[sock]).run()
    finally:
        del os.environ[WORKER_ENV]


def worker_app() -> FastAPI:
    """The app of one worker process: uvicorn's app factory (``odio.serve.server:worker_app``),
    loading what :func:`serve` put in ``ODIO_SERVE_WORKER``."""
    given = os.environ.get(WORKER_ENV)
    if given is None:
        raise OdioError(f"{WORKER_ENV} is not set: worker_app runs in workers started by serve()")
    values = json.loads(given)
    spec = DetectorSpec(**values["model"])
    return create_app(spec.load(), ServeSettings(**values["settings"]))


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (as uvicorn binds), or an OdioError saying why not.

    >>> bind("127.0.0.1", 0).close()
    >>> bind("127.0.0.1", 99999)
    Traceback (most recent call last):
    ...
    odio.errors.OdioError: cannot listen on 127.0.0.1:99999: a port is 0 to 65535 (0: any free one)
    """
    if not 0 <= port <= 65535:  # getaddrinfo takes 99999 and listens on 99999 - 65536
        raise OdioError(f"cannot listen on {host}:{port}: a port is 0 to 65535 (0: any free one)")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise OdioError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise OdioError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
