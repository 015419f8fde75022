"""A server killed outright (SIGKILL) while annotators label loses no vote it answered: each
vote is committed before its answer is sent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from label_data import call

from odio.label.project import Project, Tweet

ANNOTATORS = ("ana", "bea", "cami")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_killed_server_loses_no_answered_vote(tmp_path):
    db = tmp_path / "kill.db"
    tweets = [Tweet(i, f"tweet número {i}") for i in range(400)]
    Project.create(db, tweets, labels=["Odio", "Mujeres"]).close()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "odio.cli", "label", "serve", str(db), "--port", "0"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        line = server.stdout.readline().decode()
        url = line.split(" at ")[1].split()[0]
        answered: list[tuple[int, str, list[str]]] = []
        lock = threading.Lock()

        def label(name: str) -> None:
            try:
                tweet = call(url, "/api/next", name=name)[1]["tweet"]
                while tweet is not None:
                    labels = ["Odio"] if tweet["id"] % 3 == 0 else []
                    status, answer = call(
                        url, "/api/vote", {"tweet": tweet["id"], "labels": labels}, name=name
                    )
                    if status != 200:
                        return
                    with lock:
                        answered.append((tweet["id"], name, labels))
                    tweet = answer["tweet"]
            except OSError:  # the server is gone
                return

        workers = [threading.Thread(target=label, args=(n,)) for n in ANNOTATORS]
        for worker in workers:
            worker.start()
        deadline = time.monotonic() + 120
        while len(answered) < 30 and time.monotonic() < deadline:
            time.sleep(0.01)
        server.send_signal(signal.SIGKILL)  # while the annotators are still sending
        server.wait(timeout=30)
        for worker in workers:
            worker.join(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
        server.stdout.close()
        server.stderr.close()
    assert server.returncode == -signal.SIGKILL
    assert len(answered) >= 30
    project = Project(db)
    assert project.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    kept = set((t, name, tuple(labels)) for t, name, labels in project.votes())
    lost = [v for v in answered if (v[0], v[1], tuple(v[2])) not in kept]
    assert lost == []
