"""Running the app: the CLI's settings, worker processes and what each of them loads."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from odio.cli import main
from odio.errors import OdioError
from odio.inference.detector import Detector
from odio.serve.server import WORKER_ENV, DetectorSpec, serve, worker_app
from odio.serve.settings import ServeSettings


def test_cli_serve_passes_the_model_and_settings(tfidf_run, monkeypatch):
    seen = {}

    def fake_serve(model, settings, *, host, port, workers, log_level):
        seen.update(model=model, settings=settings, host=host, port=port, workers=workers)

    monkeypatch.setattr("odio.serve.server.serve", fake_serve)
    monkeypatch.setenv("ODIO_API_TOKEN", "t0ken")
    flags = ["--port", "8123", "--max-texts", "10", "--max-batch", "8", "--max-wait-ms", "0"]
    flags += ["--workers", "3", "--threshold", "Odio=0.7", "--runtime", "onnx"]
    flags += ["--read-timeout", "2.5", "--max-explain-queued", "0"]
    assert main(["serve", str(tfidf_run), *flags]) == 0
    assert seen["host"] == "127.0.0.1" and seen["port"] == 8123 and seen["workers"] == 3
    settings = seen["settings"]
    assert settings.token == "t0ken" and settings.max_texts == 10
    assert (settings.max_batch, settings.max_wait_ms) == (8, 0)
    assert (settings.read_timeout, settings.max_explain_queued) == (2.5, 0)
    spec = seen["model"]
    assert spec == DetectorSpec(str(tfidf_run), runtime="onnx", thresholds={"Odio": 0.7})


def test_workers_share_the_cores_unless_threads_are_set(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    spec = DetectorSpec("m")
    assert spec.for_workers(1).threads is None  # one process keeps the default: every core
    assert spec.for_workers(2).threads == 4 and spec.for_workers(3).threads == 2
    assert spec.for_workers(16).threads == 1
    assert DetectorSpec("m", threads=3).for_workers(2).threads == 3


def test_a_spec_loads_its_thresholds(tfidf_run):
    detector = DetectorSpec(str(tfidf_run), thresholds={"Odio": 0.7}).load()
    assert detector.thresholds[detector.labels.index("Odio")] == 0.7
    with pytest.raises(OdioError, match="unknown label 'odio'"):
        DetectorSpec(str(tfidf_run), thresholds={"odio": 0.7}).load()


def test_several_workers_need_a_spec_they_can_load(tfidf_run):
    with pytest.raises(OdioError, match="give a DetectorSpec, not a Detector"):
        serve(Detector.load(tfidf_run), workers=2)
    with pytest.raises(OdioError, match="workers must be >= 1"):
        serve(DetectorSpec(str(tfidf_run)), workers=0)


def test_a_worker_app_loads_what_serve_left_in_the_environment(tfidf_run, monkeypatch):
    monkeypatch.delenv(WORKER_ENV, raising=False)
    with pytest.raises(OdioError, match=f"{WORKER_ENV} is not set"):
        worker_app()
    given = {
        "model": {"model": str(tfidf_run), "runtime": None, "threads": 1, "thresholds": {}},
        "settings": {**ServeSettings(max_batch=4).model_dump(), "token": "t0ken"},
    }
    monkeypatch.setenv(WORKER_ENV, json.dumps(given))
    with TestClient(worker_app()) as client:
        headers = {"Authorization": "Bearer t0ken"}
        assert client.get("/v1/model", headers=headers).json()["limits"]["max_batch"] == 4
        answer = client.post("/v1/predict", json={"texts": ["hola"]}, headers=headers)
        assert answer.status_code == 200


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.cluster
def test_odio_serve_with_two_workers_answers(tfidf_run, tmp_path):
    port = free_port()
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "odio.cli", "serve", str(tfidf_run), "--port", str(port)]
    with log.open("w") as out:
        server = subprocess.Popen([*command, "--workers", "2"], stdout=out, stderr=out)
    try:
        url, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 60
        while log.read_text().count("Application startup complete") < 2:  # one per worker
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
        with httpx.Client(base_url=url) as client:
            for _ in range(4):
                answer = client.post("/v1/predict", json={"texts": ["ándate a tu país"]})
                assert answer.status_code == 200
                assert len(answer.json()["predictions"]) == 1
    finally:
        server.terminate()
        assert server.wait(30) == 0
    text = log.read_text()
    assert text.count("Application startup complete") == 2 and "2 workers" in text


@pytest.mark.parametrize("port", ["99999", "65536", "0", "-1"])
def test_a_port_outside_1_to_65535_is_one_error_line_before_anything_starts(
    tfidf_run, port, monkeypatch, capsys
):
    started = []
    monkeypatch.setattr("odio.serve.server.serve", lambda *a, **k: started.append(1))
    with pytest.raises(SystemExit) as exit_:
        main(["serve", str(tfidf_run), f"--port={port}"])
    assert exit_.value.code == 2 and started == []  # 99999 was served on 99999 - 65536
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].endswith(f"argument --port: expected a whole number in [1, 65535], got '{port}'")
    with pytest.raises(OdioError, match="a port is 0 to 65535"):
        serve(DetectorSpec(str(tfidf_run)), port=99999)  # from Python too
