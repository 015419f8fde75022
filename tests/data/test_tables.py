"""Reading tables as shipped: TSV whose quotes are text except around a field holding a tab
or a line break (the EXIST 2021 files), several-character delimiters, lone surrogates in
JSON, and texts that are lists."""

from __future__ import annotations

import logging

import pytest

from odio.config import DataConfig
from odio.data import tables
from odio.data.labelled import load_labelled
from odio.data.tables import Table, iter_table, read_table
from odio.errors import OdioError

HEADER = "test_case\tid\tsource\tlanguage\ttext\ttask1\ttask2\n"
TEXTS = [
    "las mujeres a la cocina",
    'hola "amigo" chao',  # quotes inside an unquoted text: kept
    '"cita" al principio y al final "fin"',  # starts and ends with a quote: still as written
    'dijo "vuelve a la cocina',  # a quote never closed
    '"sola"',  # a quoted word alone: as written, as before
    "el partido estuvo bueno",
]
QUOTED = ["una línea con\tun tab dentro", 'con "comillas"\ty un tab', "dos\nlíneas"]
"""Texts the file holds as properly quoted fields (a tab or a line break inside)."""


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def exist_tsv(tmp_path, rows: int = 24):
    """An EXIST 2021-shaped TSV: unquoted texts with quotes inside, and quoted fields."""
    lines, texts = [HEADER], []
    for i in range(rows):
        if i % 8 == 3:
            text = QUOTED[(i // 8) % len(QUOTED)]
            shown = _quote(text)
        else:
            text = shown = TEXTS[i % len(TEXTS)] + f" {i}" * (i % 2)
        label = "sexist" if i % 2 else "non-sexist"
        lines.append(f"EXIST2021\t{6978 + i}\ttwitter\tes\t{shown}\t{label}\tother\n")
        texts.append(text)
    path = tmp_path / "EXIST2021_test_es.tsv"
    path.write_text("".join(lines), encoding="utf-8")
    return path, texts


def test_exist_tsv_reads_quoted_fields_and_keeps_other_quotes(tmp_path, caplog):
    path, texts = exist_tsv(tmp_path)
    with caplog.at_level(logging.INFO, logger="odio.data.tables"):
        frame = read_table(path)
    assert frame["text"].tolist() == texts
    assert frame["id"].tolist() == list(range(6978, 6978 + len(texts)))
    assert "3 rows held a quoted field" in caplog.text and "lines 5, 13, 21" in caplog.text


def test_exist_tsv_loses_no_row(tmp_path):
    path, texts = exist_tsv(tmp_path)
    data = load_labelled(path, DataConfig(labels=["task1"], positive=["sexist"]))
    assert data.report.rows_read == data.report.rows_used == len(texts)
    assert data.report.rows_dropped == 0 and data.texts == texts
    assert data.Y.ravel().tolist() == [i % 2 for i in range(len(texts))]


def test_exist_tsv_trains_and_evaluates(tmp_path):
    from odio.cli import main

    path, _ = exist_tsv(tmp_path, rows=30)
    out = tmp_path / "run"
    flags = ["--text-column", "text", "--labels", "task1", "--positive", "sexist"]
    assert main(["train", str(path), *flags, "--folds", "3", "--out", str(out), "-q"]) == 0
    assert main(["evaluate", str(out), str(path), "--json"]) == 0


@pytest.mark.parametrize("chunksize", [None, 2])
def test_tsv_read_in_chunks_gives_the_same_rows(tmp_path, chunksize):
    path, texts = exist_tsv(tmp_path)
    frames = list(iter_table(Table(path), chunksize=chunksize, as_text=True))
    assert sum(len(f) for f in frames) == len(texts)
    assert [t for f in frames for t in f["text"]] == texts


def test_tsv_from_standard_input(tmp_path, monkeypatch):
    import io
    import sys

    path, texts = exist_tsv(tmp_path)
    stdin = io.TextIOWrapper(io.BytesIO(path.read_bytes()))
    monkeypatch.setattr(sys, "stdin", stdin)
    assert read_table(Table("-", sep="tab"))["text"].tolist() == texts


@pytest.mark.parametrize(
    "content, message",
    [
        ("a\tb\tc\n1\t2\t3\t4\n", r"t.tsv: line 2 has 4 fields separated by '\\t' where the "),
        (
            'a\tb\tc\n1\t2\t3\n2\t"x" y\tz\tw\n',
            r"line 3 has 4 fields .* its quotes read as text or as delimiters",
        ),
    ],
)
def test_tsv_line_with_too_many_fields_is_named(tmp_path, content, message):
    path = tmp_path / "t.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(OdioError, match=message):
        read_table(path)


def test_tsv_open_quote_that_never_closes_is_text(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text('id\ttext\n1\t"abierta\n2\tb\n3\tc\n', encoding="utf-8")
    assert read_table(path)["text"].tolist() == ['"abierta', "b", "c"]


@pytest.mark.parametrize("sep", [";;", "||", "::"])
def test_a_delimiter_of_several_characters(tmp_path, sep):
    path = tmp_path / "t.csv"
    path.write_text(f'text{sep}Odio\nhola, "qué"{sep}1\nchao{sep}0\n', encoding="utf-8")
    frame = read_table(Table(path, sep=sep))
    assert frame["text"].tolist() == ['hola, "qué"', "chao"]
    assert frame["Odio"].tolist() == [1, 0]
    path.write_text(f"text{sep}Odio\na{sep}b{sep}1\n", encoding="utf-8")
    with pytest.raises(OdioError, match="line 2 has 3 fields"):
        read_table(Table(path, sep=sep))


def test_a_delimiter_with_a_quote_is_one_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("text,Odio\na,1\n", encoding="utf-8")
    with pytest.raises(OdioError, match="delimiter cannot"):
        read_table(Table(path, sep='"'))


@pytest.mark.parametrize("name", ["t.jsonl", "t.json"])
def test_lone_surrogates_in_json_become_replacement_characters(tmp_path, name, caplog):
    rows = ['{"text": "hola \\ud83d", "Odio": 1}', '{"text": "ok \\ud83d\\ude00", "Odio": 0}']
    body = "\n".join(rows) + "\n" if name.endswith("l") else "[" + ",".join(rows) + "]"
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    frame = read_table(path)
    assert frame["text"].tolist() == ["hola \ufffd", "ok \U0001f600"]
    assert "1 cells held a lone UTF-16 surrogate" in caplog.text


def test_not_text_names_what_a_cell_is():
    assert [tables.not_text(v) for v in ("a", "", None, 1.5, True, ["a"], {"a": 1})] == [
        None,
        "empty",
        "empty",
        "a number",
        "a boolean",
        "a list",
        "an object",
    ]


def test_a_list_as_text_is_reported_as_a_list(tmp_path, caplog):
    path = tmp_path / "t.jsonl"
    path.write_text(
        '{"text": ["a", "b"], "Odio": 1}\n{"text": "hola", "Odio": 1}\n'
        '{"text": "", "Odio": 0}\n{"text": ["c"], "Odio": 0}\n{"text": "chao", "Odio": 0}\n',
        encoding="utf-8",
    )
    data = load_labelled(path, DataConfig(labels=["Odio"]))
    assert data.texts == ["hola", "chao"]
    assert data.report.dropped == {"empty text": 1, "text is a list": 2}
    assert "dropped 2 rows whose text is a list, not text (rows 0, 3)" in caplog.text
    assert "dropped 1 rows with an empty text (rows 2)" in caplog.text
    with pytest.raises(OdioError, match=r"2 rows whose text is a list, not text \(rows 0, 3\)"):
        load_labelled(path, DataConfig(labels=["Odio"], strict=True))


@pytest.mark.parametrize("name, sep", [("t.tsv", None), ("t.csv", ";;")])
def test_bad_bytes_in_a_file_read_as_written_name_the_line(tmp_path, name, sep):
    path = tmp_path / name
    path.write_bytes(f"text{sep or chr(9)}Odio\ncaf\xe9{sep or chr(9)}0\n".encode("latin-1"))
    with pytest.raises(OdioError, match=r"cannot decode as utf-8 at byte \d+ \(line 2\)"):
        read_table(Table(path, sep=sep))
