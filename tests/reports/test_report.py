from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

from odio.cli import main
from odio.errors import OdioError
from odio.extras import MissingExtra
from odio.reports.confident_errors import TOP_ERRORS, most_confident_errors
from odio.reports.report import write_report
from odio.runs import read_run

pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def tfidf_report(tfidf_run, tmp_path_factory):
    return write_report(tfidf_run, tmp_path_factory.mktemp("report_tfidf"))


@pytest.fixture(scope="module")
def tiny_report(tiny_run, tmp_path_factory):
    return write_report(tiny_run, tmp_path_factory.mktemp("report_tiny"))


def copy_run(run: Path, dest: Path) -> Path:
    """A copy of a run directory without its model (the report never reads it)."""
    return Path(shutil.copytree(run, dest, ignore=shutil.ignore_patterns("model")))


def section(markdown: str, heading: str) -> str:
    """The Markdown from ``heading`` to the next heading."""
    start = markdown.index(heading)
    following = re.search(r"^#", markdown[start + len(heading) :], flags=re.M)
    return markdown[start : start + len(heading) + following.start() if following else None]


def table_rows(text: str) -> list[list[str]]:
    """The body cells of the first Markdown table in ``text``."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    return [[c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]] for line in lines[2:]]


def test_report_files_are_written(tfidf_report):
    assert tfidf_report.html.name == "report.html" and tfidf_report.html.is_file()
    assert tfidf_report.markdown.name == "report.md" and tfidf_report.markdown.is_file()
    assert len(tfidf_report.figures) == 3  # no loss curves without a history
    for figure in tfidf_report.figures:
        assert figure.parent.name == "report_files"
        assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_html_is_self_contained(tfidf_report, tiny_report):
    for files in (tfidf_report, tiny_report):
        page = files.html.read_text(encoding="utf-8")
        links = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)""", page)
        assert len(links) == len(files.figures)
        assert all(link.startswith("data:image/png;base64,") for link in links)
        assert "<script" not in page and "<link" not in page and "url(" not in page


def test_markdown_references_the_png_files(tfidf_report, tiny_report):
    for files in (tfidf_report, tiny_report):
        md = files.markdown.read_text(encoding="utf-8")
        refs = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
        assert sorted(files.markdown.parent / r for r in refs) == sorted(files.figures)
        assert all(r.startswith("report_files/") and r.endswith(".png") for r in refs)


def test_report_content(tfidf_report, tfidf_run):
    md = tfidf_report.markdown.read_text(encoding="utf-8")
    metrics = json.loads((tfidf_run / "metrics.json").read_text())
    for heading in (
        "## Scores",
        "### Per label, out-of-fold",
        "### Per label, test",
        "## Fold-to-fold spread",
        "## Precision-recall curves",
        "## Calibration",
        "## Score distributions",
        "## Confusion counts at the tuned thresholds",
        "## Most confident errors on Odio",
    ):
        assert heading in md
    assert f"{metrics['test']['tuned']['f1_custom']:.4f}" in md
    folds = table_rows(section(md, "## Fold-to-fold spread"))
    assert [row[0] for row in folds] == ["0", "1", "2", "mean ± std"]
    confusion = table_rows(section(md, "## Confusion counts"))
    assert len(confusion) == 2 * len(metrics["labels"])  # out-of-fold and test
    # the counts at the tuned thresholds agree with the run's own scores
    odio_test = next(r for r in confusion if r[0] == "Odio" and r[1] == "test")
    tp, fp = int(odio_test[3]), int(odio_test[4])
    assert tp + fp == metrics["test"]["tuned"]["per_label"]["Odio"]["predicted"]


def test_loss_section_with_and_without_history(tiny_report, tfidf_report, tiny_run):
    tiny = tiny_report.markdown.read_text(encoding="utf-8")
    loss = section(tiny, "## Training and validation loss per epoch")
    assert "report_files/loss_curves.png" in loss
    assert "Lowest validation loss: fold 0 at epoch" in loss
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    rows = table_rows(loss)
    assert len(rows) == len(metrics["folds"])
    for row, fold in zip(rows, metrics["folds"], strict=True):
        best = min(fold["history"], key=lambda h: h["val_loss"])["epoch"]
        assert row[2] == str(best)
    tfidf = tfidf_report.markdown.read_text(encoding="utf-8")
    assert "No training history" in section(tfidf, "## Training and validation loss per epoch")
    assert "loss_curves.png" not in tfidf


def test_error_tables_are_real_errors(tfidf_report, tfidf_run):
    run = read_run(tfidf_run)
    t = float(run.thresholds[0])
    fp, fn = most_confident_errors(run.test, run.labels, t)
    assert 0 < len(fp) <= TOP_ERRORS and 0 < len(fn) <= TOP_ERRORS
    assert (fp["prob"] >= t).all() and (fp["true"] == 0).all()
    assert (fn["prob"] < t).all() and (fn["true"] == 1).all()
    assert fp["prob"].is_monotonic_decreasing and fn["prob"].is_monotonic_increasing
    short_fp, _ = most_confident_errors(run.test, run.labels, t, top=1)
    assert short_fp["row"].tolist() == fp["row"].head(1).tolist()
    # the report's tables hold the same rows
    md = tfidf_report.markdown.read_text(encoding="utf-8")
    assert "From the test predictions" in md
    for title, expected in (("### False positives", fp), ("### False negatives", fn)):
        rows = table_rows(section(md, title))
        assert len(rows) == len(expected) <= TOP_ERRORS
        assert [int(r[0]) for r in rows] == expected["row"].tolist()
        odio_true = ["Odio" in r[2].split(", ") for r in rows]
        assert all(odio_true) if "negatives" in title else not any(odio_true)


def test_texts_are_escaped(tfidf_run, tmp_path):
    run = copy_run(tfidf_run, tmp_path / "run")
    frame = pd.read_csv(run / "test_predictions.csv")
    frame.loc[0, ["true_Odio", "prob_Odio"]] = [0, 0.999]  # the most confident false positive
    frame.loc[0, "text"] = '<script>alert("x")</script> a | b *c*\nnext line'
    frame.to_csv(run / "test_predictions.csv", index=False)
    files = write_report(run, tmp_path / "out")
    page = files.html.read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;alert(&quot;x&quot;)" in page
    md = files.markdown.read_text(encoding="utf-8")
    assert r'\<script>alert("x")\</script> a \| b \*c\* next line' in md
    assert int(table_rows(section(md, "### False positives"))[0][0]) == frame.loc[0, "row"]


def test_run_without_test_set_and_with_unknown_keys(tfidf_run, tmp_path):
    run = copy_run(tfidf_run, tmp_path / "run")
    (run / "test_predictions.csv").unlink()
    metrics = json.loads((run / "metrics.json").read_text())
    del metrics["test"], metrics["data"]["test"]
    # a stacked run's extra key
    metrics["bases"] = {"tfidf": {"backend": "tfidf", "oof": {"tuned": {"f1_custom": 0.7}}}}
    for fold in metrics["folds"]:
        del fold["history"]
    (run / "metrics.json").write_text(json.dumps(metrics))
    files = write_report(run)  # default: into the run directory
    assert files.html.parent == run and (run / "report_files").is_dir()
    md = files.markdown.read_text(encoding="utf-8")
    assert "out-of-fold predictions (no test set)" in md
    assert "### Per label, test" not in md and "No training history" in md
    bases = table_rows(section(md, "### Stacked bases on their own"))
    assert bases == [["tfidf", "tfidf", "-", "0.7000", "-", "-"]]


def test_not_a_run_directory(tmp_path):
    with pytest.raises(OdioError, match="metrics.json is missing"):
        write_report(tmp_path)
    (tmp_path / "metrics.json").write_text('{"labels": ["Odio"]}')
    with pytest.raises(OdioError, match="oof.csv is missing"):
        write_report(tmp_path)
    with pytest.raises(OdioError, match="not found"):
        read_run(tmp_path / "nope")


def test_missing_matplotlib_names_the_extra(tfidf_run, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    with pytest.raises(MissingExtra, match=r"pip install 'odio\[report\]'"):
        write_report(tfidf_run, tmp_path)
    assert not list(tmp_path.iterdir())


def test_cli_report(tfidf_run, tmp_path, capsys):
    assert main(["report", str(tfidf_run), "-o", str(tmp_path / "r")]) == 0
    assert "report written to" in capsys.readouterr().out
    assert (tmp_path / "r" / "report.html").is_file()
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "not a run directory" in err
    assert len(err.splitlines()) == 1
