"""Load test of ``odio serve`` on loopback: concurrent clients sending single tweets.

For each server configuration, starts ``odio serve MODEL`` on 127.0.0.1 (a free port, a
bearer token), waits for ``/healthz`` and for its workers, then runs ``--clients`` clients,
each with one keep-alive connection sending one test tweet per ``POST /v1/predict`` and the
next as soon as the answer arrives: ``--warmup`` seconds not counted, then ``--seconds``
measured (requests answered in that window). Prints one table: requests, requests/s, p50
and p99 latency and errors (any answer but 200, or a broken connection) per configuration,
the ratio of requests/s to the one-at-a-time server, the load average before and after, and
the command.

Configurations: the server as it is (batching on: ``--max-batch``, ``--max-wait-ms``); with
``--vs-unbatched``, also ``--max-batch 1`` (one request per forward pass, the server before
batching); with ``--workers N``, also the batching server with N processes. With
``--rounds R`` the configurations alternate R times (A B C A B C), so that the machine's
other load hits each alike, and their figures are pooled.

The clients are plain asyncio streams in this one process (a prepared request, a parsed
status line and Content-Length), so that the load generator costs little CPU next to the
server; its CPU time per request is printed too.

Without ``--model`` it first trains a TF-IDF model on the Datathon training tweets
(``odio train tweets_train.csv --model tfidf``). Traffic goes to 127.0.0.1 only.

    python benchmarks/serve_load.py --vs-unbatched --workers 2     # TF-IDF, 32 clients, 30 s
    python benchmarks/serve_load.py --model runs/e5/model-int8 --vs-unbatched --threads 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "datathon2022"


@dataclass
class Tally:
    """What one configuration's measured windows gave."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    sent: int = 0
    """Requests sent, warm-up included."""
    client_cpu: float = 0.0
    """CPU seconds of the load generator, warm-up included."""

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != 200)


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


def requests_for(texts: list[str], port: int, token: str) -> list[bytes]:
    """One prepared ``POST /v1/predict`` per tweet, whole (head and body)."""
    out = []
    for text in texts:
        body = json.dumps({"texts": [text]}).encode()
        head = (
            f"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        out.append(head.encode() + body)
    return out


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    """Send ``request``, read the whole answer; its status."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = next(
        (int(line.split(b":")[1]) for line in lines if line.lower().startswith(b"content-length:")),
        0,
    )
    await reader.readexactly(length)
    return int(lines[0].split()[1])


async def client(
    port: int, requests: list[bytes], offset: int, window: tuple[float, float], tally: Tally
) -> None:
    """Send requests one after the other until the window closes; tally those answered in
    it."""
    opened, close = window
    connection = None
    i = offset
    while time.perf_counter() < close:
        start = time.perf_counter()
        try:
            if connection is None:
                connection = await asyncio.open_connection("127.0.0.1", port)
            status = await exchange(*connection, requests[i % len(requests)])
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            status, connection = 0, None  # a broken connection: an error, then a new one
        end = time.perf_counter()
        i += 1
        tally.sent += 1
        if opened <= end <= close:
            tally.latencies.append(end - start)
            tally.statuses[status] += 1
    if connection is not None:
        connection[1].close()


async def load(port: int, requests: list[bytes], clients: int, warmup: float, seconds: float):
    """``clients`` clients, staggered by 20 ms (so that several workers share the
    connections), measured for ``seconds`` after ``warmup``."""
    tally = Tally(seconds=seconds)
    opened = time.perf_counter() + warmup
    window = (opened, opened + seconds)
    cpu = time.process_time()
    tasks = []
    for c in range(clients):
        tasks.append(asyncio.create_task(client(port, requests, c * 997, window, tally)))
        await asyncio.sleep(0.02)
    await asyncio.gather(*tasks)
    tally.client_cpu = time.process_time() - cpu
    return tally


def run_server(model: str, flags: list[str], workers: int, args, texts, tally: Tally) -> dict:
    """Start ``odio serve`` with ``flags``, load it, stop it; its /v1/model answer."""
    port, token = free_port(), secrets.token_urlsafe(16)
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "odio.cli", "serve", model, "--host", "127.0.0.1"]
    command += ["--port", str(port), "--log-level", "warning", *flags]
    if args.threads:
        command += ["--threads", str(args.threads)]
    server = subprocess.Popen(command, env={**os.environ, "ODIO_API_TOKEN": token})
    try:
        up = wait_until_up(url, server)
        # /healthz answers once one worker is up; the others load the model alongside it
        time.sleep(up if workers > 1 else 0.0)
        info = httpx.get(f"{url}/v1/model", headers={"Authorization": f"Bearer {token}"}).json()
        assert httpx.post(f"{url}/v1/predict", json={"texts": ["hola"]}).status_code == 401
        requests = requests_for(texts, port, token)
        got = asyncio.run(load(port, requests, args.clients, args.warmup, args.seconds))
    finally:
        server.terminate()
        server.wait(timeout=60)
    tally.latencies += got.latencies
    tally.statuses += got.statuses
    tally.seconds += got.seconds
    tally.sent += got.sent
    tally.client_cpu += got.client_cpu
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model directory (default: train TF-IDF first)")
    parser.add_argument("--train", default=str(DATA / "tweets_train.csv"))
    parser.add_argument("--test", default=str(DATA / "tweets_test.csv"))
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30.0, help="measured, per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of load not counted")
    parser.add_argument("--rounds", type=int, default=1, help="alternations of the configs")
    parser.add_argument("--threads", type=int, help="inference threads of the server")
    parser.add_argument("--max-batch", type=int, help="of the batching server (default: its)")
    parser.add_argument("--max-wait-ms", type=int, help="of the batching server (default: its)")
    parser.add_argument("--vs-unbatched", action="store_true", help="also serve with --max-batch 1")
    parser.add_argument(
        "--workers", type=int, default=1, help="also the batching server with N processes"
    )
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

    batching = []
    if args.max_batch is not None:
        batching += ["--max-batch", str(args.max_batch)]
    if args.max_wait_ms is not None:
        batching += ["--max-wait-ms", str(args.max_wait_ms)]
    configs: dict[str, tuple[list[str], int]] = {}
    if args.vs_unbatched:
        configs["one at a time (--max-batch 1)"] = (["--max-batch", "1"], 1)
    configs[f"batched ({' '.join(batching) or 'defaults'})"] = (batching, 1)
    if args.workers > 1:
        label = f"batched, --workers {args.workers}"
        configs[label] = ([*batching, "--workers", str(args.workers)], args.workers)

    load_before = os.getloadavg()
    tallies = {name: Tally() for name in configs}
    info: dict = {}
    for round_ in range(args.rounds):
        for name, (flags, workers) in configs.items():
            info = run_server(model, flags, workers, args, texts, tallies[name])
            print(f"round {round_ + 1}/{args.rounds}, {name}: done", flush=True)
    load_after = os.getloadavg()

    print(
        f"\nmodel: {info['backend']} ({info['runtime']}, {info['members']} members), "
        f"server defaults max_batch {info['limits']['max_batch']}, max_wait_ms "
        f"{info['limits']['max_wait_ms']}; {args.clients} clients, single tweets over "
        f"127.0.0.1, {args.seconds:.0f}s measured per run after {args.warmup:.0f}s of warm-up, "
        f"{args.rounds} round(s); cpu count {os.cpu_count()}"
    )
    print(
        "load average (1, 5, 15 min): before "
        + ", ".join(f"{x:.2f}" for x in load_before)
        + "; after "
        + ", ".join(f"{x:.2f}" for x in load_after)
    )
    base = next(iter(tallies.values()))
    base_rate = len(base.latencies) / base.seconds if args.vs_unbatched else None
    print(
        "\n| server | requests | requests/s | p50 ms | p99 ms | errors | requests/s vs one at a"
        " time |\n|---|---|---|---|---|---|---|"
    )
    for name, tally in tallies.items():
        ms = np.array(tally.latencies) * 1000
        rate = len(ms) / tally.seconds
        ratio = f"{rate / base_rate:.1f}x" if base_rate else "-"
        p50, p99 = (np.percentile(ms, q) if len(ms) else float("nan") for q in (50, 99))
        print(
            f"| {name} | {len(ms)} | {rate:.1f} | {p50:.1f} | {p99:.1f} | {tally.errors} "
            f"| {ratio} |"
        )
    for name, tally in tallies.items():
        if tally.errors:
            print(f"{name}: answers {dict(tally.statuses)} (0: a broken connection)")
    cpu = sum(t.client_cpu for t in tallies.values())
    sent = sum(t.sent for t in tallies.values())
    print(f"\nload generator CPU: {cpu / max(sent, 1) * 1000:.3f} ms per request")
    print(f"command: python {shlex.join(sys.argv)}")


if __name__ == "__main__":
    main()
