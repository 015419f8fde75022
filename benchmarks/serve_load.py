"""Load test of ``odio serve`` on loopback: concurrent clients, single-tweet requests.

Starts ``odio serve MODEL`` on 127.0.0.1 (a free port, a bearer token), waits for
``/healthz``, then runs ``--clients`` threads that each send one test tweet per
``POST /v1/predict`` until ``--seconds`` have passed (at most ``--max-requests`` in all),
and stops the server. Prints p50/p99 latency, requests/s and the error count.

Without ``--model`` it first trains a TF-IDF model on the Datathon training tweets
(``odio train tweets_train.csv --model tfidf``). Traffic goes to 127.0.0.1 only.

    python benchmarks/serve_load.py                      # TF-IDF, 8 clients, 30 s
    python benchmarks/serve_load.py --model runs/tiny-int8 --seconds 30
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "datathon2022"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, server: subprocess.Popen, timeout: float = 300.0) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with status {server.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return time.perf_counter() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the server did not answer /healthz within {timeout:.0f}s")


def client_loop(
    url: str,
    token: str,
    texts: list[str],
    offset: int,
    deadline: float,
    budget: list[int],
    out: dict,
) -> None:
    """Send single-tweet requests until the deadline or the shared request budget is spent."""
    headers = {"Authorization": f"Bearer {token}"}
    latencies, errors = [], 0
    lock = out["lock"]
    with httpx.Client(base_url=url, headers=headers, timeout=30.0) as http:
        i = 0
        while time.perf_counter() < deadline:
            with lock:
                if budget[0] <= 0:
                    break
                budget[0] -= 1
            text = texts[(offset + i) % len(texts)]
            i += 1
            start = time.perf_counter()
            try:
                ok = http.post("/v1/predict", json={"texts": [text]}).status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - start)
            errors += not ok
    with lock:
        out["latencies"].extend(latencies)
        out["errors"] += errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model directory (default: train TF-IDF first)")
    parser.add_argument("--train", default=str(DATA / "tweets_train.csv"))
    parser.add_argument("--test", default=str(DATA / "tweets_test.csv"))
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--threads", type=int, help="inference threads of the server")
    args = parser.parse_args()

    model = args.model
    if model is None:
        model = str(Path(tempfile.mkdtemp(prefix="odio-serve-")) / "tfidf")
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "odio.cli", "train", args.train]
            + ["--model", "tfidf", "--out", model, "-q"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        print(f"trained TF-IDF on {args.train} in {time.perf_counter() - start:.0f}s: {model}")
    texts = pd.read_csv(args.test)["text"].tolist()
    port, token = free_port(), secrets.token_urlsafe(16)
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "odio.cli", "serve", model, "--host", "127.0.0.1"]
    command += ["--port", str(port), "--log-level", "warning"]
    if args.threads:
        command += ["--threads", str(args.threads)]
    server = subprocess.Popen(command, env={**os.environ, "ODIO_API_TOKEN": token})
    try:
        print(f"server up in {wait_until_up(url, server):.1f}s: {model}")
        info = httpx.get(f"{url}/v1/model", headers={"Authorization": f"Bearer {token}"}).json()
        assert httpx.post(f"{url}/v1/predict", json={"texts": ["hola"]}).status_code == 401
        results = {"latencies": [], "errors": 0, "lock": threading.Lock()}
        budget = [args.max_requests]
        deadline = time.perf_counter() + args.seconds
        threads = [
            threading.Thread(
                target=client_loop,
                args=(url, token, texts, c * 997, deadline, budget, results),
            )
            for c in range(args.clients)
        ]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - start
    finally:
        server.terminate()
        server.wait(timeout=30)
    latencies = np.array(results["latencies"]) * 1000
    print(
        f"model: {info['backend']} ({info['runtime']}, {info['members']} members); "
        f"{args.clients} clients x {args.seconds:.0f}s on 127.0.0.1; cpu count {os.cpu_count()}; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print("| requests | requests/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|")
    print(
        f"| {len(latencies)} | {len(latencies) / elapsed:.1f} | "
        f"{np.percentile(latencies, 50):.1f} | {np.percentile(latencies, 99):.1f} | "
        f"{results['errors']} |"
    )


if __name__ == "__main__":
    main()
