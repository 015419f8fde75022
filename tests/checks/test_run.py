from __future__ import annotations

import json
import logging
import math
import re
import shutil

import numpy as np
import pandas as pd
import pytest

from checks.minisuite import KEYWORDS_MINI as KEYWORDS
from checks.minisuite import MINI, KeywordModel, keyword_detector
from odio.checks.run import run_check
from odio.checks.suite import load_suite, parse_suite
from odio.errors import OdioError
from odio.inference.detector import Detector


@pytest.fixture(scope="module")
def mini():
    return parse_suite(MINI)


def test_a_case_passes_when_every_expected_label_is_right(mini):
    result = run_check(keyword_detector(KEYWORDS), mini)
    passed = {r.case.text: r.passed for r in result.results}
    assert passed == {
        "las mujeres son una plaga": True,
        "las mujeres son basura": True,
        "los peruanos son una plaga": True,
        "los peruanos son basura": False,  # Odio right, Comunidades Migrantes missed
        "las mujeres no son una plaga": False,
        "las mujeres no son basura": False,
        "los peruanos no son una plaga": False,
        "los peruanos no son basura": False,
        "weón te quiero": True,
        "ya po culiao": False,
    }
    wrong = {r.case.text: r.wrong for r in result.failures()}
    assert wrong["los peruanos son basura"] == ["Comunidades Migrantes"]
    assert wrong["las mujeres no son basura"] == ["Odio", "Mujeres"]
    assert result.label_map == {label: label for label in KEYWORDS} and result.missing == []


def test_accuracies_macro_and_micro(mini):
    result = run_check(keyword_detector(KEYWORDS), mini)
    overall = result.overall()
    assert (overall.cases, overall.passed, overall.functionalities) == (10, 4, 3)
    assert overall.micro == pytest.approx(0.4)
    assert result.accuracy == overall.macro == pytest.approx((3 / 4 + 0 + 1 / 2) / 3)
    by_functionality = {s.name: s.micro for s in result.by_functionality()}
    assert by_functionality == {"dehumanising": 0.75, "negated": 0.0, "friendly": 0.5}
    by_group = {s.name: s.macro for s in result.by_group()}
    assert by_group == {"derogation": 0.75, "negation": 0.0, "profanity": 0.5}
    by_target = {s.name: (s.cases, s.passed, s.macro) for s in result.by_target()}
    assert by_target == {
        "Mujeres": (4, 2, pytest.approx(0.5)),  # dehumanising 2/2, negated 0/2
        "Comunidades Migrantes": (4, 1, pytest.approx(0.25)),
        "none": (2, 1, 0.5),
    }
    odio = result.by_label()[0]
    assert odio["label"] == "Odio"
    assert odio["expect_1"] == {"cases": 4, "accuracy": 1.0}
    assert odio["expect_0"] == {"cases": 6, "accuracy": pytest.approx(1 / 6, abs=1e-4)}
    # 4 hateful cases at 0.9 against 6 others: 5 tie at 0.9 (half each), 1 below at 0.1
    assert odio["auc"] == pytest.approx((4 * 5 * 0.5 + 4 * 1) / 24, abs=1e-4)


def test_the_auc_does_not_move_with_the_threshold(mini):
    """Accuracies follow the tuned threshold; the AUC tells runs apart on ranking alone."""
    keywords = {"Odio": ["son", "culiao"]}
    low = run_check(keyword_detector(keywords), mini).by_label()[0]
    high_detector = Detector(KeywordModel(keywords), ["Odio"], thresholds=[0.95])
    high = run_check(high_detector, mini).by_label()[0]
    assert (low["expect_1"]["accuracy"], high["expect_1"]["accuracy"]) == (1.0, 0.0)
    assert low["auc"] == high["auc"] == pytest.approx(14 / 24, abs=1e-4)


def test_no_auc_for_a_label_whose_cases_all_expect_the_same():
    data = {**MINI, "functionalities": MINI["functionalities"][:1]}
    only_hateful = run_check(keyword_detector(KEYWORDS), parse_suite(data)).by_label()
    assert [row["auc"] for row in only_hateful] == [None, None, None]


def test_labels_the_model_lacks_are_skipped_and_reported(mini, caplog):
    with caplog.at_level(logging.WARNING, logger="odio"):
        result = run_check(keyword_detector({"Odio": ["son", "culiao"]}), mini)
    assert result.missing == ["Mujeres", "Comunidades Migrantes"]
    assert "the model has no label Mujeres, Comunidades Migrantes" in caplog.text
    assert result.skipped == 0 and result.overall().cases == 10
    assert result.overall().passed == 5  # only Odio is scored: every hateful case passes
    assert all(r.scored == ("Odio",) for r in result.results)


def test_other_label_names_through_a_map(mini):
    detector = keyword_detector({"HS": ["son", "culiao"], "Mujer": ["mujeres"]})
    with pytest.raises(OdioError, match=re.escape("include none of those suite mini expects")):
        run_check(detector, mini)
    result = run_check(detector, mini, label_map={"HS": "Odio", "Mujer": "Mujeres"})
    assert result.label_map == {"Odio": "HS", "Mujeres": "Mujer"}
    assert result.overall().cases == 10
    with pytest.raises(OdioError, match="the model has no label 'X'"):
        run_check(detector, mini, label_map={"X": "Odio"})
    with pytest.raises(OdioError, match="suite mini has no label 'Gente'"):
        run_check(detector, mini, label_map={"HS": "Gente"})


def test_scoring_only_some_labels(mini):
    result = run_check(keyword_detector(KEYWORDS), mini, labels=["Odio"])
    assert result.label_map == {"Odio": "Odio"} and result.missing == []
    assert result.overall().passed == 5  # the target misses no longer count
    with pytest.raises(OdioError, match="suite mini has no label 'HS'"):
        run_check(keyword_detector(KEYWORDS), mini, labels=["HS"])


def test_cases_with_nothing_to_score_are_skipped():
    data = {**MINI, "functionalities": MINI["functionalities"][:1]}
    data["functionalities"] = [
        *data["functionalities"],
        {"name": "w", "description": "d", "group": "g", "expect": {"Mujeres": 0}, "cases": ["x"]},
    ]
    result = run_check(keyword_detector({"Odio": ["son"]}), parse_suite(data))
    assert result.skipped == 1 and result.overall().cases == 4
    assert [s.name for s in result.by_functionality()] == ["dehumanising"]


def test_json_has_every_table_and_failure(mini):
    data = run_check(keyword_detector(KEYWORDS), mini).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["suite"] == {
        "name": "mini",
        "source": "<suite>",
        "language": "es-CL",
        "functionalities": 3,
        "cases": 10,
    }
    assert data["overall"]["accuracy_cases"] == 0.4 and len(data["failures"]) == 6
    assert data["decision_rule"] == "independent" and data["thresholds"]["Odio"] == 0.5
    failure = data["failures"][0]
    assert failure["text"] == "los peruanos son basura"
    assert failure["expected"] == {"Odio": 1, "Comunidades Migrantes": 1}
    assert failure["probabilities"] == {"Odio": 0.9, "Comunidades Migrantes": 0.1}
    assert [f["name"] for f in data["functionalities"]] == ["dehumanising", "negated", "friendly"]
    assert data["functionalities"][0]["expect"] == {"Odio": 1, "target": 1}


def test_thresholds_and_the_decision_rule_decide():
    strict = keyword_detector(KEYWORDS).with_thresholds({"Odio": 0.95})
    result = run_check(strict, parse_suite(MINI))
    assert {r.case.functionality for r in result.results if r.passed} == {"negated", "friendly"}


def test_shipped_suite_on_a_trained_run(tfidf_run):
    result = run_check(tfidf_run)
    suite = load_suite()
    assert len(result.results) == len(suite.cases) and result.skipped == 0
    assert result.in_training == 0 and result.missing == []
    assert 0 <= result.accuracy <= 1 and not math.isnan(result.accuracy)
    assert [s.name for s in result.by_target()] == suite.labels[1:] + ["none"]
    P = np.array([[r.probabilities[label] for label in suite.labels] for r in result.results])
    assert P.shape == (len(suite.cases), 5) and ((P >= 0) & (P <= 1)).all()


def test_warns_when_the_suite_was_in_the_training_data(tfidf_run, tmp_path, caplog):
    run = tmp_path / "run"
    shutil.copytree(tfidf_run, run)
    oof = pd.read_csv(run / "oof.csv")
    case = load_suite().cases[0].text
    oof.loc[0, "text"] = f"  {case.upper()} "  # compared lower-cased, spaces collapsed
    oof.to_csv(run / "oof.csv", index=False)
    with caplog.at_level(logging.WARNING, logger="odio"):
        result = run_check(run / "model")  # the model folder: its run is the parent
    assert result.in_training == 1
    assert "1 cases of suite es_cl are among the training texts" in caplog.text
