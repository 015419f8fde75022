"""Checks of input files made before Ray reads them (no Ray needed)."""

from __future__ import annotations

import pytest

from odio.errors import OdioError
from odio.inference.ray_files import csv_header


def test_the_header_is_split_as_the_local_reader_splits_it(tmp_path):
    # a several-character --sep raised a TypeError from the csv module on the Ray path
    path = tmp_path / "t.csv"
    path.write_text("id;;text\n1;;hola\n", encoding="utf-8")
    assert csv_header(str(path), None, "csv", ";;", "utf-8") == (["id", "text"], ";;")
    tsv = tmp_path / "t.tsv"
    tsv.write_text('id\ttext\n1\t"cita" y mas\n', encoding="utf-8")
    assert csv_header(str(tsv), None, "tsv", None, "utf-8") == (["id", "text"], "\t")
    twice = tmp_path / "twice.csv"
    twice.write_text("text,text\nx,y\n", encoding="utf-8")
    with pytest.raises(OdioError, match="appears more than once"):
        csv_header(str(twice), None, "csv", None, "utf-8")
