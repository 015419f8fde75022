"""Word-level explanations: exact for TF-IDF, occlusion for transformers, CLI rendering."""

from __future__ import annotations

import json
import sys
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from odio.cli import main
from odio.errors import OdioError
from odio.inference.detector import Detector
from odio.inference.explain import Explanation, occlusion
from odio.metrics import logit
from odio.reports.explain import format_explanation

TEXTS = [
    "ándate a tu país culiao",
    "las minas no saben NADA, vuelvan a la cocina 🤬🤬 #Santiago",
    "qué rico el completo, rico rico rico",
    "@usuario_falso12 cállate feminazi culia jajajaja https://t.co/x",
    "no-sé   qué   pasa\n\ncon los mapuches y los haitianos",
    "x",
]


@pytest.fixture(scope="module")
def tfidf(tfidf_run) -> Detector:
    return Detector.load(tfidf_run)


@pytest.fixture(scope="module")
def tiny(tiny_run) -> Detector:
    return Detector.load(tiny_run)


@pytest.mark.parametrize("text", TEXTS)
def test_one_score_per_word_and_label(tfidf, text):
    e = tfidf.explain(text)
    assert e.method == "linear"
    assert e.normalised == tfidf.model.prepare([text])[0]
    assert e.words == e.normalised.split()
    assert e.labels == tfidf.labels == list(e.scores)
    for label in e.labels:
        assert len(e.scores[label]) == len(e.words)
        assert [w for w, _ in e.pairs(label)] == e.words
    assert e.probabilities == pytest.approx(tfidf.predict([text])[0]["probabilities"])
    assert e.decisions == tfidf.predict([text])[0]["decisions"]


@pytest.mark.parametrize("text", TEXTS)
def test_linear_scores_add_up_to_the_mean_member_logit(tfidf, text):
    e = tfidf.explain(text)
    logits = np.mean([m.decision_function([e.normalised])[0] for m in tfidf.model.members], axis=0)
    intercept = np.mean([m.intercept for m in tfidf.model.members], axis=0)
    for j, label in enumerate(tfidf.labels):
        assert e.base[label] == pytest.approx(intercept[j], abs=1e-12)
        assert sum(e.scores[label]) + e.base[label] == pytest.approx(logits[j], abs=1e-9)


def test_words_of_hateful_tweets_push_odio_up(tfidf, split_files):
    train = pd.read_csv(split_files[0])
    hateful = train["Odio"] >= 2  # min_votes of the run
    counts = {True: Counter(), False: Counter()}
    for text, label in zip(tfidf.model.prepare(train["text"].tolist()), hateful, strict=True):
        counts[bool(label)].update(set(text.lower().split()))
    # content words in the most hateful tweets, net of the tweets that are not
    words = sorted(
        (w for w in counts[True] if len(w) >= 4 and w.isalpha()),
        key=lambda w: (counts[False][w] - counts[True][w], w),
    )[:5]
    assert all(counts[True][w] - counts[False][w] >= 2 for w in words)
    for word in words:
        scores = dict(tfidf.explain(f"ayer vi a {word} en la calle", ["Odio"]).pairs("Odio"))
        assert scores[word] > 0
        assert scores[word] == max(scores.values())


def test_occlusion_on_a_transformer(tiny):
    text = "las minas no saben nada, vuelvan a la cocina"
    e = tiny.explain(text)
    assert e.method == "occlusion" and e.base is None
    for label in tiny.labels:
        assert len(e.scores[label]) == len(e.words) == 9
        assert np.isfinite(e.scores[label]).all()
    assert list(e.probabilities.values()) == pytest.approx(
        tiny.predict_proba([text])[0].tolist(), abs=1e-5
    )
    i = 3  # "saben"
    without = " ".join(e.words[:i] + e.words[i + 1 :])
    P = tiny.model.score([e.normalised, without])
    expected = logit(P[0]) - logit(P[1])
    got = [e.scores[label][i] for label in tiny.labels]
    assert got == pytest.approx(expected.tolist(), abs=1e-4)
    assert any(abs(s) > 0 for s in got)  # removing a word changes a random model too


def test_occlusion_runs_on_onnx_members_like_torch(tiny, tiny_onnx):
    onnx = Detector.load(tiny_onnx["fp32"])
    text = "ándate a tu país culiao"
    a, b = tiny.explain(text, ["Odio"]), onnx.explain(text, ["Odio"])
    assert b.method == "occlusion" and a.words == b.words
    assert b.scores["Odio"] == pytest.approx(a.scores["Odio"], abs=1e-3)


def test_occlusion_scores_variants_a_batch_at_a_time(tfidf):
    sizes = []

    def predict(texts):
        sizes.append(len(texts))
        return tfidf.model.score(texts)

    words = [f"w{i}" for i in range(150)]
    scores, _ = occlusion(words, predict, batch_size=64)
    assert sizes == [64, 64, 23] and scores.shape == (150, len(tfidf.labels))
    whole, _ = occlusion(words, tfidf.model.score, batch_size=1000)
    assert scores == pytest.approx(whole)


def test_occlusion_refuses_more_words_than_the_bound(tiny):
    text = "😀🤬🇨🇱😂" * 150  # 2.3 KB: 600 emoji, some 2,600 words once named
    with pytest.raises(OdioError, match=r"has \d+ words once normalised; .* at most 256"):
        tiny.explain(text)
    with pytest.raises(OdioError, match="at most 5"):
        tiny.explain("uno dos tres cuatro cinco seis", max_words=5)
    assert len(tiny.explain("uno dos tres cuatro cinco", max_words=5).words) == 5


def test_linear_explanations_take_any_length(tfidf):
    words = " ".join(f"palabra{i}" for i in range(400))
    assert len(tfidf.explain(words).words) == 400


def test_occlusion_is_generic_and_batches_once(tfidf):
    calls = []

    def predict(texts):
        calls.append(list(texts))
        return tfidf.model.score(texts)

    scores, p = occlusion(["te", "odio", "weon"], predict)
    assert calls == [["te odio weon", "odio weon", "te weon", "te odio"]]
    assert scores.shape == (3, len(tfidf.labels)) and p.shape == (len(tfidf.labels),)
    forced = tfidf.explain("te odio weon", method="occlusion")
    assert forced.scores["Odio"] == pytest.approx(scores[:, 0].tolist())


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_an_empty_text_is_a_clear_error(tfidf, text):
    with pytest.raises(OdioError, match="nothing to explain: the text is empty"):
        tfidf.explain(text)


def test_labels_are_chosen_and_checked(tfidf):
    e = tfidf.explain("ándate a tu país", ["Comunidades Migrantes", "Odio"])
    assert e.labels == ["Odio", "Comunidades Migrantes"] == list(e.probabilities)
    with pytest.raises(OdioError, match="unknown label 'odio'; the model's labels are: Odio,"):
        tfidf.explain("hola", ["odio"])
    with pytest.raises(OdioError, match="not explained here"):
        e.pairs("Mujeres")
    with pytest.raises(OdioError, match="method must be one of linear, occlusion"):
        tfidf.explain("hola", method="shap")


def test_to_dict_is_json_and_top_words_are_sorted(tfidf):
    e = tfidf.explain("las minas no saben nada, vuelvan a la cocina")
    data = json.loads(json.dumps(e.to_dict()))
    assert data["words"] == e.words and data["method"] == "linear"
    assert data["scores"]["Odio"] == pytest.approx(e.scores["Odio"])
    up, down = e.top("Odio", 3)
    assert len(up) <= 3 and all(s > 0 for _, s in up)
    assert [s for _, s in up] == sorted((s for _, s in up), reverse=True)
    assert [s for _, s in down] == sorted(s for _, s in down)
    assert up[0][1] == max(e.scores["Odio"])


def test_colour_shades_every_word(tfidf):
    e = tfidf.explain("ándate a tu país culiao", ["Odio"])
    out = format_explanation(e, colour=True)
    assert out.count("\x1b[38;2;0;0;0;48;2;") == len(e.words)
    assert "(+" not in out.splitlines()[2]  # no numbers beside shaded words


def test_cli_prints_every_word_without_colour(tfidf_run, tfidf, capsys):
    texts = ["ándate a tu país culiao", "qué rico el completo"]
    assert main(["explain", str(tfidf_run), *texts, "--top", "2"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out
    for text in texts:
        e = tfidf.explain(text)
        assert text in out
        for word, score in e.pairs("Odio"):
            assert f"{word}({score:+.2f})" in out
    assert "  Odio: p=" in out and "up:   " in out and "down: " in out


def test_cli_colour_follows_the_terminal_and_no_color(tfidf_run, capsys, monkeypatch):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert main(["explain", str(tfidf_run), "te odio"]) == 0
    assert "\x1b[38;2;" in capsys.readouterr().out
    monkeypatch.setenv("NO_COLOR", "1")
    assert main(["explain", str(tfidf_run), "te odio"]) == 0
    assert "\x1b" not in capsys.readouterr().out


def test_cli_labels_and_json(tfidf_run, tfidf, capsys):
    assert main(["explain", str(tfidf_run), "hola", "--label", "Mujeres"]) == 0
    out = capsys.readouterr().out
    assert "  Mujeres: p=" in out and "  Odio: p=" not in out
    assert main(["explain", str(tfidf_run), "hola", "--all-labels"]) == 0
    out = capsys.readouterr().out
    assert all(f"  {label}: p=" in out for label in tfidf.labels)
    assert main(["explain", str(tfidf_run), "te odio", "hola", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["text"] for d in data] == ["te odio", "hola"]
    assert data[0]["scores"]["Odio"] == pytest.approx(tfidf.explain("te odio").scores["Odio"])
    assert main(["explain", str(tfidf_run), "hola", "--label", "Nope"]) == 2
    assert "error: unknown label 'Nope'" in capsys.readouterr().err


def test_explanation_needs_no_model():
    e = Explanation(
        text="Te odio",
        normalised="Te odio",
        words=["Te", "odio"],
        labels=["Odio"],
        probabilities={"Odio": 0.8},
        decisions={"Odio": True},
        thresholds={"Odio": 0.5},
        scores={"Odio": [0.0, 0.0]},
        method="occlusion",
    )
    assert "Te(+0.00) odio(+0.00)" in format_explanation(e)
    assert format_explanation(e, colour=True).count("255;255;255m") == 2  # no signal, no shade


def test_cli_max_words_is_one_line_error(tiny_run, capsys):
    assert main(["explain", str(tiny_run), "uno dos tres", "--max-words", "2"]) == 2
    err = capsys.readouterr().err
    assert "error: the text has 3 words once normalised" in err and "Traceback" not in err
