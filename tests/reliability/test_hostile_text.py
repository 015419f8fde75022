"""Hostile Unicode and hostile sizes: every backend answers, in time, without a 500.

The same texts go to the TF-IDF model, the tiny encoder (PyTorch), its ONNX exports and a
stack of TF-IDF and the encoder, through the HTTP API.
"""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest
from fastapi.testclient import TestClient

from odio.inference.detector import Detector
from odio.models.stack import Stack, StackMeta
from odio.serve.app import create_app

HOSTILE = [
    "te odio \ud800 weon",  # a lone surrogate: the tokenizer raised TypeError, a 500
    "\udfff",
    "hola \ud83d\ude00 par de surrogates sueltos",
    "nul \x00 en medio \x07\x1b[31m",
    "\u202eolleh\u202c derecha a izquierda",
    "\u200b" * 1000 + "cero ancho",
    "a" + "\u0301" * 4000,  # combining accents
    "\ufeff\ufffe\uffff\U0010ffff no-caracteres",
    "👩🏽‍❤️‍💋‍👨🏿" * 200,  # zero-width-joiner sequences
    "\u3000\u00a0\u2028\u2029\t",  # only (Unicode) whitespace: an empty text
    "x" * 5000,
    "http://x.cl/" + ")" * 4900,
]


def post(client: TestClient, path: str, body: dict):
    """JSON with ``\\ud800``-style escapes, as a browser or ``json.dumps`` sends it."""
    content = json.dumps(body).encode("ascii")
    return client.post(path, content=content, headers={"content-type": "application/json"})


@pytest.fixture(scope="module")
def detectors(tfidf_run, tiny_run, tiny_onnx) -> dict[str, Detector]:
    tfidf, tiny = Detector.load(tfidf_run), Detector.load(tiny_run)
    n = len(tfidf.labels)
    stack = Stack(
        [tfidf.model, tiny.model],
        StackMeta("label", [[1.0, 0.5]] * n, [0.0] * n),
        specs=["tfidf", "tiny"],
        base_thresholds=[tfidf.thresholds, tiny.thresholds],
    )
    return {
        "tfidf": tfidf,
        "torch": tiny,
        "onnx": Detector.load(tiny_onnx["fp32"]),
        "int8": Detector.load(tiny_onnx["int8"]),
        "stack": Detector(stack, tfidf.labels),
    }


@pytest.mark.parametrize("backend", ["tfidf", "torch", "onnx", "int8", "stack"])
def test_hostile_unicode_is_scored_and_explained(backend, detectors):
    with TestClient(create_app(detectors[backend]), raise_server_exceptions=False) as client:
        response = post(client, "/v1/predict", {"texts": HOSTILE})
        assert response.status_code == 200, response.text
        predictions = response.json()["predictions"]
        assert len(predictions) == len(HOSTILE)
        for text, prediction in zip(HOSTILE, predictions, strict=True):
            if text.strip():
                assert all(math.isfinite(p) for p in prediction["probabilities"].values())
            else:
                assert prediction == {"probabilities": None, "decisions": None}
        for text in ["te odio \ud800 weon", "\ud800", "hola 👩🏽‍❤️‍💋‍👨🏿 \x00"]:
            response = post(client, "/v1/explain", {"text": text, "labels": ["Odio"]})
            assert response.status_code == 200, response.text
            assert "\ufffd" in "".join(response.json()["words"]) or "\ud800" not in text


@pytest.mark.parametrize("backend", ["torch", "onnx", "stack"])
def test_explaining_600_emoji_is_refused_at_once(backend, detectors):
    """600 emoji (2.3 KB) once took 31 s and 2.1 GB while holding the model lock."""
    with TestClient(create_app(detectors[backend])) as client:
        emoji = "😀🤬🇨🇱😂🙏🏽🔥" * 100
        text = emoji if backend != "stack" else " ".join(emoji)  # a stack explains raw words
        response = client.post("/v1/explain", json={"text": text})  # refused by validation
        assert response.status_code == 422
        assert (
            "an explanation by occlusion takes at most 256" in response.json()["detail"][0]["msg"]
        )
        one = client.post("/v1/explain", json={"text": "😀🤬 te odio weon", "labels": ["Odio"]})
        assert one.status_code == 200


@pytest.mark.parametrize("backend", ["tfidf", "torch", "onnx"])
def test_long_texts_cost_linear_time(backend, detectors):
    detector = detectors[backend]
    texts = ["mira http://x.cl/" + ")" * 200_000, "😀🤬🇨🇱 " * 5000, "#" + "aB1" * 20_000]
    start = time.perf_counter()
    P = detector.predict_proba(texts)
    assert time.perf_counter() - start < 5.0  # the link alone took 20 s
    assert np.isfinite(P).all()


def test_a_full_request_of_emoji_is_bounded(detectors):
    """Emoji names make a 5,000-character text some 150,000 characters long; the model
    reads at most the normalisation cap, and the tokenizer a head of that."""
    with TestClient(create_app(detectors["onnx"])) as client:
        texts = ["😀🤬🇨🇱😂🙏🏽" * 700] * 32  # 4,900 characters each
        start = time.perf_counter()
        response = client.post("/v1/predict", json={"texts": texts})
        assert response.status_code == 200
        assert time.perf_counter() - start < 10.0
