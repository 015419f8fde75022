from __future__ import annotations

import pytest

from odio.config import RunConfig
from odio.errors import OdioError


def test_yaml_round_trip(tmp_path):
    cfg = RunConfig.from_dict(
        {
            "cv": {"folds": 3},
            "data": {"labels": ["Odio"], "min_votes": 1},
            "preprocess": {"emoji": False},
            "tfidf": {"C": 3},
        }
    )
    cfg.to_yaml(tmp_path / "run.yaml")
    again = RunConfig.from_yaml(tmp_path / "run.yaml")
    assert again == cfg
    assert again.tfidf.C == 3.0 and again.tfidf.char_ngrams == (2, 5)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"cv": {"fold": 3}}, "unknown setting 'cv.fold'; valid settings here: folds, seed"),
        ({"cv": {"folds": "3"}}, "setting 'cv.folds' must be int"),
        ({"cv": {"folds": 1}}, "cv.folds must be >= 2"),
        ({"data": {"min_votes": 0}}, "data.min_votes must be >= 1"),
        ({"tfidf": {"char_ngrams": [5, 2]}}, "tfidf.char_ngrams must be"),
        ({"modle": "tfidf"}, "unknown setting 'modle'"),
    ],
)
def test_bad_settings_are_named(data, message):
    with pytest.raises(OdioError, match=message):
        RunConfig.from_dict(data)


def test_bad_yaml_file(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("cv: [1, 2\n")
    with pytest.raises(OdioError, match="run.yaml: not valid YAML"):
        RunConfig.from_yaml(path)
    with pytest.raises(OdioError, match="config file not found"):
        RunConfig.from_yaml(tmp_path / "nope.yaml")
