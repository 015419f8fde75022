"""The HTTP service, through FastAPI's TestClient (no socket, no server process)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from fastapi.testclient import TestClient

from odio.cli import main
from odio.errors import OdioError
from odio.inference.detector import Detector
from odio.serve.app import create_app
from odio.serve.settings import ServeSettings

TWEETS = ["ándate a tu país culiao", "qué rico el completo", "las minas no saben nada"]


@pytest.fixture(scope="module")
def detector(tfidf_run) -> Detector:
    return Detector.load(tfidf_run)


@pytest.fixture(scope="module")
def client(detector) -> Iterator[TestClient]:
    with TestClient(create_app(detector)) as client:  # runs the lifespan: the batcher
        yield client


def test_health_and_model_endpoints(client, detector):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.head("/healthz").status_code == 200  # was 405
    assert client.get("/readyz").json() == {"status": "ready"}
    assert client.head("/readyz").status_code == 200
    info = client.get("/v1/model").json()
    assert info["labels"] == detector.labels
    assert info["backend"] == "tfidf" and info["runtime"] == "scikit-learn"
    defaults = ServeSettings()
    assert info["limits"] == {
        "max_texts": 256,
        "max_chars": 5000,
        "max_body_bytes": defaults.max_body_bytes,
        "max_explain_words": 256,
        "max_queued": 64,
        "max_explain_queued": 4,
        "read_timeout": 10.0,
        "max_batch": 64,
        "max_wait_ms": 5,
    }
    assert set(info["thresholds"]) == set(detector.labels)
    assert info["auth"] is False and "test" in info["scores_tuned"]
    assert info["metric"] == "f1_custom" and info["decision_rule"] == "independent"


def test_predict_answers_in_request_order(client, detector):
    response = client.post("/v1/predict", json={"texts": TWEETS})
    assert response.status_code == 200
    predictions = response.json()["predictions"]
    expected = detector.predict(TWEETS)
    assert len(predictions) == 3
    for got, want in zip(predictions, expected, strict=True):
        assert got["decisions"] == want["decisions"]
        assert got["probabilities"] == pytest.approx(want["probabilities"])
    thresholds = dict(zip(detector.labels, detector.thresholds.tolist(), strict=True))
    assert response.json()["thresholds"] == pytest.approx(thresholds)


def test_limits_are_inclusive(client):
    assert client.post("/v1/predict", json={"texts": ["hola"] * 256}).status_code == 200
    assert client.post("/v1/predict", json={"texts": ["a" * 5000]}).status_code == 200


@pytest.mark.parametrize(
    "body, message",
    [
        ({"texts": ["hola"] * 257}, "at most 256 texts per request, got 257"),
        ({"texts": ["hola", "a" * 5001]}, "text 1 has 5001 characters; at most 5000"),
        ({"texts": "hola"}, "Input should be a valid list"),
        ({"texts": ["hola", 3]}, "Input should be a valid string"),
        ({"texts": [None]}, "Input should be a valid string"),
        ({"text": ["hola"]}, "Field required"),
        ({}, "Field required"),
        ({"texts": []}, "List should have at least 1 item"),
        ({"texts": ["hola"], "lang": "es"}, "Extra inputs are not permitted"),
    ],
)
def test_bad_requests_are_422_with_a_clear_message(client, body, message):
    response = client.post("/v1/predict", json=body)
    assert response.status_code == 422
    assert any(message in d["msg"] for d in response.json()["detail"])


def test_a_body_that_is_not_json_is_422(client):
    response = client.post(
        "/v1/predict", content=b"texts=hola", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


def test_token_is_enforced_when_set(detector):
    with TestClient(create_app(detector, ServeSettings(token="s3cret-token"))) as client:
        body = {"texts": ["hola"]}
        assert client.post("/v1/predict", json=body).status_code == 401
        wrong = client.post("/v1/predict", json=body, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
        assert client.get("/v1/model").status_code == 401
        good = {"Authorization": "Bearer s3cret-token"}
        assert client.post("/v1/predict", json=body, headers=good).status_code == 200
        assert client.get("/v1/model", headers=good).json()["auth"] is True
        assert client.get("/healthz").status_code == 200  # probes need no token
        assert client.get("/readyz").status_code == 200
        for page in ("/docs", "/openapi.json", "/nowhere"):  # nothing else is public
            assert client.get(page).status_code == 401
            assert client.get(page, headers=good).status_code == 404  # the schema neither


def test_the_schema_is_served_without_a_token_and_no_page_needs_a_cdn(client):
    assert client.get("/openapi.json").status_code == 200
    for page in ("/docs", "/redoc"):  # Swagger UI and ReDoc load scripts from a CDN
        assert client.get(page).status_code == 404


def test_422_bodies_do_not_echo_the_request(client):
    big = "x" * 4000
    for body in ({"texts": [big, 3]}, {"texts": [big], "extra": big}, {"text": [big]}):
        path = "/v1/predict" if "texts" in body else "/v1/explain"
        response = client.post(path, json=body)
        assert response.status_code == 422
        assert big not in response.text and len(response.content) < 1000
    many = client.post("/v1/predict", json={"texts": list(range(300))})
    assert many.status_code == 422
    detail = many.json()["detail"]
    assert len(detail) == 11 and detail[-1]["msg"] == "290 more errors not shown"


def test_empty_texts_are_not_scored_anywhere(client, detector):
    """One behaviour: an empty text (nothing but whitespace) gets no probability: null in
    /v1/predict, empty outputs in odio predict, a 422 in /v1/explain."""
    response = client.post("/v1/predict", json={"texts": ["hola", "", "  \n", "qué tal"]})
    assert response.status_code == 200
    predictions = response.json()["predictions"]
    assert [p["probabilities"] is None for p in predictions] == [False, True, True, False]
    assert predictions[1] == {"probabilities": None, "decisions": None}
    expected = detector.predict(["hola", "qué tal"])
    assert predictions[3]["probabilities"] == pytest.approx(expected[1]["probabilities"])
    assert client.post("/v1/predict", json={"texts": [""]}).json()["predictions"] == [
        {"probabilities": None, "decisions": None}
    ]
    assert client.post("/v1/explain", json={"text": " "}).status_code == 422


def test_model_info_shows_no_local_path(detector, tmp_path, monkeypatch):
    from odio.inference.summary import public_model_name
    from odio.serve.app import model_info

    assert public_model_name("xlm-roberta-base") == "xlm-roberta-base"
    assert public_model_name("dccuchile/bert-base-spanish-wwm-uncased") == (
        "dccuchile/bert-base-spanish-wwm-uncased"
    )
    assert public_model_name(str(tmp_path / "my-encoder")) == "my-encoder"
    assert public_model_name("./enc/") == "enc" and public_model_name("~/x/e5") == "e5"
    assert public_model_name("C:\\models\\e5") == "e5"
    (tmp_path / "runs").mkdir()
    assert public_model_name(str(tmp_path / "runs")) == "runs"

    real = detector.model.describe

    def describe():
        return {**real(), "base_model": str(tmp_path / "secret" / "e5")}

    monkeypatch.setattr(detector.model, "describe", describe)
    info = model_info(detector, ServeSettings())
    assert info["base_model"] == "e5" and str(tmp_path) not in json.dumps(info)


def test_an_oversized_body_is_refused_before_parsing(detector):
    settings = ServeSettings(max_texts=2, max_chars=10)
    with TestClient(create_app(detector, settings)) as client:
        big = b'{"texts": ["' + b"a" * settings.max_body_bytes + b'"]}'
        response = client.post(
            "/v1/predict", content=big, headers={"content-type": "application/json"}
        )
        assert response.status_code == 413
        assert str(settings.max_body_bytes) in response.json()["detail"]
        # the largest request the limits allow still fits
        worst = {"texts": ["😀" * 10] * 2}
        assert client.post("/v1/predict", json=worst).status_code == 200


def test_explain_endpoint(client, detector):
    text = "ándate a tu país culiao"
    response = client.post("/v1/explain", json={"text": text})
    assert response.status_code == 200
    body = response.json()
    expected = detector.explain(text)
    assert body["words"] == expected.words and body["method"] == "linear"
    assert set(body["scores"]) == set(detector.labels)
    assert body["scores"]["Odio"] == pytest.approx(expected.scores["Odio"])
    assert body["probabilities"] == pytest.approx(expected.probabilities)
    assert body["decisions"] == expected.decisions
    some = client.post("/v1/explain", json={"text": text, "labels": ["Mujeres"]}).json()
    assert list(some["scores"]) == list(some["probabilities"]) == ["Mujeres"]


@pytest.mark.parametrize(
    "body, message",
    [
        ({"text": "hola", "labels": ["Odio", "odio"]}, "unknown label 'odio'"),
        ({"text": "a" * 5001}, "the text has 5001 characters; at most 5000"),
        ({"text": "   "}, "nothing to explain"),
        ({"text": ""}, "nothing to explain"),
        ({"text": ["hola"]}, "Input should be a valid string"),
        ({"text": "hola", "labels": []}, "List should have at least 1 item"),
        ({"texts": ["hola"]}, "Field required"),
    ],
)
def test_bad_explain_requests_are_422(client, body, message):
    response = client.post("/v1/explain", json=body)
    assert response.status_code == 422
    assert any(message in d["msg"] for d in response.json()["detail"])


def test_explain_needs_the_token_when_set(detector):
    with TestClient(create_app(detector, ServeSettings(token="s3cret-token"))) as client:
        assert client.post("/v1/explain", json={"text": "hola"}).status_code == 401
        good = {"Authorization": "Bearer s3cret-token"}
        assert client.post("/v1/explain", json={"text": "hola"}, headers=good).status_code == 200


def test_settings_read_the_token_from_the_environment(monkeypatch):
    monkeypatch.setenv("ODIO_API_TOKEN", "abc")
    assert ServeSettings.from_env().token == "abc"
    assert "abc" not in repr(ServeSettings.from_env())
    monkeypatch.setenv("ODIO_API_TOKEN", " ")
    with pytest.raises(OdioError, match="ODIO_API_TOKEN is set but empty"):
        ServeSettings.from_env()
    monkeypatch.delenv("ODIO_API_TOKEN")
    assert ServeSettings.from_env().token is None


def probabilities(response) -> list[float]:
    """The probabilities of a one-text ``/v1/predict`` response, in label order."""
    assert response.status_code == 200, response.text
    return list(response.json()["predictions"][0]["probabilities"].values())


def ask_each(client: TestClient, texts: list[str], clients: int) -> list:
    """One single-text ``/v1/predict`` request per text, ``clients`` at a time."""
    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(lambda t: client.post("/v1/predict", json={"texts": [t]}), texts))


def test_concurrent_requests_are_batched_and_each_gets_its_own_answer(detector, sample_frame):
    texts = sample_frame["text"].tolist()[:40]
    # a batch waits (up to 10 s) for 40 texts: the 40 concurrent requests make one
    settings = ServeSettings(max_batch=40, max_wait_ms=10_000)
    with TestClient(create_app(detector, settings)) as client:
        responses = ask_each(client, texts, clients=40)
        stats = client.app.state.batcher.stats
    assert stats.requests == 40 and stats.most_requests > 1
    expected = detector.predict_proba(texts)  # TF-IDF rows do not depend on the batch
    decisions = detector.decide(expected)
    for response, want, decided in zip(responses, expected, decisions, strict=True):
        assert probabilities(response) == pytest.approx(want.tolist())
        got = response.json()["predictions"][0]["decisions"]
        assert list(got.values()) == decided.astype(bool).tolist()


def test_a_request_larger_than_max_batch_is_scored_alone(detector, sample_frame, monkeypatch):
    real, sizes = detector.predict_proba, []

    def counted(texts):
        sizes.append(len(texts))
        return real(texts)

    monkeypatch.setattr(detector, "predict_proba", counted)
    texts = sample_frame["text"].tolist()[:18]
    with (
        TestClient(create_app(detector, ServeSettings(max_batch=4))) as client,
        ThreadPoolExecutor(9) as pool,
    ):
        big = pool.submit(client.post, "/v1/predict", json={"texts": texts[:10]})
        singles = [pool.submit(client.post, "/v1/predict", json={"texts": [t]}) for t in texts[10:]]
        big_answer = big.result().json()["predictions"]
        single_answers = [probabilities(f.result()) for f in singles]
    assert sorted(sizes)[-1] == 10 and max(sorted(sizes)[:-1]) <= 4 and sum(sizes) == 18
    expected = real(texts)
    np.testing.assert_allclose(
        [list(p["probabilities"].values()) for p in big_answer], expected[:10]
    )
    np.testing.assert_allclose(single_answers, expected[10:])


def test_an_input_that_fails_its_batch_fails_only_its_own_request(detector, monkeypatch):
    real, sizes = detector.predict_proba, []

    def flaky(texts):
        sizes.append(len(texts))
        if "boom" in texts:
            raise RuntimeError("the model broke")
        if "bad input" in texts:
            raise OdioError("the text is too long for this model")
        return real(texts)

    monkeypatch.setattr(detector, "predict_proba", flaky)
    settings = ServeSettings(max_batch=8, max_wait_ms=10_000)  # 8 requests make one batch
    app = create_app(detector, settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        failed = ask_each(client, ["boom", "bad input"] + ["hola"] * 6, clients=8)
        batched = sizes[0]
        then = ask_each(client, ["hola"] * 8, clients=8)
        explained = client.post("/v1/explain", json={"text": "hola"})
    # one failing text turned every other request of its batch into a 500
    assert [r.status_code for r in failed] == [500, 422] + [200] * 6
    assert failed[0].json() == {
        "detail": "scoring failed (RuntimeError); the server's log has the details"
    }
    assert failed[1].json()["detail"][0]["msg"] == "the text is too long for this model"
    assert batched > 1  # they were scored together first
    assert [r.status_code for r in then] == [200] * 8 and explained.status_code == 200


def test_without_a_wait_requests_already_waiting_are_still_batched(detector, sample_frame):
    texts = sample_frame["text"].tolist()[:32]
    with TestClient(create_app(detector, ServeSettings(max_wait_ms=0))) as client:
        responses = ask_each(client, texts, clients=16)
        assert client.app.state.batcher.stats.requests == 32
    expected = detector.predict_proba(texts)
    np.testing.assert_allclose([probabilities(r) for r in responses], expected)


def test_a_client_not_running_the_lifespan_gets_a_500_never_a_hang(detector):
    client = TestClient(create_app(detector), raise_server_exceptions=False)
    assert client.post("/v1/predict", json={"texts": ["hola"]}).status_code == 500


@pytest.mark.parametrize("export", ["fp32", "int8"])
def test_concurrent_requests_to_a_transformer_model(tiny_onnx, sample_frame, export):
    """Each request gets its own text's probabilities, whichever texts share its batch (int8
    activation ranges are calibrated once, not measured per batch)."""
    detector = Detector.load(tiny_onnx[export])
    texts = sample_frame["text"].tolist()[:32]
    expected = np.vstack([detector.predict_proba([t]) for t in texts])  # one at a time
    # a batch waits (up to 10 s) for 8 texts: the 8 clients' requests make one
    settings = ServeSettings(max_batch=8, max_wait_ms=10_000)
    with TestClient(create_app(detector, settings)) as client:
        got = np.array([probabilities(r) for r in ask_each(client, texts, clients=8)])
        assert client.app.state.batcher.stats.most_requests > 1
        info = client.get("/v1/model").json()
    assert np.allclose(got, expected, atol=1e-5)
    assert info["runtime"] == "onnx"
    assert info["onnx"]["file"] == f"model{'.int8' if export == 'int8' else ''}.onnx"
    assert info["onnx"]["opset"] == 17
    if export == "int8":
        assert info["onnx"]["quantization"].startswith("int8 static, MatMul inputs smoothed")


def test_a_missing_serve_extra_is_one_sentence(tfidf_run, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    assert main(["serve", str(tfidf_run)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "error: odio serve needs the 'serve' extra (uvicorn is not installed): "
        "pip install 'odio[serve]'"
    )


def test_importing_odio_loads_no_optional_dependency():
    code = (
        "import sys, odio, odio.cli, odio.inference.detector, odio.inference.batch, "
        "odio.text.tokens, odio.serve.settings, odio.models.export; odio.cli.build_parser(); "
        "print(sorted(m for m in ('fastapi', 'uvicorn', 'onnxruntime', 'onnx', 'torch', "
        "'lightning') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_help_lists_the_new_subcommands():
    out = subprocess.run(
        [sys.executable, "-m", "odio.cli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for command in ("train", "evaluate", "predict", "export", "serve"):
        assert command in out


def test_an_explanation_holds_no_prediction_up_and_has_its_own_bounded_lane(detector, monkeypatch):
    # an explanation by occlusion (as for a transformer): 81 texts for 80 words
    monkeypatch.setattr("odio.inference.explain.default_method", lambda model: "occlusion")
    text = " ".join(f"palabra{i}" for i in range(80))
    expected = detector.explain(text, method="occlusion")
    real, explaining = detector.model.score, threading.Event()

    def slow(texts):  # 0.02 s per text: 1.6 s for the whole explanation
        if len(texts[0].split()) > 10:
            explaining.set()
        time.sleep(0.02 * len(texts))
        return real(texts)

    monkeypatch.setattr(detector.model, "score", slow)
    settings = ServeSettings(max_explain_queued=0)
    with TestClient(create_app(detector, settings)) as client, ThreadPoolExecutor(2) as pool:
        explained = pool.submit(client.post, "/v1/explain", json={"text": text})
        assert explaining.wait(20)
        second = client.post("/v1/explain", json={"text": "hola"})  # the lane is full
        predicted = client.post("/v1/predict", json={"texts": ["hola"]})
        # a one-text prediction waited for the whole explanation (34 s of a 256-word one)
        assert predicted.status_code == 200 and not explained.done()
        assert explained.result(timeout=30).status_code == 200
    assert second.status_code == 503 and second.headers["retry-after"] == "1"
    body = explained.result().json()
    assert body["method"] == "occlusion" and len(body["words"]) == 80
    assert body["scores"]["Odio"] == pytest.approx(expected.scores["Odio"])


@pytest.mark.parametrize("probe", ["/healthz", "/readyz"])
def test_the_probes_answer_while_every_worker_thread_is_busy(detector, monkeypatch, probe):
    """A probe answered in a worker thread (a sync endpoint) waits behind them all."""
    gate, busy = threading.Event(), []

    def blocked(*args):  # GET /v1/model runs in a worker thread of the 40
        busy.append(1)
        gate.wait(30)
        return {}

    monkeypatch.setattr("odio.serve.app.model_info", blocked)
    with TestClient(create_app(detector)) as client, ThreadPoolExecutor(41) as pool:
        try:
            held = [pool.submit(client.get, "/v1/model") for _ in range(40)]
            deadline = time.monotonic() + 30
            while len(busy) < 40 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert len(busy) == 40  # every worker thread is held
            answer = pool.submit(client.get, probe)
            assert answer.result(timeout=10).status_code == 200
        finally:
            gate.set()
        assert all(f.result(timeout=30).status_code == 200 for f in held)
