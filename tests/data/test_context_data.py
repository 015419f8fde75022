"""Conversation context read with the data: the Datathon's tuple strings, plain ids, a
context column, missing references (counted, warned, never an error)."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from odio.config import ContextConfig, DataConfig, RunConfig
from odio.data.context import join_references, parse_references, read_context_file
from odio.data.labelled import load_labelled
from odio.errors import OdioError
from odio.text.context import split_context

A, B, C, GONE = (
    "1079883904318930944",
    "1079878275118350336",
    "1540796165968433152",
    "1999999999999999999",
)


@pytest.mark.parametrize(
    ("cell", "ids"),
    [
        (f"({A}, {B})", [A, B]),
        (f"({C},)", [C]),
        ("()", []),
        ("", []),
        (None, []),
        (float("nan"), []),
        (int(A), [A]),
        (f"[{A}, {B}]", [A, B]),
        ([int(A), B], [A, B]),
        ("12.0", ["12"]),
        (f"('{A}', '{B}')", [A, B]),
    ],
)
def test_references_are_read_in_order_as_text(cell, ids):
    assert parse_references(cell) == ids


def test_an_id_that_lost_its_digits_as_a_float_is_refused():
    with pytest.raises(OdioError, match="lost digits"):
        parse_references(float(A))


def test_references_are_joined_in_order_and_missing_ones_counted():
    lookup = {A: "primero", B: "segundo"}
    contexts, report = join_references(
        [f"({B}, {A})", f"({GONE}, {A})", "()", f"({GONE},)"], lookup, " | "
    )
    assert contexts == ["segundo | primero", "primero", None, None]
    assert (report.rows, report.rows_with_references, report.rows_with_context) == (4, 3, 2)
    assert (report.references, report.missing) == (5, 2)


@pytest.fixture
def datathon_like(tmp_path):
    """A train file shaped like the Datathon's (index column, 19-digit ids, tuple strings)
    and its referenced tweets, one reference missing from them."""
    refs = pd.DataFrame(
        {
            "tweet_id": [A, B, C],
            "author_id": ["1", "2", "3"],
            "conversation_id": ["0"] * 3,
            "text": ["llegan migrantes al norte", "otra marcha feminista", "hoy juega chile"],
        }
    )
    refs.to_csv(tmp_path / "refs.csv")
    train = pd.DataFrame(
        {
            "tweet_id": ["1", "2", "3", "4", "5"],
            "conversation_id": [f"({A}, {B})", "()", f"({C},)", f"({GONE}, {C})", "()"],
            "text": ["que se vayan todos", "buen dia", "vamos chile", "grande", "odio a todos"],
            "Odio": [3, 0, 0, 0, 2],
        }
    )
    train.to_csv(tmp_path / "train.csv")
    return tmp_path


def test_load_labelled_joins_the_context_file(datathon_like, caplog):
    config = DataConfig(labels=["Odio"], context={"path": str(datathon_like / "refs.csv")})
    with caplog.at_level(logging.WARNING, logger="odio"):
        data = load_labelled(datathon_like / "train.csv", config)
    assert data.contexts == [
        "llegan migrantes al norte | otra marcha feminista",
        None,
        "hoy juega chile",
        "hoy juega chile",
        None,
    ]
    assert data.tweets == [
        "que se vayan todos",
        "buen dia",
        "vamos chile",
        "grande",
        "odio a todos",
    ]
    assert split_context(data.texts[0]) == ("que se vayan todos", data.contexts[0])
    assert data.texts[1] == "buen dia"  # no context: the text as it is
    assert data.report.context["missing"] == 1 and data.report.context["references"] == 5
    assert data.report.context["rows_with_context"] == 3
    warning = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warning) == 1 and "1 of 5 references" in warning[0]


def test_a_plain_id_column_keeps_its_19_digits(tmp_path):
    # an empty cell makes pandas read the column as floats: the ids are read again as text
    pd.DataFrame({"id": [A, B], "text": ["ctx a", "ctx b"]}).to_csv(tmp_path / "r.csv", index=False)
    pd.DataFrame(
        {"text": ["uno", "dos", "tres"], "reply_to": [A, "", B], "Odio": [1, 0, 1]}
    ).to_csv(tmp_path / "t.csv", index=False)
    config = DataConfig(
        labels=["Odio"],
        context={"path": str(tmp_path / "r.csv"), "ref_column": "reply_to", "id_column": "id"},
    )
    data = load_labelled(tmp_path / "t.csv", config)
    assert data.contexts == ["ctx a", None, "ctx b"]
    assert data.report.context["missing"] == 0


def test_a_context_column_and_a_data_frame(tmp_path):
    frame = pd.DataFrame({"text": ["uno", "dos"], "parent": ["hola", None], "Odio": [1, 0]})
    data = load_labelled(frame, DataConfig(labels=["Odio"], context={"column": "parent"}))
    assert data.contexts == ["hola", None]
    assert data.report.context["rows_with_context"] == 1


def test_context_off_leaves_the_texts_alone(datathon_like):
    data = load_labelled(datathon_like / "train.csv", DataConfig(labels=["Odio"]))
    assert data.contexts is None and data.report.context is None
    assert data.texts == data.tweets


def test_context_mistakes_are_one_line(datathon_like):
    with pytest.raises(OdioError, match="not both"):
        RunConfig.from_dict({"data": {"context": {"path": "a.csv", "column": "b"}}})
    missing = DataConfig(labels=["Odio"], context={"path": str(datathon_like / "nope.csv")})
    with pytest.raises(OdioError, match="file not found"):
        load_labelled(datathon_like / "train.csv", missing)
    wrong = DataConfig(
        labels=["Odio"],
        context={"path": str(datathon_like / "refs.csv"), "ref_column": "parent_id"},
    )
    with pytest.raises(OdioError, match="parent_id"):
        load_labelled(datathon_like / "train.csv", wrong)
    with pytest.raises(OdioError, match="tweet"):
        read_context_file(ContextConfig(path=str(datathon_like / "refs.csv"), id_column="tweet"))


def test_context_flags_come_from_the_settings():
    from odio.config import FLAGS

    assert FLAGS["data.context.path"] == "--context"
    config = RunConfig.from_dict({"data": {"context": {"path": "refs.csv"}}})
    assert config.data.context.enabled and config.to_dict()["data"]["context"]["path"] == "refs.csv"
    assert not RunConfig().data.context.enabled
