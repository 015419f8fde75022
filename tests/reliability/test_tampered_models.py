"""A model folder is data: a doctored one is refused with one line, and never runs code.

Each case copies a real model directory (TF-IDF, the tiny encoder, its ONNX export or a
stack of both), changes one thing the way an attacker or a broken copy would, and loads it.
"""

from __future__ import annotations

import builtins
import json
import math
import pickle
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from odio.cli import main
from odio.errors import OdioError
from odio.inference.detector import Detector
from odio.models.modeldir import save_model
from odio.models.stack import Stack, StackMeta


class Payload:
    """Unpickling this touches ``marker``: proof that a pickle was loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def copy_model(source: Path, tmp_path: Path, name: str = "model") -> Path:
    source = source / "model" if (source / "model" / "config.json").exists() else source
    return Path(shutil.copytree(source, tmp_path / name))


def edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


@pytest.fixture
def no_prompt(monkeypatch):
    """Fail the test if anything asks the user (transformers' "run this code? [y/N]")."""

    def refuse(*args, **kwargs):
        raise AssertionError("odio asked the user a question while loading a model")

    monkeypatch.setattr(builtins, "input", refuse)
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("y\ny\ny\n"))


@pytest.fixture
def answer_yes(monkeypatch):
    """Answer "y" to any question, as a user at a terminal might: transformers' "run this
    code? [y/N]" then runs the folder's code unless odio passes ``trust_remote_code=False``."""
    monkeypatch.setattr(builtins, "input", lambda *args, **kwargs: "y")
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("y\ny\ny\n"))


def one_line_error(capsys, argv) -> str:
    assert main(argv) == 2
    lines = capsys.readouterr().err.replace("\r", "\n").splitlines()
    err = [line for line in lines if line.strip() and "Loading weights" not in line]
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


@pytest.fixture(scope="module")
def stack_model(tmp_path_factory, tfidf_run, tiny_run) -> Path:
    """A stack of the TF-IDF and tiny encoder models, saved (no training)."""
    tfidf, tiny = Detector.load(tfidf_run), Detector.load(tiny_run)
    n = len(tfidf.labels)
    meta = StackMeta("label", [[1.0, 0.5]] * n, [0.0] * n)
    stack = Stack(
        [tfidf.model, tiny.model],
        meta,
        specs=["tfidf", "tiny"],
        base_thresholds=[tfidf.thresholds, tiny.thresholds],
    )
    folder = tmp_path_factory.mktemp("stack") / "model"
    save_model(folder, stack, tfidf.labels, np.full(n, 0.5), {})
    return folder


# -- pickles and code ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "which, weights",
    [
        ("tfidf", "fold_0/weights.safetensors"),
        ("encoder", "fold_0/model.safetensors"),
        ("encoder", "fold_0/odio_head.safetensors"),
        ("encoder", "pytorch_model.bin"),  # a pickle beside, safetensors removed
    ],
)
def test_a_pickle_in_place_of_weights_is_refused_and_never_loaded(
    which, weights, tfidf_run, tiny_run, tmp_path, no_prompt, capsys
):
    model = copy_model(tfidf_run if which == "tfidf" else tiny_run, tmp_path)
    marker = tmp_path / "PWNED"
    if weights == "pytorch_model.bin":
        for fold in ("fold_0", "fold_1"):
            (model / fold / "model.safetensors").unlink()
            (model / fold / weights).write_bytes(pickle.dumps(Payload(marker)))
    else:
        (model / weights).write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(OdioError, match="cannot load this part of the model|never pickled"):
        Detector.load(model)
    error = one_line_error(capsys, ["explain", str(model), "hola"])
    assert "fold_0" in error
    assert not marker.exists()


def test_auto_map_with_an_unknown_model_type_runs_no_code(tiny_run, tmp_path, answer_yes, capsys):
    model = copy_model(tiny_run, tmp_path)
    marker = tmp_path / "PWNED"
    code = f"import pathlib\npathlib.Path({str(marker)!r}).touch()\n"

    def doctor(config):
        config["model_type"] = "evil"
        config["architectures"] = ["EvilModel"]
        config["auto_map"] = {"AutoConfig": "evil.EvilConfig", "AutoModel": "evil.EvilModel"}

    for fold in ("fold_0", "fold_1"):
        (model / fold / "evil.py").write_text(code)
        edit_json(model / fold / "config.json", doctor)
    error = one_line_error(capsys, ["explain", str(model), "hola"])
    assert not marker.exists()
    assert "fold_0: cannot load this part of the model" in error and "custom code" in error


def test_a_tokenizer_with_auto_map_runs_no_code(tiny_run, tmp_path, answer_yes):
    model = copy_model(tiny_run, tmp_path)
    marker = tmp_path / "PWNED"
    (model / "tokenizer" / "evil.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).touch()\n"
    )

    def doctor(config):
        config["tokenizer_class"] = "EvilTokenizer"
        config["auto_map"] = {"AutoTokenizer": [None, "evil.EvilTokenizer"]}

    edit_json(model / "tokenizer" / "tokenizer_config.json", doctor)
    with pytest.raises(OdioError, match="tokenizer: cannot load this part of the model"):
        Detector.load(model)
    assert not marker.exists()


# -- paths -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../outside", "/etc", ".", "..", "fold_0/../../x", "", 3, None])
def test_member_folders_must_lie_inside_the_model(name, tfidf_run, tmp_path, capsys):
    model = copy_model(tfidf_run, tmp_path)
    (tmp_path / "outside").mkdir()
    edit_json(model / "config.json", lambda c: c.update(members=[name]))
    error = one_line_error(capsys, ["explain", str(model), "hola"])
    assert "config.json names" in error and "folder name inside the model directory" in error


@pytest.mark.parametrize("name", [".", "..", "/etc", "../model"])
def test_stack_bases_must_lie_inside_the_stack(name, stack_model, tmp_path, capsys):
    model = copy_model(stack_model, tmp_path)
    edit_json(model / "config.json", lambda c: c["bases"][1].update(dir=name))
    error = one_line_error(capsys, ["explain", str(model), "hola"])
    assert "config.json names" in error  # "." once ended in RecursionError


def test_a_stack_base_cannot_be_a_stack(stack_model, tmp_path, capsys):
    model = copy_model(stack_model, tmp_path)
    shutil.rmtree(model / "base_1")
    shutil.copytree(stack_model, model / "base_1")
    assert "a stack base cannot itself be a stack" in one_line_error(
        capsys, ["explain", str(model), "hola"]
    )


@pytest.mark.parametrize("file", ["../../../etc/passwd", "/etc/passwd", "model.onnx/.."])
def test_an_onnx_member_opens_only_its_own_graph(file, tiny_onnx, tmp_path):
    model = copy_model(tiny_onnx["fp32"], tmp_path)
    edit_json(model / "fold_0" / "odio_head.json", lambda m: m["onnx"].update(file=file))
    with pytest.raises(OdioError, match="names ONNX file"):
        Detector.load(model)


# -- the config ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, shown",
    [
        (1.5, "1.5"),
        (-0.5, "-0.5"),
        (float("nan"), "nan"),
        (None, "None"),
        (float("inf"), "inf"),
        ("0.5", "'0.5'"),
        (True, "True"),
        ([0.5], "[0.5]"),
    ],
)
def test_thresholds_must_be_numbers_between_0_and_1(value, shown, tfidf_run, tmp_path, capsys):
    model = copy_model(tfidf_run, tmp_path)
    edit_json(model / "config.json", lambda c: c["thresholds"].update(Odio=value))
    error = one_line_error(capsys, ["explain", str(model), "hola"])
    assert error == (
        f"error: {model / 'config.json'}: key 'thresholds.Odio' must be a number in [0, 1], "
        f"got {shown}"
    )
    assert math.isnan(float("nan"))  # JSON NaN and Infinity are read by Python's json


def test_a_label_without_threshold_or_a_wrong_label_count_is_refused(tfidf_run, tmp_path):
    model = copy_model(tfidf_run, tmp_path)
    edit_json(model / "config.json", lambda c: c["thresholds"].pop("Mujeres"))
    with pytest.raises(OdioError, match="key 'thresholds' has no threshold for label 'Mujeres'"):
        Detector.load(model)

    def three_labels(config):
        config["labels"] = config["labels"][:3]

    model = copy_model(tfidf_run, tmp_path, "three")
    edit_json(model / "config.json", three_labels)
    with pytest.raises(OdioError, match="key 'labels' has 3 labels, the members 5"):
        Detector.load(model)  # once loaded, and then every prediction failed
    for labels in ([], ["Odio", "Odio"], "Odio", [1]):
        model = copy_model(tfidf_run, tmp_path, f"labels{len(str(labels))}")
        edit_json(model / "config.json", lambda c, labels=labels: c.update(labels=labels))
        with pytest.raises(OdioError, match="key 'labels' must be a list of distinct label"):
            Detector.load(model)


def test_members_must_be_present(tfidf_run, tmp_path):
    model = copy_model(tfidf_run, tmp_path)
    shutil.rmtree(model / "fold_1")
    with pytest.raises(OdioError, match=r"key 'members\[1\]' names 'fold_1', which is not in"):
        Detector.load(model)
    edit_json(model / "config.json", lambda c: c.update(members=[]))
    with pytest.raises(OdioError, match="key 'members' must be a non-empty list"):
        Detector.load(model)


def test_preprocess_options_and_stack_meta_are_checked(tfidf_run, stack_model, tmp_path):
    model = copy_model(tfidf_run, tmp_path)
    edit_json(model / "config.json", lambda c: c["preprocess"].update(url="yes"))
    with pytest.raises(OdioError, match="key 'preprocess' must be normalisation options"):
        Detector.load(model)
    for change, key in [
        (lambda c: c["meta"].update(coef=[[1.0]] * 5), "meta.coef"),
        (lambda c: c["meta"].update(intercept=[0.0, float("nan")] + [0.0] * 3), "meta.intercept"),
        (lambda c: c["meta"].update(features="some"), "meta.features"),
        (lambda c: c.update(bases=c["bases"][:1]), "bases"),
    ]:
        model = copy_model(stack_model, tmp_path, key)
        edit_json(model / "config.json", change)
        with pytest.raises(OdioError, match=f"key '{key}' must be"):
            Detector.load(model)
    assert Detector.load(stack_model).predict_proba(["hola"]).shape == (1, 5)


# -- missing and corrupt files -------------------------------------------------------------------


@pytest.mark.parametrize(
    "which, file, damage",
    [
        ("tfidf", "config.json", "delete"),
        ("tfidf", "config.json", "garbage"),
        ("tfidf", "fold_0/config.json", "delete"),
        ("tfidf", "fold_0/vocabulary.json", "delete"),
        ("tfidf", "fold_0/vocabulary.json", "garbage"),
        ("tfidf", "fold_0/weights.safetensors", "truncate"),
        ("tfidf", "fold_0/config.json", "empty object"),
        ("encoder", "fold_0/odio_head.json", "delete"),
        ("encoder", "fold_0/odio_head.safetensors", "delete"),
        ("encoder", "fold_0/model.safetensors", "truncate"),
        ("encoder", "fold_0/config.json", "garbage"),
        ("encoder", "tokenizer/tokenizer.json", "garbage"),
        ("onnx", "fold_0/model.onnx", "truncate"),
        ("onnx", "fold_0/odio_head.json", "empty object"),
    ],
)
def test_a_missing_or_corrupt_file_is_one_line(
    which, file, damage, tfidf_run, tiny_run, tiny_onnx, tmp_path, capsys
):
    source = {"tfidf": tfidf_run, "encoder": tiny_run, "onnx": tiny_onnx["fp32"]}[which]
    model = copy_model(source, tmp_path)
    path = model / file
    if damage == "delete":
        path.unlink()
    elif damage == "garbage":
        path.write_bytes(b"\x00\xffnot what it should be")
    elif damage == "empty object":
        path.write_text("{}")
    else:
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    error = one_line_error(capsys, ["explain", str(model), "hola"])
    assert str(model) in error


# -- missing extras ----------------------------------------------------------------------------


INSTALL = (
    "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu && "
    "pip install 'odio[transformer]'"
)


@pytest.mark.parametrize(
    "module, message",
    [
        (
            "transformers",
            "a transformer model needs the 'transformer' extra (transformers is not installed): "
            f"{INSTALL}",
        ),
        (
            "torch",
            "a transformer model needs the 'transformer' extra (torch is not installed): "
            f"{INSTALL}",
        ),
    ],
)
def test_a_missing_extra_for_an_encoder_model_is_one_sentence(
    module, message, tiny_run, monkeypatch, capsys
):
    monkeypatch.setitem(sys.modules, module, None)
    assert one_line_error(capsys, ["explain", str(tiny_run), "hola"]) == f"error: {message}"


def test_a_missing_extra_for_encoder_training_is_one_sentence(
    tiny_encoder, split_files, tmp_path, monkeypatch, capsys
):
    monkeypatch.setitem(sys.modules, "lightning", None)
    monkeypatch.delitem(sys.modules, "odio.training.finetune", raising=False)
    train, _ = split_files
    argv = ["train", str(train), "--model", str(tiny_encoder), "--out", str(tmp_path / "r"), "-q"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (
        "error: fine-tuning an encoder needs the 'transformer' extra (lightning is not "
        f"installed): {INSTALL}"
    )
    assert not (tmp_path / "r").exists()
