from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from odio.config import DataConfig
from odio.data.labelled import load_labelled
from odio.data.tables import read_table
from odio.errors import OdioError

LABELS = ["Odio", "Mujeres"]


def write(tmp_path, name: str, content: str | bytes):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def cfg(**kw) -> DataConfig:
    return DataConfig(labels=LABELS, **kw)


def test_reads_votes_and_binarises_at_min_votes(tmp_path):
    p = write(tmp_path, "t.csv", "text,Odio,Mujeres\na,3,2\nb,1,0\nc,2,1\n")
    data = load_labelled(p, cfg())
    assert data.Y.tolist() == [[1, 1], [0, 0], [1, 0]]
    assert data.report.label_format == "votes"
    assert load_labelled(p, cfg(min_votes=1)).Y.tolist() == [[1, 1], [1, 0], [1, 1]]


def test_binary_labels_are_kept_as_they_are(tmp_path):
    p = write(tmp_path, "t.csv", "text,Odio,Mujeres\na,1,1\nb,0,0\n")
    data = load_labelled(p, cfg())
    assert data.Y.tolist() == [[1, 1], [0, 0]]
    assert data.report.label_format == "binary"


def test_leading_unnamed_index_column_is_dropped(tmp_path):
    p = write(tmp_path, "t.csv", ",text,Odio,Mujeres\n0,a,3,2\n1,b,0,0\n")
    assert list(read_table(p).columns) == ["text", "Odio", "Mujeres"]
    assert load_labelled(p, cfg()).texts == ["a", "b"]


def test_jsonl_and_parquet(tmp_path):
    frame = pd.DataFrame({"text": ["a", "b"], "Odio": [3, 0], "Mujeres": [2, 0]})
    jsonl = tmp_path / "t.jsonl"
    frame.to_json(jsonl, orient="records", lines=True)
    parquet = tmp_path / "t.parquet"
    frame.to_parquet(parquet)
    for path in (jsonl, parquet):
        assert load_labelled(path, cfg()).Y.tolist() == [[1, 1], [0, 0]]


def test_single_label_run(tmp_path):
    p = write(tmp_path, "t.csv", "text,Odio,Mujeres\na,3,0\nb,0,0\n")
    data = load_labelled(p, DataConfig(labels=["Odio"]))
    assert data.Y.shape == (2, 1)


def test_empty_texts_are_dropped_and_counted(tmp_path, caplog):
    p = write(tmp_path, "t.csv", 'text,Odio,Mujeres\na,3,2\n,0,0\n"  ",1,0\nd,0,0\n')
    data = load_labelled(p, cfg())
    assert data.texts == ["a", "d"]
    assert (data.report.rows_read, data.report.rows_used, data.report.rows_dropped) == (4, 2, 2)
    assert data.rows.tolist() == [0, 3]  # 0-based positions in the file
    assert "dropped 2 rows with an empty text (rows 1, 2)" in caplog.text
    assert "4 rows read, 2 used, 2 dropped" in data.report.summary()


def test_strict_rejects_empty_texts(tmp_path):
    p = write(tmp_path, "t.csv", "text,Odio,Mujeres\na,3,2\n,0,0\n")
    with pytest.raises(OdioError, match=r"t.csv: 1 rows have an empty text \(rows 1\)"):
        load_labelled(p, cfg(strict=True))


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("missing.csv", None, r"file not found: .*missing.csv"),
        ("empty.csv", "", r"empty.csv is empty"),
        ("header.csv", "text,Odio,Mujeres\n", r"header.csv has a header but no rows"),
        (
            "nocol.csv",
            "tweet,Odio,Mujeres\na,1,1\n",
            r"nocol.csv: column 'text' not found; the file has: 'tweet', 'Odio', 'Mujeres'",
        ),
        (
            "nolabel.csv",
            "text,Odio\na,1\n",
            r"nolabel.csv: column 'Mujeres' not found; the file has: 'text', 'Odio'",
        ),
        (
            "nonnum.csv",
            "text,Odio,Mujeres\na,1,1\nb,si,0\n",
            r"nonnum.csv: label column 'Odio' row 1 has the value 'si'.*--positive",
        ),
        (
            "nan.csv",
            "text,Odio,Mujeres\na,1,\n",
            r"nan.csv: label column 'Mujeres' row 0 has an empty value",
        ),
        ("neg.csv", "text,Odio,Mujeres\na,1,-1\n", r"neg.csv: label column 'Mujeres' row 0 is neg"),
        (
            "zeros.csv",
            "text,Odio,Mujeres\na,3,0\nb,0,1\n",
            r"zeros.csv: label 'Mujeres' has no positive row \(min_votes=2\)",
        ),
        (
            "bytes.csv",
            b"text,Odio,Mujeres\na,1,1\ncaf\xe9,0,0\n",
            r"bytes.csv: cannot decode as utf-8 at byte 27 \(line 3\).*--encoding",
        ),
        ("bad.xlsx", "x", r"unknown file type '.xlsx'"),
        (
            "bad.jsonl",
            '{"text": "a", "Odio": 1, "Mujeres": 1}\n{"text": "a"\n',
            r"bad.jsonl: line 2 is not valid JSON",
        ),
        ("list.jsonl", '{"text": "a", "Odio": [1], "Mujeres": 1}\n', r"row 0 has the value \[1\]"),
        (
            "frac.csv",
            "text,Odio,Mujeres\na,2.5,1\nb,0,3\n",
            r"row 0 holds 2.5, which is not a vote count",
        ),
        (
            "huge.csv",
            "text,Odio,Mujeres\na,1e9,1\nb,0,3\n",
            r"holds 1e\+09, which is not a vote count",
        ),
        ("inf.csv", "text,Odio,Mujeres\na,inf,1\n", r"row 0 has the value"),
        ("dup.csv", "text,Odio,Mujeres,Odio\na,1,1,0\n", r"column 'Odio' appears more than once"),
        ("quote.csv", 'text,Odio,Mujeres\n"a,1,1\nb,0,0\n', r"quote.csv: not valid CSV"),
        ("bad.parquet", "not parquet", r"bad.parquet: not a readable Parquet file"),
    ],
)
def test_bad_input_gives_a_clear_error(tmp_path, name, content, message):
    path = tmp_path / name if content is None else write(tmp_path, name, content)
    with pytest.raises(OdioError, match=message):
        load_labelled(path, cfg())


def test_other_encoding_can_be_given(tmp_path):
    p = write(tmp_path, "t.csv", "text,Odio,Mujeres\ncafé,3,3\n".encode("latin-1"))
    assert load_labelled(p, cfg(encoding="latin-1")).texts == ["café"]


def test_all_zero_label_is_allowed_outside_training(tmp_path):
    p = write(tmp_path, "t.csv", "text,Odio,Mujeres\na,1,0\n")
    assert np.array_equal(load_labelled(p, cfg(), training=False).Y, [[1, 0]])


def test_unknown_encoding_is_named(tmp_path):
    p = write(tmp_path, "t.csv", "text,Odio,Mujeres\na,1,1\n")
    with pytest.raises(OdioError, match="unknown encoding 'utf-9'"):
        load_labelled(p, cfg(encoding="utf-9"))


def test_tsv_keeps_quotes_and_reads_ids(tmp_path):
    p = write(
        tmp_path,
        "hateval.tsv",
        'id\ttext\tHS\n201\t"Vete a tu país" dijo\t1\n202\tqué "lindo" día\t0\n',
    )
    data = load_labelled(p, DataConfig(labels=["HS=Odio"]))
    assert data.texts == ['"Vete a tu país" dijo', 'qué "lindo" día']
    assert data.ids == ["201", "202"] and data.report.id_column == "id"
    assert data.labels == ["Odio"] and data.Y.ravel().tolist() == [1, 0]
    assert data.report.label_format == "binary"


@pytest.mark.parametrize(
    "name, content",
    [
        ("semi.csv", "text;Odio;Mujeres\nhola, qué tal;3;0\nb;0;2\n"),
        ("tab.csv", "text\tOdio\tMujeres\nhola, qué tal\t3\t0\nb\t0\t2\n"),
        ("comma.csv", 'text,Odio,Mujeres\n"hola, qué tal",3,0\nb,0,2\n'),
    ],
)
def test_the_delimiter_is_found_from_the_header(tmp_path, name, content):
    data = load_labelled(write(tmp_path, name, content), cfg())
    assert data.texts == ["hola, qué tal", "b"] and data.Y.tolist() == [[1, 0], [0, 1]]


def test_sep_can_be_given(tmp_path):
    p = write(tmp_path, "t.txt.csv", "text|Odio|Mujeres\na|3|2\n")
    assert load_labelled(p, cfg(sep="|")).Y.tolist() == [[1, 1]]
    assert load_labelled(
        write(tmp_path, "u.csv", "text\tOdio\tMujeres\na\t3\t2\n"), cfg(sep="tab")
    ).texts == ["a"]


def test_text_labels_with_positive_or_a_map(tmp_path):
    p = write(
        tmp_path, "exist.csv", "tweet,task1\nlas minas no,sexist\nhola,non-sexist\nx,sexist\n"
    )
    config = DataConfig(text_column="tweet", labels=["task1=Odio"], positive=["sexist"])
    data = load_labelled(p, config)
    assert data.Y.ravel().tolist() == [1, 0, 1] and data.report.label_format == "text"
    mapped = DataConfig(
        text_column="tweet", labels=["task1=Odio"], label_map={"sexist": 1, "non-sexist": 0}
    )
    assert load_labelled(p, mapped).Y.ravel().tolist() == [1, 0, 1]
    with pytest.raises(OdioError, match="never holds 'sexista'.*'non-sexist', 'sexist'"):
        load_labelled(p, DataConfig(text_column="tweet", labels=["task1"], positive=["sexista"]))
    with pytest.raises(OdioError, match="holds 'non-sexist', which label_map does not map"):
        load_labelled(p, DataConfig(text_column="tweet", labels=["task1"], label_map={"x": 1}))
    with pytest.raises(OdioError, match="--positive.*'sexist', 'non-sexist'"):
        load_labelled(p, DataConfig(text_column="tweet", labels=["task1"]))


def test_json_array(tmp_path):
    p = write(
        tmp_path,
        "t.json",
        '[{"text": "a", "Odio": 1, "Mujeres": 0}, {"text": "b", "Odio": 0, "Mujeres": 1}]',
    )
    assert load_labelled(p, cfg()).Y.tolist() == [[1, 0], [0, 1]]
    lines = write(tmp_path, "u.json", '{"text": "a", "Odio": 1, "Mujeres": 0}\n')
    assert load_labelled(lines, cfg(), training=False).texts == ["a"]


def test_label_format_can_be_forced(tmp_path):
    """A vote file whose votes happen to be 0/1 is read as votes when asked."""
    p = write(tmp_path, "t.csv", "text,Odio,Mujeres\na,1,1\nb,0,0\n")
    data = load_labelled(p, cfg(label_format="votes"), training=False)
    assert data.Y.tolist() == [[0, 0], [0, 0]] and data.report.label_format == "votes"
    assert "labels: votes >= 2" in data.report.summary()
    assert "labels: binary" in load_labelled(p, cfg()).report.summary()
