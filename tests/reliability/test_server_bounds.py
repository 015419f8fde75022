"""No request can exhaust the server: a real uvicorn server in a thread, hit over sockets.

The token is checked and the body counted before anything is read or parsed, whatever the
transfer encoding; scoring requests queue up to a bound and are then refused with 503 and
Retry-After; /healthz answers in milliseconds while predictions wait for the model, which
one thread uses at a time.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from odio.cli import main
from odio.inference.detector import Detector
from odio.serve.app import Guard, create_app
from odio.serve.server import bind
from odio.serve.settings import ServeSettings


@contextlib.contextmanager
def running(app) -> Iterator[tuple[str, int]]:
    """``(host, port)`` of ``app`` served by uvicorn in a thread, until the block ends."""
    import uvicorn

    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield "127.0.0.1", port
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


class Slow:
    """Wraps a detector's predict_proba: each call takes ``seconds``; counts calls and the
    most calls ever running at once."""

    def __init__(self, detector: Detector, seconds: float) -> None:
        self.predict, self.seconds = detector.predict_proba, seconds
        self.calls = self.running = self.most = 0
        self.lock = threading.Lock()
        detector.predict_proba = self  # type: ignore[method-assign]

    def __call__(self, texts):
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(self.seconds)
        with self.lock:
            self.running -= 1
            self.calls += 1
        return self.predict(texts)


@pytest.fixture
def detector(tfidf_run) -> Detector:
    return Detector.load(tfidf_run)


def raw(port: int, request: bytes, *, then: bytes = b"", timeout: float = 5.0) -> bytes:
    """Send ``request`` (and ``then``) over a socket; the server's first response, whole."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        if then:
            with contextlib.suppress(OSError):  # the server may close as soon as it refuses
                sock.sendall(then)
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                return answer
            answer += data
        head, _, body = answer.partition(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":")[1])
                for line in head.lower().split(b"\r\n")
                if line.startswith(b"content-length:")
            ),
            0,
        )
        if request.startswith(b"HEAD"):
            return answer
        while len(body) < length:
            data = sock.recv(65536)
            if not data:
                break
            body += data
        return head + b"\r\n\r\n" + body


def test_healthz_stays_fast_while_predictions_queue(detector):
    slow = Slow(detector, 0.03)
    # one request per forward pass, so that predictions keep waiting for a while
    app = create_app(detector, ServeSettings(max_queued=100, max_batch=1))
    with running(app) as (host, port), ThreadPoolExecutor(60) as pool:
        url = f"http://{host}:{port}"

        def predict(_):
            with httpx.Client(timeout=30) as client:
                return client.post(f"{url}/v1/predict", json={"texts": ["hola weon"]}).status_code

        futures = [pool.submit(predict, i) for i in range(60)]
        while slow.calls < 2:
            time.sleep(0.01)
        answered_at = []  # predictions done when each health check was answered
        with httpx.Client(timeout=30) as client:
            while slow.calls < 40 and len(answered_at) < 20:
                assert client.get(f"{url}/healthz").status_code == 200
                answered_at.append(slow.calls)
                time.sleep(0.02)
        assert [f.result() for f in futures] == [200] * 60
    # A health check once queued behind the predictions holding FastAPI's 40 worker threads
    # was answered only after 20 of them; it is answered while they wait.
    assert sum(done < 20 for done in answered_at) >= 3, answered_at
    assert slow.most == 1  # the model is used by one thread at a time


def test_past_the_queue_a_request_is_503_with_retry_after(detector):
    slow = Slow(detector, 0.3)
    app = create_app(detector, ServeSettings(max_queued=2))
    with running(app) as (host, port), ThreadPoolExecutor(8) as pool:
        url = f"http://{host}:{port}"

        def predict(_):
            with httpx.Client(timeout=30) as client:
                return client.post(f"{url}/v1/predict", json={"texts": ["hola"]})

        futures = [pool.submit(predict, i) for i in range(8)]
        while slow.running == 0:
            time.sleep(0.01)
        busy = httpx.get(f"{url}/readyz")
        answers = [f.result() for f in futures]
        assert httpx.get(f"{url}/readyz").json() == {"status": "ready"}
    statuses = Counter(r.status_code for r in answers)
    assert statuses[200] >= 3 and statuses[503] >= 1 and set(statuses) == {200, 503}
    refused = next(r for r in answers if r.status_code == 503)
    assert refused.headers["retry-after"] == "1" and "busy" in refused.json()["detail"]
    assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
    assert slow.most == 1


def test_by_default_64_clients_each_with_a_request_in_flight_are_never_refused(detector):
    slow = Slow(detector, 0.05)
    with running(create_app(detector)) as (host, port), ThreadPoolExecutor(64) as pool:
        url = f"http://{host}:{port}"

        def predict(_):
            with httpx.Client(timeout=30) as client:
                return client.post(f"{url}/v1/predict", json={"texts": ["hola"]}).status_code

        assert list(pool.map(predict, range(64))) == [200] * 64
    assert slow.most == 1


def test_the_token_is_checked_before_the_body_is_read(detector):
    app = create_app(detector, ServeSettings(token="s3cret-token"))
    head = b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    with running(app) as (_, port):
        # 300 MB announced and none sent: the answer comes without waiting for it
        answer = raw(port, head + b"Content-Length: 300000000\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 401") and b"bearer token" in answer
        chunked = head + b"Transfer-Encoding: chunked\r\n\r\n"
        answer = raw(port, chunked, then=b"1000\r\n" + b"x" * 4096 + b"\r\n")
        assert answer.startswith(b"HTTP/1.1 401")
        wrong = head + b"Authorization: Bearer nope\r\nContent-Length: 300000000\r\n\r\n"
        assert raw(port, wrong).startswith(b"HTTP/1.1 401")
        good = head.replace(b"Host: x\r\n", b"Host: x\r\nAuthorization: Bearer s3cret-token\r\n")
        body = b'{"texts": ["hola"]}'
        answer = raw(port, good + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        assert answer.startswith(b"HTTP/1.1 200")


def test_a_chunked_body_is_counted_and_refused_past_the_limit(detector):
    settings = ServeSettings(max_texts=2, max_chars=10)
    head = b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    chunk = b"1000\r\n" + b"x" * 4096 + b"\r\n"
    with running(create_app(detector, settings)) as (_, port):
        answer = raw(port, head + b"Transfer-Encoding: chunked\r\n\r\n", then=chunk * 4)
        assert answer.startswith(b"HTTP/1.1 413")  # was read to the end, then parsed
        assert str(settings.max_body_bytes).encode() in answer
        declared = head + b"Content-Length: 1000000000\r\n\r\n"
        assert raw(port, declared).startswith(b"HTTP/1.1 413")  # refused before any byte
        small = b'{"texts": ["hola"]}'
        answer = raw(
            port,
            head + b"Transfer-Encoding: chunked\r\n\r\n",
            then=b"%x\r\n%s\r\n0\r\n\r\n" % (len(small), small),
        )
        assert answer.startswith(b"HTTP/1.1 200")  # a chunked body within the limit is fine


@pytest.mark.anyio
async def test_the_guard_reads_no_further_than_the_limit():
    """At the ASGI level: how many chunks are pulled from the client before the 413."""
    settings = ServeSettings(max_texts=1, max_chars=10)  # 4,280 bytes
    pulled, sent = [], []

    async def receive():
        pulled.append(1)
        return {"type": "http.request", "body": b"x" * 1000, "more_body": True}

    async def send(message):
        sent.append(message)

    async def app(scope, receive, send):  # pragma: no cover - never reached
        raise AssertionError("the app saw an oversized body")

    from odio.serve.app import Admission

    guard = Guard(app, settings, {"/v1/predict": Admission(settings.max_queued)})
    scope = {"type": "http", "method": "POST", "path": "/v1/predict", "headers": []}
    await guard(scope, receive, send)
    assert sent[0]["status"] == 413 and len(pulled) == 5  # 5,000 bytes > 4,280, then stop
    pulled.clear()
    token = ServeSettings(token="t0ken")
    await Guard(app, token, {})(scope, receive, send)
    assert sent[-2]["status"] == 401 and pulled == []  # not one byte read without the token


def test_head_healthz_on_a_real_server(detector):
    with running(create_app(detector)) as (_, port):
        answer = raw(port, b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"\r\n\r\n")


def test_a_port_in_use_is_one_line_and_the_server_never_starts(tfidf_run, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", str(tfidf_run), "--port", str(port)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"error: cannot listen on 127.0.0.1:{port}: Address already in use"
    assert not any("startup complete" in line.lower() for line in err)


def until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends on ``sock`` until it closes the connection."""
    answer = b""
    while data := sock.recv(65536):
        answer += data
    return answer


def test_uploads_that_never_finish_hold_no_slot_and_get_408(detector):
    settings = ServeSettings(max_queued=1, read_timeout=2)
    head = b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    with running(create_app(detector, settings)) as (host, port):
        url = f"http://{host}:{port}"
        stalled = [socket.create_connection((host, port), timeout=20) for _ in range(5)]
        try:
            for sock in stalled:  # 10 bytes announced, 4 sent, then nothing
                sock.sendall(head + b'Content-Length: 10\r\n\r\n{"te')
            time.sleep(0.3)  # the server has read their headers
            # five stalled uploads held every slot of max_queued 1 (and 65 the default 64)
            assert httpx.get(f"{url}/readyz").json() == {"status": "ready"}
            answer = httpx.post(f"{url}/v1/predict", json={"texts": ["hola"]}, timeout=20)
            assert answer.status_code == 200
            for sock in stalled:  # each is answered 408 within the read timeout, and closed
                reply = until_closed(sock)
                assert reply.startswith(b"HTTP/1.1 408"), reply
                assert b"did not arrive within 2 s" in reply
        finally:
            for sock in stalled:
                sock.close()
        assert httpx.get(f"{url}/readyz").json() == {"status": "ready"}


def test_a_body_to_any_other_path_is_refused_early_and_needs_the_token(detector):
    settings = ServeSettings(token="s3cret-token")
    auth = b"Authorization: Bearer s3cret-token\r\n"
    paths = [b"/healthz", b"/readyz", b"/v1/model", b"/nowhere"]
    with running(create_app(detector, settings)) as (_, port), ThreadPoolExecutor(40) as pool:

        def stalled_upload(i: int) -> bytes:  # 15 MB announced, 64 KB sent, then nothing
            head = b"POST %s HTTP/1.1\r\nHost: x\r\n%sContent-Length: 15000000\r\n\r\n"
            return raw(port, head % (paths[i % 4], auth), then=b"x" * 65536, timeout=10)

        # 40 such uploads to paths that take no body were read whole (219 MB -> 911 MB)
        answers = list(pool.map(stalled_upload, range(40)))
        assert all(a.startswith(b"HTTP/1.1 413") for a in answers), answers[0]
        assert b"request body over 1024 bytes" in answers[0]
        # a chunked body is counted: refused once it passes the small limit
        chunked = b"POST /nowhere HTTP/1.1\r\nHost: x\r\n%sTransfer-Encoding: chunked\r\n\r\n"
        answer = raw(port, chunked % auth, then=b"800\r\n" + b"x" * 2048 + b"\r\n", timeout=10)
        assert answer.startswith(b"HTTP/1.1 413")
        # without the token, any path but the probes is refused before its body is read
        for path in (b"/nowhere", b"/v1/model"):
            head = b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 15000000\r\n\r\n" % path
            assert raw(port, head, timeout=10).startswith(b"HTTP/1.1 401")
        assert raw(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 200")


def test_bodies_being_read_take_at_most_one_full_body_per_slot(detector):
    # 4,280-byte bodies, one slot per lane: at most 8,560 bytes of bodies at once
    settings = ServeSettings(max_texts=1, max_chars=10, max_queued=0, max_explain_queued=0)
    head = b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 4000\r\n\r\n"
    with running(create_app(detector, settings)) as (host, port):
        url = f"http://{host}:{port}"
        stalled = [socket.create_connection((host, port), timeout=20) for _ in range(2)]
        try:
            for sock in stalled:  # 3,000 of 4,000 bytes each, then nothing
                sock.sendall(head + b"x" * 3000)
            time.sleep(0.3)  # the server has read them
            answer = raw(port, head, then=b"x" * 3000, timeout=10)
            assert answer.startswith(b"HTTP/1.1 503") and b"retry-after: 1" in answer.lower()
        finally:
            for sock in stalled:
                sock.close()
        time.sleep(0.3)  # the server has seen them go
        assert httpx.post(f"{url}/v1/predict", json={"texts": ["hola"]}).status_code == 200
