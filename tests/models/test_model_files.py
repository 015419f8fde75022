"""A model folder is data (second part): no link leads out of it, every key is checked.

Each case copies a real model directory (TF-IDF, the tiny encoder or its int8 export),
changes one thing, and loads it: a link to a valid copy outside the folder would load, so
only the rule refuses it; a bad key is one line naming the file and the key.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from odio.cli import main
from odio.errors import OdioError
from odio.inference.detector import Detector


def copy_model(source: Path, tmp_path: Path) -> Path:
    source = source / "model" if (source / "model" / "config.json").exists() else source
    return Path(shutil.copytree(source, tmp_path / "model"))


def link_outside(model: Path, part: str, tmp_path: Path) -> Path:
    """Move ``model/part`` out of the model and leave a link to it in its place."""
    outside = tmp_path / "elsewhere" / part.replace("/", "_")
    outside.parent.mkdir(exist_ok=True)
    shutil.move(model / part, outside)
    (model / part).symlink_to(outside, target_is_directory=outside.is_dir())
    return outside


def edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def one_line_error(capsys, model: Path) -> str:
    assert main(["predict", str(model), "--text", "hola"]) == 2
    lines = capsys.readouterr().err.replace("\r", "\n").splitlines()
    err = [line for line in lines if line.strip() and "Loading weights" not in line]
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


# -- links -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "which, part",
    [
        ("tfidf", "fold_0"),
        ("tfidf", "fold_1/vocabulary.json"),
        ("tfidf", "fold_0/weights.safetensors"),
        ("encoder", "fold_1"),
        ("encoder", "fold_0/model.safetensors"),
        ("encoder", "tokenizer/tokenizer.json"),
        ("encoder", "tokenizer"),
        ("int8", "fold_0/model.int8.onnx"),
        ("int8", "tokenizer/tokenizer.json"),
    ],
)
def test_a_link_out_of_the_model_folder_is_refused(
    which, part, tfidf_run, tiny_run, tiny_onnx, tmp_path, capsys
):
    source = {"tfidf": tfidf_run, "encoder": tiny_run, "int8": tiny_onnx["int8"]}[which]
    model = copy_model(source, tmp_path)
    outside = link_outside(model, part, tmp_path)
    with pytest.raises(OdioError, match="outside the model directory"):
        Detector.load(model)
    error = one_line_error(capsys, model)
    assert f"{model / part} links to {outside}, outside the model directory" in error


def test_a_link_inside_the_model_folder_is_followed(tfidf_run, tmp_path):
    model = copy_model(tfidf_run, tmp_path)
    shutil.rmtree(model / "fold_1")
    (model / "fold_1").symlink_to("fold_0", target_is_directory=True)
    (model / "fold_2" / "vocabulary.json").unlink()
    (model / "fold_2" / "vocabulary.json").symlink_to("../fold_0/vocabulary.json")
    (model / "fold_2" / "weights.safetensors").unlink()
    (model / "fold_2" / "weights.safetensors").symlink_to(model / "fold_0/weights.safetensors")
    assert Detector.load(model).predict_proba(["hola"]).shape == (1, 5)


def test_a_loop_of_links_is_one_line(tfidf_run, tmp_path, capsys):
    model = copy_model(tfidf_run, tmp_path)
    (model / "a").symlink_to("b")
    (model / "b").symlink_to("a")
    assert "model/a" in one_line_error(capsys, model)


# -- keys --------------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", ["bogus", 3, None])
def test_an_unknown_decision_rule_is_one_line(rule, tfidf_run, tmp_path, capsys):
    model = copy_model(tfidf_run, tmp_path)
    edit_json(model / "config.json", lambda c: c.update(decision_rule=rule))
    error = one_line_error(capsys, model)
    assert f"{model / 'config.json'}: key 'decision_rule' must be one of independent" in error


@pytest.mark.parametrize("which", ["encoder", "int8"])
@pytest.mark.parametrize("n_labels", [3, 6, 0, "5", None])
def test_n_labels_of_a_member_must_match_the_labels(
    which, n_labels, tiny_run, tiny_onnx, tmp_path, capsys
):
    model = copy_model(tiny_run if which == "encoder" else tiny_onnx["int8"], tmp_path)
    edit_json(model / "fold_1" / "odio_head.json", lambda m: m.update(n_labels=n_labels))
    error = one_line_error(capsys, model)
    assert f"{model / 'fold_1' / 'odio_head.json'}: key 'n_labels'" in error


def test_n_labels_must_match_the_onnx_graph(tiny_onnx, tmp_path, capsys):
    model = copy_model(tiny_onnx["int8"], tmp_path)
    edit_json(model / "config.json", lambda c: c.update(labels=c["labels"][:3]))
    edit_json(model / "fold_0" / "odio_head.json", lambda m: m.update(n_labels=3))
    error = one_line_error(capsys, model)
    assert "key 'n_labels' is 3, but model.int8.onnx scores 5 labels" in error


@pytest.mark.parametrize("which", ["encoder", "int8"])
@pytest.mark.parametrize("max_length", [100000, 0, -5, 1.5, "64", None])
def test_max_length_must_fit_the_encoder(which, max_length, tiny_run, tiny_onnx, tmp_path, capsys):
    model = copy_model(tiny_run if which == "encoder" else tiny_onnx["int8"], tmp_path)
    edit_json(model / "fold_0" / "odio_head.json", lambda m: m.update(max_length=max_length))
    error = one_line_error(capsys, model)
    assert f"{model / 'fold_0' / 'odio_head.json'}: key 'max_length' must be" in error


@pytest.mark.parametrize(
    "key, value",
    [
        ("head", "bogus"),
        ("config", {"pooling": "bogus"}),
        ("config", None),
        ("base_model", 3),
        ("seed", "x"),
        ("history", "x"),
    ],
)
def test_every_key_of_an_encoder_head_file_is_checked(key, value, tiny_run, tmp_path, capsys):
    model = copy_model(tiny_run, tmp_path)
    edit_json(model / "fold_0" / "odio_head.json", lambda m: m.update({key: value}))
    error = one_line_error(capsys, model)
    assert f"{model / 'fold_0' / 'odio_head.json'}: key {key!r}" in error


@pytest.mark.parametrize(
    "file, change, shown",
    [
        ("config.json", lambda m: m.update(config={"min_df": "x"}), "key 'config'"),
        ("config.json", lambda m: m.update(seed="x"), "key 'seed'"),
        ("vocabulary.json", lambda v: v.update(char="abc"), "key 'char'"),
        ("vocabulary.json", lambda v: v.pop("word"), "key 'word'"),
        ("vocabulary.json", lambda v: v["word"].append(3), "key 'word'"),
        ("vocabulary.json", lambda v: v["word"].append(v["word"][0]), "key 'word'"),
    ],
)
def test_every_key_of_a_tfidf_member_is_checked(file, change, shown, tfidf_run, tmp_path, capsys):
    model = copy_model(tfidf_run, tmp_path)
    edit_json(model / "fold_0" / file, change)
    assert f"{model / 'fold_0' / file}: {shown}" in one_line_error(capsys, model)


# -- code shipped with a model -----------------------------------------------------------------


def test_every_transformers_load_refuses_code_shipped_with_the_model(
    tiny_run, tiny_encoder, tiny_checkpoints, monkeypatch
):
    import transformers

    from odio.models.hub import pretrained

    calls = []
    for name in ("AutoConfig", "AutoModel", "AutoModelForSequenceClassification", "AutoTokenizer"):
        auto = getattr(transformers, name)
        original = auto.from_pretrained.__func__

        def record(cls, *args, _original=original, _name=name, **kwargs):
            calls.append((_name, kwargs.get("trust_remote_code", "unset")))
            return _original(cls, *args, **kwargs)

        monkeypatch.setattr(auto, "from_pretrained", classmethod(record))
    Detector.load(tiny_run, runtime="torch")
    for what in ("encoder", "tokenizer", "config"):
        pretrained(str(tiny_encoder), what)
    pretrained(str(next(iter(tiny_checkpoints.values()))), "classifier")
    assert {name for name, _ in calls} >= {"AutoModel", "AutoTokenizer", "AutoConfig"}
    assert {trust for _, trust in calls} == {False}, calls


@pytest.mark.parametrize(
    "key, value, shown",
    [
        ("base_model", 3, "base_model"),
        ("versions", "x", "versions"),
        ("versions", {"torch": 3}, "versions.torch"),
        ("odio_version", 3, "odio_version"),
        ("metrics", "x", "metrics"),
        ("metrics", {"test": 3}, "metrics.test"),
        ("distilled_from", 3, "distilled_from"),
    ],
)
def test_every_key_of_config_json_read_on_load_is_checked(
    key, value, shown, tfidf_run, tmp_path, capsys
):
    model = copy_model(tfidf_run, tmp_path)
    edit_json(model / "config.json", lambda c: c.update({key: value}))
    error = one_line_error(capsys, model)
    assert f"{model / 'config.json'}: key {shown!r} must be" in error
    assert main(["info", str(model)]) == 2
