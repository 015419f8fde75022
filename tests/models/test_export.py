"""ONNX export and the ONNX Runtime member, on the tiny random RoBERTa run."""

from __future__ import annotations

import json
import shutil
import sys

import numpy as np
import pandas as pd
import pytest

from odio.cli import main
from odio.errors import OdioError
from odio.extras import MissingExtra
from odio.inference.detector import Detector
from odio.models.export import export_onnx
from odio.models.onnx import OnnxMember


@pytest.fixture(scope="module")
def texts(sample_frame) -> list[str]:
    return sample_frame["text"].tolist()


@pytest.fixture(scope="module")
def torch_probabilities(tiny_run, texts) -> np.ndarray:
    return Detector.load(tiny_run / "model").predict_proba(texts)


def test_fp32_matches_pytorch(tiny_onnx, texts, torch_probabilities):
    detector = Detector.load(tiny_onnx["fp32"])
    P = detector.predict_proba(texts)
    assert P.shape == torch_probabilities.shape
    assert np.abs(P - torch_probabilities).max() <= 1e-4
    # one text at a time (batch 1, no padding) gives the same numbers
    one = np.vstack([detector.predict_proba([t]) for t in texts[:5]])
    assert np.abs(one - torch_probabilities[:5]).max() <= 1e-4


def test_int8_keeps_decisions(tiny_run, tiny_onnx, texts, torch_probabilities):
    thresholds = Detector.load(tiny_run).thresholds
    detector = Detector.load(tiny_onnx["int8"])
    P = detector.predict_proba(texts)
    same_rows = (detector.decide(P) == (torch_probabilities >= thresholds)).all(axis=1)
    assert same_rows.mean() >= 0.95
    import onnx

    path = tiny_onnx["int8"] / "fold_0" / "model.int8.onnx"
    graph = onnx.load(str(path)).graph
    weights = {init.name for init in graph.initializer}
    int8_weights = [
        n for n in graph.node if n.op_type == "DequantizeLinear" and n.input[0] in weights
    ]
    # every weight MatMul (q, k, v, out, up, down: 6 per layer, 2 layers; the head) is int8
    assert len(int8_weights) >= 12
    config = json.loads((tiny_onnx["int8"] / "config.json").read_text())
    assert config["onnx"]["quantization"].startswith("int8 static")


def test_int8_probabilities_do_not_depend_on_the_batch(tiny_onnx, texts):
    """Activation ranges are calibrated once: a tweet scores the same alone or among others
    (dynamic quantisation measured them per batch, and moved probabilities by ~1e-3)."""
    detector = Detector.load(tiny_onnx["int8"])
    together = detector.predict_proba(texts)
    alone = np.vstack([detector.predict_proba([t]) for t in texts[:8]])
    assert np.abs(alone - together[:8]).max() <= 1e-5
    reversed_ = detector.predict_proba(texts[::-1])[::-1]
    assert np.abs(reversed_ - together).max() <= 1e-5


def test_int8_needs_tweets_to_calibrate_on(tiny_run, split_files, tmp_path, capsys):
    with pytest.raises(OdioError, match="needs tweets to calibrate on"):
        export_onnx(tiny_run / "model", tmp_path / "a", int8=True)
    lone = tmp_path / "lone"
    shutil.copytree(tiny_run / "model", lone)  # a model directory outside its run
    assert main(["export", str(lone), "--quantize", "int8", "-o", str(tmp_path / "b")]) == 2
    assert "give --calibration FILE" in capsys.readouterr().err
    _, test = split_files
    argv = ["export", str(lone), "--quantize", "int8", "--calibration", str(test)]
    assert main([*argv, "-o", str(tmp_path / "c")]) == 0
    assert (tmp_path / "c" / "fold_0" / "model.int8.onnx").is_file()
    argv[-1] = str(tmp_path / "missing.csv")
    assert main([*argv, "-o", str(tmp_path / "d")]) == 2
    assert not (tmp_path / "d").exists()


def test_load_picks_the_runtime_from_the_files(tiny_run, tiny_onnx):
    assert Detector.load(tiny_onnx["int8"]).runtime == "onnx"
    detector = Detector.load(tiny_onnx["fp32"], threads=1)
    assert detector.runtime == "onnx"
    assert all(isinstance(m, OnnxMember) for m in detector.model.members)
    assert detector.model.members[0].session.get_session_options().intra_op_num_threads == 1
    assert Detector.load(tiny_run).runtime == "torch"
    with pytest.raises(OdioError, match="no ONNX files; create them with: odio export"):
        Detector.load(tiny_run, runtime="onnx")
    with pytest.raises(OdioError, match="ONNX export without PyTorch weights"):
        Detector.load(tiny_onnx["fp32"], runtime="torch")
    with pytest.raises(OdioError, match="runtime must be one of torch, onnx"):
        Detector.load(tiny_run, runtime="tensorrt")


def test_export_directory_is_self_contained(tiny_onnx, texts, tmp_path):
    moved = tmp_path / "elsewhere"
    shutil.copytree(tiny_onnx["int8"], moved)
    config = json.loads((moved / "config.json").read_text())
    assert config["runtime"] == "onnx" and config["onnx"]["file"] == "model.int8.onnx"
    assert set(config["thresholds"]) == set(config["labels"])
    assert "metrics" in config and "preprocess" in config
    assert "ONNX Runtime" in (moved / "README.md").read_text()
    assert (moved / "tokenizer" / "tokenizer.json").is_file()  # once, for every member
    for fold in config["members"]:
        names = {p.name for p in (moved / fold).iterdir()}
        assert {"model.int8.onnx", "odio_head.json", "config.json"} <= names
        assert not any(n.endswith((".safetensors", ".bin", ".pt", ".pkl")) for n in names)
    original = Detector.load(tiny_onnx["int8"]).predict_proba(texts[:20])
    copy = Detector.load(moved)
    assert np.array_equal(copy.predict_proba(texts[:20]), original)
    copy.save(tmp_path / "saved")  # an ONNX detector saves and loads like any other
    assert np.array_equal(Detector.load(tmp_path / "saved").predict_proba(texts[:20]), original)


def test_cli_export_and_predict_with_each_runtime(tiny_run, split_files, tmp_path, capsys):
    _, test = split_files
    out = tmp_path / "onnx"
    assert main(["export", str(tiny_run), "--format", "onnx", "-o", str(out)]) == 0
    assert "2 members exported to model.onnx" in capsys.readouterr().out
    assert main(["export", str(tiny_run), "--format", "onnx", "-o", str(out)]) == 2
    assert "already holds an export; choose another output or pass --overwrite" in (
        capsys.readouterr().err
    )
    assert main(["export", str(tiny_run), "-o", str(out), "--quantize", "int8", "--overwrite"]) == 0
    assert (out / "fold_0" / "model.int8.onnx").exists()
    # without -o the export lands beside the model
    assert main(["export", str(tiny_run), "--quantize", "int8"]) == 0
    assert (tiny_run / "model-onnx-int8" / "config.json").exists()
    assert not (out / "fold_0" / "model.onnx").exists()
    scored = {}
    for runtime, model in (("torch", tiny_run), ("onnx", out)):
        path = tmp_path / f"{runtime}.csv"
        argv = ["predict", str(model), str(test), "-o", str(path), "--runtime", runtime]
        assert main([*argv, "--threads", "1", "-q"]) == 0
        scored[runtime] = pd.read_csv(path)
    assert scored["onnx"]["text"].tolist() == scored["torch"]["text"].tolist()
    assert np.abs(scored["onnx"]["prob_Odio"] - scored["torch"]["prob_Odio"]).max() < 0.02
    capsys.readouterr()
    for runtime in ("torch", "onnx"):
        argv = ["evaluate", str(out if runtime == "onnx" else tiny_run), str(test), "--json"]
        assert main([*argv, "--runtime", runtime]) == 0
        scored[runtime] = json.loads(capsys.readouterr().out)["at_0.5"]["f1_custom"]
    assert scored["onnx"] == pytest.approx(scored["torch"], abs=0.05)


def test_failed_export_leaves_nothing(tiny_run, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("exporter crashed")

    monkeypatch.setattr("odio.models.export._export_member", broken)
    with pytest.raises(RuntimeError, match="exporter crashed"):
        export_onnx(tiny_run, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "argv, message",
    [
        (["export", "{tfidf}", "-o", "{tmp}/x"], "error: "),
        (["export", "{tmp}/nope", "-o", "{tmp}/x"], "error: model directory not found"),
        (["predict", "{tfidf}", "in.csv", "--runtime", "onnx"], "error: "),
    ],
)
def test_user_mistakes_are_one_line_errors(argv, message, tfidf_run, tmp_path, capsys):
    argv = [a.format(tfidf=tfidf_run, tmp=tmp_path) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(message) and len(err.splitlines()) == 1
    if "--runtime" in argv:
        assert "runs with scikit-learn; a runtime applies to transformer models only" in err
    if argv[0] == "export" and "nope" not in argv[1]:
        assert "is a tfidf model: only encoder models are exported" in err


def test_a_missing_onnx_extra_is_one_sentence(tiny_onnx, monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails as if not installed
    monkeypatch.delitem(sys.modules, "odio.models.onnx", raising=False)
    with pytest.raises(MissingExtra, match=r"needs the 'onnx' extra .*pip install 'odio\[onnx\]'"):
        Detector.load(tiny_onnx["fp32"])
    assert main(["predict", str(tiny_onnx["fp32"]), "x.csv", "-o", str(tmp_path / "o.csv")]) == 2
    assert capsys.readouterr().err.startswith("error: the ONNX runtime needs the 'onnx' extra")


def test_export_never_replaces_what_is_not_an_export(tiny_run, tmp_path, capsys):
    """--overwrite replaces an earlier export only: never a user's folder, the source, or '.'"""
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    argv = ["export", str(tiny_run), "-o", str(mine), "--overwrite"]
    assert main(argv) == 2
    assert "is a folder that is not an odio export" in capsys.readouterr().err
    assert (mine / "notes.txt").read_text() == "keep me"
    for target, why in ((tiny_run / "model", "is an input"), (tiny_run, "is inside")):
        assert main(["export", str(tiny_run), "-o", str(target), "--overwrite"]) == 2
        assert why in capsys.readouterr().err
    assert (tiny_run / "model" / "config.json").is_file()


def test_a_member_cannot_name_a_file_outside_its_folder(tiny_onnx, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(tiny_onnx["fp32"], copy)
    head = copy / "fold_0" / "odio_head.json"
    meta = json.loads(head.read_text())
    meta["onnx"]["file"] = "/etc/passwd"
    head.write_text(json.dumps(meta))
    with pytest.raises(OdioError, match="names ONNX file '/etc/passwd'"):
        Detector.load(copy)
