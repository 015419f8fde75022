"""``odio check`` and ``odio report --check`` from the command line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml
from checks.minisuite import MINI

from odio.cli import main


@pytest.fixture(scope="module")
def mini_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("suite") / "mini.yaml"
    path.write_text(yaml.safe_dump(MINI, allow_unicode=True), encoding="utf-8")
    return path


def test_help_lists_check():
    out = subprocess.run(
        [sys.executable, "-m", "odio.cli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "check" in out


def test_check_prints_the_tables(tfidf_run, capsys):
    assert main(["check", str(tfidf_run), "-q"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("suite es_cl: ")
    for heading in ("functionality group", "target group", "label", "functionality"):
        assert any(line.startswith(heading + " ") for line in out.splitlines())
    for row in ("obfuscation ", "counter_speech ", "Pueblos Originarios ", "friendly_insults "):
        assert any(line.startswith(row) for line in out.splitlines())
    assert "failing cases (up to 3 per functionality" in out


def test_json_and_min_accuracy(tfidf_run, mini_file, capsys):
    argv = ["check", str(tfidf_run / "model"), "es_cl", str(mini_file), "--json", "-q"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["model"] == str(tfidf_run / "model")
    assert [s["suite"]["name"] for s in data["suites"]] == ["es_cl", "mini"]
    mini = data["suites"][1]
    assert mini["overall"]["cases"] == 10 and mini["in_training"] == 0
    accuracy = mini["overall"]["accuracy"]
    assert 0 < accuracy < 1
    argv = ["check", str(tfidf_run), str(mini_file), "-q", "--min-accuracy"]
    assert main([*argv, str(accuracy - 0.001)]) == 0
    capsys.readouterr()
    assert main([*argv, str(accuracy + 0.001), "--failures", "0"]) == 1
    captured = capsys.readouterr()
    assert f"mini: accuracy {accuracy:.4f} is below --min-accuracy" in captured.err
    assert captured.out.startswith("suite mini") and "failing cases" not in captured.out


def test_thresholds_and_label_maps(tfidf_run, mini_file, capsys):
    argv = ["check", str(tfidf_run), str(mini_file), "--json", "-q"]
    assert main([*argv, "--threshold", "Odio=1.0"]) == 0
    odio = json.loads(capsys.readouterr().out)["suites"][0]["per_label"][0]
    assert odio["label"] == "Odio" and odio["expect_1"]["accuracy"] == 0.0
    assert main([*argv, "--map", "Mujeres=Comunidades Migrantes"]) == 0
    labels = json.loads(capsys.readouterr().out)["suites"][0]["labels"]
    assert labels == {"Odio": "Odio", "Comunidades Migrantes": "Mujeres"}
    assert main([*argv, "--labels", "Odio"]) == 0
    assert json.loads(capsys.readouterr().out)["suites"][0]["labels"] == {"Odio": "Odio"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["nothing.yaml"], "error: nothing.yaml: no such suite file or shipped suite"),
        (["--map", "Odio"], "error: --map takes MODEL_LABEL=SUITE_LABEL"),
        (["--map", "HS=Odio"], "error: --map HS=Odio: the model has no label 'HS'"),
    ],
)
def test_mistakes_are_one_line(tfidf_run, capsys, extra, message):
    assert main(["check", str(tfidf_run), *extra, "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and len(err.strip().splitlines()) == 1


def test_min_accuracy_must_be_a_fraction(tfidf_run, capsys):
    with pytest.raises(SystemExit) as info:
        main(["check", str(tfidf_run), "--min-accuracy", "80"])
    assert info.value.code == 2
    assert "expected a number in [0, 1], got '80'" in capsys.readouterr().err


def test_report_with_check_sections(tfidf_run, mini_file, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from odio.reports import plots

    for name in ("pr_curves", "calibration_curves", "score_histograms"):
        monkeypatch.setattr(plots, name, lambda *a, **k: b"\x89PNG")  # figures are not tested here
    out = tmp_path / "report"
    argv = ["report", str(tfidf_run), "-o", str(out), "--check", str(mini_file), "--check", "mini"]
    assert main(argv[:-2]) == 0
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "## Functional tests: mini" in md and "### By target group" in md
    assert md.index("## Most confident errors") < md.index("## Functional tests: mini")
    assert "<h2>Functional tests: mini</h2>" in (out / "report.html").read_text(encoding="utf-8")
    assert main(argv) == 2  # "mini" is neither a file nor a shipped suite


def test_report_check_defaults_to_the_shipped_suite():
    from odio.cli import build_parser

    assert build_parser().parse_args(["report", "r", "--check"]).check == ["es_cl"]
    assert build_parser().parse_args(["report", "r"]).check is None
