"""The labelling page and its JSON API, served by the standard library's threading HTTP
server: no web framework is needed to label (``odio label serve`` works on the core install).

Every request opens the project file itself and each vote is one committed transaction
(:mod:`odio.label.project`), so killing the server loses no answer it acknowledged.

The API (JSON; each call names its annotator in the ``X-Odio-Annotator`` header, URL-encoded,
and, when the project is served with a token, carries ``Authorization: Bearer TOKEN``):

- ``GET /api/session``: the labels, the project's kind and the progress;
- ``GET /api/next``: the next tweet for the annotator (``null`` when none is left);
- ``POST /api/vote`` ``{"tweet": ID, "labels": [...], "skip": false}``: answer, then next;
- ``POST /api/undo``: take back the annotator's last answer and serve that tweet again;
- ``GET /api/agreement``: Krippendorff's alpha per label and the most disputed tweets.

A missing token is answered 401, a wrong one 403. The custom header makes a browser ask
before sending a request from another site (a CORS preflight this server never grants), and
on a loopback address a request naming another host is refused (DNS rebinding), so no other
page can vote in an annotator's name.

Example:
    >>> settings = LabelSettings(votes=3)
    >>> settings.host, settings.votes
    ('127.0.0.1', 3)
"""

from __future__ import annotations

import hmac
import json
import logging
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from odio.errors import OdioError
from odio.label.consensus import alphas, disputed
from odio.label.project import Project

log = logging.getLogger(__name__)

TOKEN_ENV = "ODIO_LABEL_TOKEN"
"""The environment variable holding the annotators' shared token (never a flag)."""
STATIC = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/label.js": ("label.js", "text/javascript; charset=utf-8"),
    "/static/label.css": ("label.css", "text/css; charset=utf-8"),
}
"""The page's files (package data in ``odio/label/static``) by path."""
MAX_BODY = 64 * 1024
"""Most bytes in a request body (a vote is a few dozen)."""
DISPUTED = 10
"""Disputed tweets listed by ``/api/agreement``."""
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
"""Sent with every answer: the page runs its own script only and is never framed."""
LOOPBACK = ("127.0.0.1", "localhost", "[::1]", "::1")


class LabelSettings(BaseSettings):
    """Where the labelling page listens and how many votes a tweet needs; each field is an
    ``odio label serve`` flag and an ``ODIO_LABEL_<FIELD>`` variable, the token a variable
    only (:data:`TOKEN_ENV`)."""

    model_config = SettingsConfigDict(
        env_prefix="ODIO_LABEL_", frozen=True, extra="forbid", use_attribute_docstrings=True
    )

    host: str = "127.0.0.1"
    """Address to listen on; 0.0.0.0 opens the page to the network (set a token)."""
    port: int = Field(8765, ge=0, le=65535)
    """Port to listen on (0: any free port)."""
    votes: int = Field(3, ge=1)
    """Votes a tweet needs before it leaves the queue (each annotator votes once on it)."""
    token: str | None = Field(None, min_length=1)
    """The shared token annotators give on the page (from ODIO_LABEL_TOKEN only)."""


def settings(**given: Any) -> LabelSettings:
    """:class:`LabelSettings` from the flags given and the environment, a bad value one
    :class:`~odio.errors.OdioError`."""
    import os

    try:
        values: dict[str, Any] = dict(given)
        if os.environ.get(TOKEN_ENV):
            values["token"] = os.environ[TOKEN_ENV]
        return LabelSettings(**values)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(map(str, error["loc"]))
        raise OdioError(f"label serve setting {where}: {error['msg']}") from None


class ApiError(Exception):
    """An answer other than 200: its status and one line saying why."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


class LabelServer(ThreadingHTTPServer):
    """The HTTP server of one project: its file and settings, read by every handler."""

    daemon_threads = True

    def __init__(self, project: str | Path, config: LabelSettings) -> None:
        Project(project).close()  # a missing or foreign file fails here, not on a click
        self.project = Path(project)
        self.config = config
        super().__init__((config.host, config.port), Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        name = host if isinstance(host, str) else bytes(host).decode()
        return f"http://{'[' + name + ']' if ':' in name else name}:{port}/"


class Handler(BaseHTTPRequestHandler):
    """Static files and the JSON API (see the module's docstring)."""

    server: LabelServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def _answer(self, method: str) -> None:
        path = urllib.parse.urlsplit(self.path).path
        try:
            self._check_host()
            if method == "GET" and path in STATIC:
                name, kind = STATIC[path]
                body = resources.files("odio.label").joinpath("static", name).read_bytes()
                self._send(HTTPStatus.OK, body, kind)
                return
            if not path.startswith("/api/"):
                raise ApiError(HTTPStatus.NOT_FOUND, "not found")
            payload = self._body() if method == "POST" else {}
            self._json(HTTPStatus.OK, self._api(method, path, payload))
        except ApiError as exc:
            self._json(exc.status, {"error": str(exc)})
        except OdioError as exc:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
        except Exception:  # a bug: logged here, one line for the page, the server goes on
            log.exception("%s %s failed", method, path)
            self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "internal error (see log)"})

    def _api(self, method: str, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        self._check_token()
        votes = self.server.config.votes
        project = Project(self.server.project)
        try:
            name = urllib.parse.unquote(self.headers.get("X-Odio-Annotator", ""))
            if not name.strip():
                raise ApiError(HTTPStatus.BAD_REQUEST, "give your name (X-Odio-Annotator)")
            annotator = project.annotator(name)
            route = (method, path)
            if route == ("GET", "/api/session"):
                return {
                    "annotator": name.strip(),
                    "labels": project.labels,
                    "kind": project.kind,
                    "has_probs": project.has_probs,
                    "progress": project.progress(votes),
                }
            if route == ("GET", "/api/agreement"):
                return {"alpha": alphas(project), "disputed": disputed(project, DISPUTED)}
            if route == ("GET", "/api/next"):
                tweet = project.next_tweet(annotator, votes)
            elif route == ("POST", "/api/vote"):
                tweet_id, labels = payload.get("tweet"), payload.get("labels", [])
                if not isinstance(tweet_id, int) or not isinstance(labels, list):
                    raise ApiError(HTTPStatus.BAD_REQUEST, "a vote is {tweet: ID, labels: [...]}")
                if not all(isinstance(label, str) for label in labels):
                    raise ApiError(HTTPStatus.BAD_REQUEST, "labels are names")
                project.vote(annotator, tweet_id, labels, skip=bool(payload.get("skip")))
                tweet = project.next_tweet(annotator, votes)
            elif route == ("POST", "/api/undo"):
                undone = project.undo(annotator)
                tweet = project.tweet(undone) if undone is not None else None
                tweet = tweet or project.next_tweet(annotator, votes)
            else:
                raise ApiError(HTTPStatus.NOT_FOUND, f"no {method} {path}")
            return {
                "tweet": None if tweet is None else tweet.to_json(),
                "progress": project.progress(votes),
            }
        finally:
            project.close()

    def _check_host(self) -> None:
        """On a loopback address, only requests for a loopback host name (DNS rebinding)."""
        if self.server.config.host not in LOOPBACK:
            return
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        if host not in LOOPBACK:
            raise ApiError(HTTPStatus.FORBIDDEN, f"this page is served for 127.0.0.1, not {host}")

    def _check_token(self) -> None:
        token = self.server.config.token
        if token is None:
            return
        given = self.headers.get("Authorization", "")
        if not given.startswith("Bearer "):
            raise ApiError(HTTPStatus.UNAUTHORIZED, "this project needs the annotators' token")
        if not hmac.compare_digest(given[len("Bearer ") :].encode(), token.encode()):
            raise ApiError(HTTPStatus.FORBIDDEN, "wrong token")

    def _body(self) -> dict[str, Any]:
        try:
            size = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            size = -1
        if not 0 <= size <= MAX_BODY:
            self.close_connection = True
            raise ApiError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"at most {MAX_BODY} bytes")
        if "application/json" not in self.headers.get("Content-Type", ""):
            raise ApiError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send application/json")
        try:
            payload = json.loads(self.rfile.read(size) or b"{}")
        except ValueError:
            raise ApiError(HTTPStatus.BAD_REQUEST, "the body is not JSON") from None
        if not isinstance(payload, dict):
            raise ApiError(HTTPStatus.BAD_REQUEST, "the body is a JSON object")
        return payload

    def _json(self, status: HTTPStatus, data: dict[str, Any]) -> None:
        body = json.dumps(data, ensure_ascii=False).encode()
        self._send(status, body, "application/json; charset=utf-8")

    def _send(self, status: HTTPStatus, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def serve(project: str | Path, config: LabelSettings, *, ready: Any = None) -> None:
    """Serve the labelling page of ``project`` until interrupted; ``ready(server)`` is
    called once it listens (tests read its port there)."""
    server = LabelServer(project, config)
    if ready is not None:
        ready(server)
    log.info("labelling %s at %s (Ctrl-C stops)", project, server.url)
    try:
        server.serve_forever()
    finally:
        server.server_close()
