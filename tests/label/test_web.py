"""The labelling API: a wrong or missing token is refused, a request naming another host is
refused, bodies are bounded, and a vote answered 200 is in the project."""

from __future__ import annotations

import urllib.request

import pytest
from label_data import call

from odio.label.project import Project


def test_a_wrong_token_is_refused_and_the_right_one_accepted(project_file, serve):
    served = serve(project_file, token="s3cret")
    assert call(served.url, "/api/next")[0] == 401
    status, answer = call(served.url, "/api/next", token="guess")
    assert status == 403 and "token" in answer["error"]
    assert call(served.url, "/api/vote", {"tweet": 0, "labels": ["Odio"]}, token="guess")[0] == 403
    status, answer = call(served.url, "/api/next", token="s3cret")
    assert status == 200 and answer["tweet"]["id"] == 0
    project = Project(project_file)
    assert project.votes() == []  # nothing the refused calls sent was kept


def test_the_page_is_served_without_a_token_but_holds_no_data(project_file, serve):
    served = serve(project_file, token="s3cret")
    with urllib.request.urlopen(served.url, timeout=30) as response:
        page = response.read().decode()
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "odio label" in page and "http" not in page.replace("http-equiv", "")  # no CDN


def test_a_request_for_another_host_name_is_refused(project_file, serve):
    """DNS rebinding: a page of evil.example resolving to 127.0.0.1 cannot read the API."""
    served = serve(project_file)
    assert call(served.url, "/api/next", host="evil.example:8765")[0] == 403
    assert call(served.url, "/api/next", host="localhost:8765")[0] == 200


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"tweet": 0, "labels": ["Hate"]}, 400),
        ({"tweet": "0", "labels": []}, 400),
        ({"tweet": 999, "labels": []}, 400),
        (b"not json", 400),
        (b"x" * 70_000, 413),
    ],
)
def test_a_bad_vote_is_one_clear_error(project_file, serve, body, status):
    served = serve(project_file)
    raw = body if isinstance(body, bytes) else None
    got, answer = call(served.url, "/api/vote", None if raw else body, raw=raw)
    assert got == status and answer["error"]


def test_votes_go_to_several_annotators_then_leave_the_queue(project_file, serve):
    served = serve(project_file, votes=2)
    first = call(served.url, "/api/next", name="ana")[1]["tweet"]["id"]
    status, answer = call(served.url, "/api/vote", {"tweet": first, "labels": ["Odio"]})
    assert status == 200 and answer["tweet"]["id"] != first
    assert call(served.url, "/api/next", name="bea")[1]["tweet"]["id"] == first
    answer = call(served.url, "/api/vote", {"tweet": first, "labels": []}, name="bea")[1]
    assert answer["progress"]["complete"] == 1
    assert call(served.url, "/api/next", name="cami")[1]["tweet"]["id"] != first
    undone = call(served.url, "/api/undo", {}, name="bea")[1]
    assert undone["tweet"]["id"] == first and undone["progress"]["complete"] == 0
    alpha = call(served.url, "/api/agreement")[1]
    assert set(alpha["alpha"]) == set(Project(project_file).labels)


def test_a_bug_is_a_500_answer_and_the_server_goes_on(project_file, serve, monkeypatch):
    served = serve(project_file)

    def broken(self, votes=1):
        raise RuntimeError("bug")

    monkeypatch.setattr(Project, "progress", broken)
    status, answer = call(served.url, "/api/next")
    assert status == 500 and answer["error"].startswith("internal error")
    monkeypatch.undo()
    assert call(served.url, "/api/next")[0] == 200
