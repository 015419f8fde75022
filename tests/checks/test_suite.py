from __future__ import annotations

import copy
import re
from collections import Counter

import pytest
import yaml

from checks.minisuite import MINI, write_mini
from odio.checks.suite import load_suite, parse_suite, shipped_suites
from odio.errors import OdioError
from odio.metrics import DATATHON_LABELS


def suite_with(**changes):
    """MINI with top-level keys replaced (a deep copy)."""
    data = copy.deepcopy(MINI)
    data.update(changes)
    return data


def one(functionality, **top):
    """A suite of MINI's lists and labels with a single functionality."""
    base = {"name": "f", "description": "d", "group": "g"}
    return suite_with(functionalities=[{**base, **functionality}], **top)


def test_templates_expand_to_the_cartesian_product(tmp_path):
    mini_suite_file = write_mini(tmp_path)
    suite = load_suite(mini_suite_file)
    dehumanising = suite.functionalities[0]
    assert [c.text for c in dehumanising.cases] == [
        "las mujeres son una plaga",
        "las mujeres son basura",
        "los peruanos son una plaga",
        "los peruanos son basura",
    ]
    assert [c.id for c in dehumanising.cases] == [f"dehumanising:{i}" for i in range(1, 5)]
    assert all(c.template == "{grupo} son {plaga}" for c in dehumanising.cases)
    assert len(suite.cases) == 10 and suite.groups == ["derogation", "negation", "profanity"]
    assert suite.source == str(mini_suite_file)


def test_the_target_follows_the_word():
    suite = parse_suite(MINI)
    first, third = suite.functionalities[0].cases[0], suite.functionalities[0].cases[2]
    assert first.expect == {"Odio": 1, "Mujeres": 1} and first.targets == ("Mujeres",)
    assert third.expect == {"Odio": 1, "Comunidades Migrantes": 1}
    negated = suite.functionalities[1].cases[0]
    assert negated.expect == {"Odio": 0, "Mujeres": 0}  # target 0: not the group of hate
    friendly = suite.functionalities[2].cases
    assert [c.text for c in friendly] == ["weón te quiero", "ya po culiao"]
    assert friendly[0].expect == {"Odio": 0} and friendly[0].target_group == "none"
    assert friendly[0].template is None


def test_literal_cases_fixed_targets_and_explicit_labels():
    suite = parse_suite(
        one(
            {
                "expect": {"Odio": 1, "target": 1},
                "target": "Mujeres",
                "cases": [
                    "mina tenía que ser",
                    {"text": "odio a las peruanas", "target": "Comunidades Migrantes"},
                ],
            }
        )
    )
    a, b = suite.cases
    assert a.expect == {"Odio": 1, "Mujeres": 1}
    assert b.targets == ("Mujeres", "Comunidades Migrantes")  # the functionality's and its own
    assert b.target_group == "Mujeres; Comunidades Migrantes"
    explicit = parse_suite(one({"expect": {"Odio": 0, "Mujeres": 0}, "cases": ["hola"]}))
    assert explicit.cases[0].expect == {"Odio": 0, "Mujeres": 0}


def test_a_placeholder_used_twice_takes_the_same_word_and_braces_escape():
    suite = parse_suite(one({"expect": {"Odio": 1}, "templates": ["{plaga}, {{sí}}, {plaga}"]}))
    assert [c.text for c in suite.cases] == ["una plaga, {sí}, una plaga", "basura, {sí}, basura"]


def test_union_lists():
    lists = {
        "a": ["uno"],
        "b": [{"text": "dos", "target": "Mujeres"}],
        "ab": {"union": ["a", "b"]},
    }
    data = one({"expect": {"Odio": 0}, "templates": ["hola {a}"]}, lists=lists)
    data["functionalities"].append(
        {
            "name": "u",
            "description": "d",
            "group": "g",
            "expect": {"Odio": 1, "target": 1},
            "target": "Comunidades Migrantes",
            "templates": ["{ab}"],
        }
    )
    suite = parse_suite(data)
    assert suite.lists["ab"] == ["uno", "dos"]
    assert [(c.text, c.targets) for c in suite.functionalities[1].cases] == [
        ("uno", ("Comunidades Migrantes",)),
        ("dos", ("Comunidades Migrantes", "Mujeres")),
    ]


def test_max_cases_is_shared_between_templates_and_deterministic():
    lists = {"x": [str(i) for i in range(30)], "y": ["a", "b"]}
    templates = ["uno {x} {x}", "dos {x} {y}", "tres {y}"]
    data = one({"expect": {"Odio": 1}, "templates": templates, "max_cases": 12}, lists=lists)
    suite = parse_suite(data)
    counts = Counter(c.template for c in suite.cases)
    assert counts == {"tres {y}": 2, "uno {x} {x}": 5, "dos {x} {y}": 5}
    assert [c.text for c in parse_suite(data).cases] == [c.text for c in suite.cases]
    other_seed = parse_suite({**data, "seed": 1})
    assert [c.text for c in other_seed.cases] != [c.text for c in suite.cases]
    data["functionalities"][0]["cases"] = ["literal"]
    assert len(parse_suite(data).cases) == 13  # literal cases are kept on top of the cap


def test_duplicates_are_dropped():
    lists = {"x": ["a", "a", "b"]}
    suite = parse_suite(
        one({"expect": {"Odio": 0}, "templates": ["{x}"], "cases": ["b"]}, lists=lists)
    )
    assert [c.text for c in suite.cases] == ["b", "a"]


def test_obfuscation_changes_only_the_named_slots():
    functionality = {
        "expect": {"Odio": 1, "target": 1},
        "templates": ["{grupo} son {plaga}"],
        "obfuscate": {"method": "leet", "slots": "grupo"},
    }
    suite = parse_suite(one(functionality))
    assert [c.text for c in suite.cases][:2] == [
        "las muj3r3s son una plaga",
        "las muj3r3s son basura",
    ]
    assert suite.functionalities[0].obfuscation == "leet"
    functionality["obfuscate"] = {"method": "nospace", "slots": ["grupo"]}
    functionality["templates"] = ["odio a {grupo} y ya"]
    assert parse_suite(one(functionality)).cases[0].text == "odio alasmujeresy ya"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"templates": ["{grupo} son {bichos}"]}, "uses {bichos}, which is not a list"),
        ({"templates": ["{grupo!r}"]}, "placeholders are list names in braces"),
        ({"templates": ["{grupo:>5}"]}, "placeholders are list names in braces"),
        ({"templates": ["{grupo"]}, "template '{grupo'"),
        ({"expect": {"HS": 1}}, "label 'HS' is not in the suite's labels"),
        ({"expect": {"Odio": 2}}, "expected values are 0 or 1"),
        ({"expect": {}}, "key 'expect'"),
        ({"target": "Gente"}, "label 'Gente' is not in the suite's labels"),
        ({"templates": [], "cases": []}, "no templates and no cases"),
        ({"templates": ["{plaga}"]}, "names no target group, but expect has 'target'"),
        ({"expect": {"Odio": 1}}, "but expect has no 'target' value"),
        ({"obfuscate": {"method": "rot13", "slots": ["grupo"]}}, "unknown method 'rot13'"),
        (
            {"obfuscate": {"method": "leet", "slots": ["plaga"]}, "templates": ["{grupo}"]},
            "none of the placeholders to obfuscate",
        ),
        ({"colour": "red"}, "key 'colour': unknown key"),
        ({"expect": {"Odio": 1, "Mujeres": 0, "target": 1}}, "which expect sets to 0"),
    ],
)
def test_mistakes_name_the_file_and_the_functionality(change, message):
    functionality = {"expect": {"Odio": 1, "target": 1}, "templates": ["{grupo} son {plaga}"]}
    with pytest.raises(OdioError, match=re.escape(message)) as info:
        parse_suite(one({**functionality, **change}), source="s.yaml")
    assert str(info.value).startswith("s.yaml: functionality 'f'")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1, 2], "a suite is a YAML mapping"),
        (suite_with(lists={"grupo": []}), "list 'grupo' is empty"),
        (suite_with(lists={"g": {"union": ["nada"]}}), "list 'g' joins 'nada'"),
        (
            suite_with(lists={"g": [{"text": "x", "target": "Otros"}]}),
            "list 'g', 'x': label 'Otros'",
        ),
        (suite_with(labels=[]), "key 'labels'"),
        (
            suite_with(functionalities=MINI["functionalities"] * 2),
            "'dehumanising': the name is used twice",
        ),
        ({k: v for k, v in MINI.items() if k != "name"}, "key 'name': missing"),
    ],
)
def test_suite_level_mistakes(data, message):
    with pytest.raises(OdioError, match=re.escape(message)):
        parse_suite(data, source="s.yaml")


def test_the_same_text_cannot_expect_two_things():
    data = copy.deepcopy(MINI)
    data["functionalities"][1]["cases"] = [{"text": "las mujeres son basura", "target": "Mujeres"}]
    with pytest.raises(OdioError, match="but case dehumanising:2 has the same text"):
        parse_suite(data)


def test_files_and_names(tmp_path):
    with pytest.raises(
        OdioError, match=r"no-such\.yaml: no such suite file or shipped suite \(shipped: es_cl"
    ):
        load_suite("no-such.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(OdioError, match="bad.yaml: cannot read the suite"):
        load_suite(bad)
    assert load_suite().name == load_suite("es_cl").name == "es_cl"


# --- the shipped Chilean-Spanish suite ---------------------------------------------------


@pytest.fixture(scope="module")
def es_cl():
    return load_suite("es_cl")


def test_shipped_suite_size_and_schema(es_cl):
    assert es_cl.labels == list(DATATHON_LABELS)
    assert len(es_cl.functionalities) >= 25 and len(es_cl.cases) >= 1500
    assert len({c.text for c in es_cl.cases}) == len(es_cl.cases)
    assert all(len(f.cases) >= 10 for f in es_cl.functionalities)
    assert len(load_suite("es_cl").cases) == len(es_cl.cases)  # stable


def test_every_case_carries_odio_and_its_target(es_cl):
    targets = set(DATATHON_LABELS[1:])
    for case in es_cl.cases:
        assert case.expect["Odio"] in (0, 1)
        assert set(case.targets) <= targets
        for label in case.targets:
            assert case.expect[label] == case.expect["Odio"]  # the group of the hate, if any
        if case.expect["Odio"] == 1:
            assert case.targets, case.id
    covered = Counter(t for c in es_cl.cases for t in c.targets if c.expect["Odio"] == 1)
    assert set(covered) == targets and min(covered.values()) >= 150
    neutral = Counter(t for c in es_cl.cases for t in c.targets if c.expect["Odio"] == 0)
    assert set(neutral) == targets and min(neutral.values()) >= 60


def test_shipped_suite_covers_the_issue(es_cl):
    groups = {f.group for f in es_cl.functionalities}
    assert {
        "derogation",
        "implicit",
        "threat",
        "slur",
        "profanity",
        "mention",
        "negation",
    } <= groups
    assert {"counter_speech", "non_protected", "obfuscation"} <= groups
    methods = {f.obfuscation for f in es_cl.functionalities} - {None}
    assert methods == {"swap", "drop", "leet", "spaces", "nospace", "emoji", "respell"}
    names = {f.name for f in es_cl.functionalities}
    for name in (
        "friendly_insults",
        "profanity_nonhateful",
        "negated_hate",
        "counter_speech_quote",
        "abuse_individual",
        "abuse_object",
        "abuse_nonprotected_group",
        "derogation_dehumanising",
        "derogation_implicit",
        "slur_use",
    ):
        assert name in names
    migrants = set(es_cl.lists["migrantes"])
    for word in ("peruanos", "bolivianos", "haitianos", "venezolanos", "colombianos"):
        assert f"los {word}" in migrants
    assert {"los mapuche", "los aymaras", "los rapa nui"} <= set(es_cl.lists["originarios"])
    friendly = " ".join(c.text for c in es_cl.cases if c.functionality == "friendly_insults")
    assert "weón" in friendly and "culiao" in friendly


def test_shipped_file_warns_and_is_evaluation_only():
    path = shipped_suites()["es_cl"]
    head = path.read_text(encoding="utf-8")[:600]
    assert "CONTENT WARNING" in head and "EVALUATION ONLY" in head
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["name"] == "es_cl"
