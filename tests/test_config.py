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
        (
            {"cv": {"fold": 3}},
            r"unknown setting 'cv.fold'; did you mean 'cv.folds'\? \(cv takes: folds, seed",
        ),
        ({"cv": {"folds": "three"}}, r"setting 'cv.folds' \(--folds\): input should be a valid"),
        (
            {"cv": {"folds": 0}},
            r"'cv.folds' \(--folds\): input should be greater than or equal to 1",
        ),
        ({"data": {"min_votes": 0}}, r"'data.min_votes' \(--min-votes\): .* equal to 1, got 0"),
        ({"tfidf": {"char_ngrams": [5, 2]}}, "'tfidf.char_ngrams': must be"),
        ({"modle": "tfidf"}, "unknown setting 'modle'; did you mean 'model'"),
        ({"preprocess": {"emoji": "maybe"}}, "'preprocess.emoji': input should be a valid boolean"),
        ({"transformer": {"pooling": "max"}}, "'transformer.pooling': input should be 'mean' or"),
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


def test_values_are_read_as_people_write_them(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("transformer: {lr: 3e-5, devices: 2}\ncv: {folds: '3'}\n")
    cfg = RunConfig.from_yaml(path)
    assert cfg.transformer.lr == 3e-5 and cfg.transformer.devices == "2" and cfg.cv.folds == 3


def test_every_flag_names_a_setting_with_help():
    from odio.cli.flags import setting_default, setting_help
    from odio.config import FLAGS

    for key in FLAGS:
        assert setting_help(key), key
        setting_default(key)  # raises for a key that is not a setting


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", float("nan"), float("inf")])
def test_non_finite_numbers_are_refused(value):
    with pytest.raises(OdioError, match=r"'transformer.lr' \(--lr\): input should be a finite"):
        RunConfig.from_dict({"transformer": {"lr": value}})
    with pytest.raises(OdioError, match="'tfidf.C': input should be a finite number"):
        RunConfig.from_dict({"tfidf": {"C": value}})


def test_ngram_ranges_are_bounded():
    # issue 26: char_ngrams [1, 400] was accepted, and one 3,000-character word took RSS
    # from 219 to 502 MB
    from odio.config import RunConfig
    from odio.errors import OdioError

    with pytest.raises(OdioError, match="high <= 10"):
        RunConfig.from_dict({"tfidf": {"char_ngrams": [1, 400]}})
    assert RunConfig.from_dict({"tfidf": {"char_ngrams": [2, 10]}}).tfidf.char_ngrams == (2, 10)
