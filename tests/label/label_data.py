"""What the labelling tests share, in a module of a name no other test folder uses (a test
importing ``conftest`` gets whichever folder's was imported first): the tweets of the
fixture file and one call of the labelling API."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT_SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "tweets_sample.csv"
TWEETS = [
    ("101", "ándate a tu país, veneco culiao", "reply to @x"),
    ("102", "qué rico el completo italiano", ""),
    ("103", "las minas no sirven pa manejar", "quote of a news headline"),
    ("104", "buen día a todos", ""),
    ("105", "los mapuche son todos flojos", "reply to @y"),
    ("106", "vamos chile!!", ""),
]


def call(url, path, body=None, *, name="ana", token=None, host=None, raw=None):
    """``(status, JSON answer)`` of one API call."""
    headers = {"X-Odio-Annotator": urllib.parse.quote(name)}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if host is not None:
        headers["Host"] = host
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url.rstrip("/") + path, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
