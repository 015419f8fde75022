"""Fixtures of the labelling tests: a small file of tweets with ids and context, a project
made from it, and a page served from a thread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from label_data import TWEETS

from odio.label.web import LabelServer, LabelSettings


@pytest.fixture
def tweets_file(tmp_path) -> Path:
    path = tmp_path / "tweets.csv"
    frame = pd.DataFrame(TWEETS, columns=["id", "text", "context"])
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def project_file(tmp_path, tweets_file) -> Path:
    from odio.label.create import init_project

    path = tmp_path / "project.db"
    init_project(path, tweets_file).close()
    return path


class Served:
    """A project's page served from a thread of this process."""

    def __init__(self, project: Path, **settings) -> None:
        self.server = LabelServer(project, LabelSettings(port=0, **settings))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = self.server.url

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def serve() -> Iterator:
    """``serve(project, **settings)``: the page of a project, stopped after the test."""
    started: list[Served] = []

    def start(project: Path, **settings) -> Served:
        started.append(Served(project, **settings))
        return started[-1]

    yield start
    for served in started:
        served.close()
