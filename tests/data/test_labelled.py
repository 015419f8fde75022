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
    assert data.rows.tolist() == [1, 4]
    assert "dropped 2 rows with an empty text (rows 2, 3)" in caplog.text
    assert "4 rows read, 2 used, 2 dropped" in data.report.summary()


def test_strict_rejects_empty_texts(tmp_path):
    p = write(tmp_path, "t.csv", "text,Odio,Mujeres\na,3,2\n,0,0\n")
    with pytest.raises(OdioError, match=r"t.csv: 1 rows have an empty text \(rows 2\)"):
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
            r"nonnum.csv: label column 'Odio' row 2 has non-numeric value 'si'",
        ),
        (
            "nan.csv",
            "text,Odio,Mujeres\na,1,\n",
            r"nan.csv: label column 'Mujeres' row 1 has an empty value",
        ),
        ("neg.csv", "text,Odio,Mujeres\na,1,-1\n", r"neg.csv: label column 'Mujeres' row 1 is neg"),
        (
            "zeros.csv",
            "text,Odio,Mujeres\na,3,0\nb,0,1\n",
            r"zeros.csv: label column 'Mujeres' has no positive row \(min_votes=2\)",
        ),
        (
            "bytes.csv",
            b"text,Odio,Mujeres\na,1,1\ncaf\xe9,0,0\n",
            r"bytes.csv: cannot decode as utf-8 at byte 27 \(line 3\).*--encoding",
        ),
        ("bad.xlsx", "x", r"unknown file type '.xlsx'"),
        ("bad.jsonl", '{"text": "a"\n', r"bad.jsonl: not valid JSON Lines"),
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
