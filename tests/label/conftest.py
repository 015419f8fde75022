"""Fixtures of the labelling tests: a small file of tweets with ids and context, a project
made from it, and a page served from a thread.

``odio.label.strategies``, ``agreement`` and ``review`` are written on another branch; until
they are merged, trivial stand-ins (file order, observed agreement, the first rows) are put
in ``sys.modules`` here, for these tests only; the shipped code imports the real ones.
"""

from __future__ import annotations

import importlib
import sys
import threading
import types
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from label_data import TWEETS

import odio.label
from odio.label.web import LabelServer, LabelSettings


def _stand_ins() -> None:
    """Register a stand-in for each missing sibling module (see the module's docstring)."""

    def strategies() -> types.ModuleType:
        module = types.ModuleType("odio.label.strategies")
        module.STRATEGIES = ("random", "uncertainty", "committee", "diverse")  # type: ignore[attr-defined]

        def rank(strategy, member_probs, thresholds, *, seed=0, texts=None, k=None):
            n = len(texts) if member_probs is None else member_probs.shape[1]
            if strategy == "random":
                return np.random.default_rng(seed).permutation(n)
            margin = np.abs(member_probs.mean(axis=0)[:, 0] - thresholds[0])
            return np.argsort(margin, kind="stable")

        module.rank = rank  # type: ignore[attr-defined]
        return module

    def agreement() -> types.ModuleType:
        module = types.ModuleType("odio.label.agreement")

        def krippendorff_alpha(votes):
            pairs = [
                (a, b)
                for row in votes
                for i, a in enumerate(row)
                for b in row[i + 1 :]
                if a is not None and b is not None
            ]
            return float(np.mean([a == b for a, b in pairs])) if pairs else float("nan")

        module.krippendorff_alpha = krippendorff_alpha  # type: ignore[attr-defined]
        return module

    def review() -> types.ModuleType:
        module = types.ModuleType("odio.label.review")
        module.suspects = lambda oof, labels, thresholds, top: oof.head(top).assign(  # type: ignore[attr-defined]
            label=labels[0]
        )
        return module

    def retrain() -> types.ModuleType:
        module = types.ModuleType("odio.label.retrain")

        def fit(labelled, pool_texts, labels, *, folds=5, seed=0):
            rng = np.random.default_rng(seed)
            return rng.random((folds, len(pool_texts), len(labels))), np.full(len(labels), 0.5)

        module.retrain = fit  # type: ignore[attr-defined]
        return module

    for name, make in (
        ("strategies", strategies),
        ("agreement", agreement),
        ("review", review),
        ("retrain", retrain),
    ):
        try:
            importlib.import_module(f"odio.label.{name}")
        except ImportError:
            module = make()
            sys.modules[module.__name__] = module
            setattr(odio.label, name, module)


_stand_ins()


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
