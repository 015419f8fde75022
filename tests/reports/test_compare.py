from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from odio.cli import main
from odio.errors import OdioError
from odio.reports.compare import (
    COLUMNS,
    compare_runs,
    default_sort_key,
    format_comparison,
    sort_runs,
)
from odio.reports.document import markdown_table


@pytest.fixture(scope="module")
def no_test_run(tfidf_run, tmp_path_factory) -> Path:
    """The TF-IDF run without its test set."""
    run = tmp_path_factory.mktemp("runs") / "no_test"
    shutil.copytree(tfidf_run, run, ignore=shutil.ignore_patterns("model", "test_predictions.csv"))
    metrics = json.loads((run / "metrics.json").read_text())
    del metrics["test"]
    metrics["oof"]["tuned"]["f1_custom"] = 0.99  # best out-of-fold, to see it sort first
    (run / "metrics.json").write_text(json.dumps(metrics))
    return run


@pytest.fixture(scope="module")
def single_label_run(split_files, tmp_path_factory) -> Path:
    """A run on the same file with one label: another group, scored by macro-F1."""
    train, test = split_files
    out = tmp_path_factory.mktemp("runs") / "odio_only"
    argv = ["train", str(train), "--test", str(test), "--labels", "Odio", "--folds", "3"]
    assert main([*argv, "--out", str(out), "-q"]) == 0
    return out


def test_one_row_per_run(tfidf_run, tiny_run):
    table = compare_runs([tfidf_run, tiny_run])
    assert list(table.columns) == list(COLUMNS)
    assert table["run"].tolist() == ["tfidf", "tiny"]
    tfidf, tiny = (table.iloc[i] for i in range(2))
    assert tfidf["backend"] == "tfidf" and tiny["backend"] == "transformer"
    assert tiny["model"] == Path(json.loads((tiny_run / "metrics.json").read_text())["model"]).name
    assert tiny["epochs"] == 3 and tiny["lr"] == pytest.approx(0.003)
    assert 1 <= tiny["best_epoch"] <= 3
    assert pd.isna(tfidf["lr"]) and pd.isna(tfidf["epochs"]) and pd.isna(tfidf["best_epoch"])
    assert tfidf["labels"].split(", ")[0] == "Odio" and len(tfidf["labels"].split(", ")) == 5
    assert tfidf["metric"] == "f1_custom" and tfidf["labels_read_as"] == "votes >= 2"
    assert tfidf["data"].startswith("train.csv (105 rows, ")
    assert sort_runs(table)["group"].tolist() == [1, 1]  # same data, labels and metric
    metrics = json.loads((tfidf_run / "metrics.json").read_text())
    assert tfidf["cv"] == metrics["cv"]["f1_custom"]["mean"]
    assert tfidf["cv_std"] == metrics["cv"]["f1_custom"]["std"]
    assert tfidf["oof_tuned"] == metrics["oof"]["tuned"]["f1_custom"]
    assert tfidf["test_at_0.5"] == metrics["test"]["at_0.5"]["f1_custom"]
    assert tfidf["test_tuned"] == metrics["test"]["tuned"]["f1_custom"]
    assert tfidf["test_main_f1_tuned"] == metrics["test"]["tuned"]["per_label"]["Odio"]["f1"]
    assert tfidf["train_seconds"] == metrics["train_seconds"]


def test_sorting(tfidf_run, tiny_run, no_test_run):
    table = compare_runs([tfidf_run, tiny_run])
    assert default_sort_key(table) == "test_tuned"
    ordered = sort_runs(table)
    assert ordered["test_tuned"].is_monotonic_decreasing
    by_cv = sort_runs(table, "cv")
    assert by_cv["cv"].is_monotonic_decreasing
    assert sort_runs(table, "run")["run"].tolist() == ["tfidf", "tiny"]
    # a run without a test set: the default is out-of-fold, missing values sort last
    mixed = compare_runs([tfidf_run, no_test_run, tiny_run])
    assert default_sort_key(mixed) == "oof_tuned"
    assert sort_runs(mixed)["run"].iloc[0] == "no_test"
    assert sort_runs(mixed, "test_tuned")["run"].iloc[-1] == "no_test"
    with pytest.raises(OdioError, match="unknown sort key 'f1'; choose one of: group, run"):
        sort_runs(table, "f1")


def test_runs_on_other_labels_are_not_ranked_together(tfidf_run, single_label_run, capsys):
    table = compare_runs([tfidf_run, single_label_run])
    assert sort_runs(table)["group"].tolist() == [1, 2]
    assert table["metric"].tolist() == ["f1_custom", "macro_f1"]
    single = json.loads((single_label_run / "metrics.json").read_text())
    assert table["test_tuned"].iloc[1] == single["test"]["tuned"]["macro_f1"]
    # within groups, whatever the scores: the single-label run never tops the other group
    assert sort_runs(table)["run"].tolist() == ["tfidf", "odio_only"]
    forced = sort_runs(table, force=True)
    assert forced["test_tuned"].is_monotonic_decreasing
    assert main(["compare", str(single_label_run), str(tfidf_run)]) == 0
    captured = capsys.readouterr()
    assert "2 groups" in captured.err and "--force" in captured.err


def test_markdown_table(tfidf_run, no_test_run):
    text = format_comparison(compare_runs([tfidf_run, no_test_run]))
    lines = text.splitlines()
    assert len(lines) == 2 + 2
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header == [c for c in COLUMNS if c != "cv_std"]
    no_test = dict(zip(header, (c.strip() for c in lines[3].strip("|").split("|")), strict=True))
    assert no_test["run"] == "no_test" and no_test["test_tuned"] == "-"
    assert no_test["lr"] == "-" and " ± " in no_test["cv"]


def test_csv_round_trips(tfidf_run, tiny_run, no_test_run):
    table = compare_runs([tfidf_run, tiny_run, no_test_run])
    back = pd.read_csv(io.StringIO(format_comparison(table, "csv")))
    assert list(back.columns) == list(table.columns)
    for column in table.columns:
        if pd.api.types.is_numeric_dtype(table[column]):
            expected = table[column].astype(float).to_numpy()
            assert np.allclose(back[column].to_numpy(dtype=float), expected, equal_nan=True)
        else:
            assert back[column].tolist() == table[column].tolist()


def test_not_a_run_directory(tfidf_run, tmp_path):
    with pytest.raises(OdioError, match="is not a run directory"):
        compare_runs([tfidf_run, tmp_path])
    with pytest.raises(OdioError, match="no run directories"):
        compare_runs([])
    with pytest.raises(OdioError, match="unknown format"):
        format_comparison(compare_runs([tfidf_run]), "html")


def test_cli_compare(tfidf_run, tiny_run, tmp_path, capsys):
    assert main(["compare", str(tfidf_run), str(tiny_run)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("| group | run |") and len(out.splitlines()) == 4
    target = tmp_path / "table.csv"
    argv = ["compare", str(tfidf_run), str(tiny_run), "--format", "csv", "--sort", "run"]
    assert main([*argv, "-o", str(target)]) == 0
    assert pd.read_csv(target)["run"].tolist() == ["tfidf", "tiny"]
    assert main(["compare", str(tfidf_run), "--sort", "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: unknown sort key 'nope'") and len(err.splitlines()) == 1
    assert main(["compare", str(tfidf_run), str(tmp_path)]) == 2
    assert "not a run directory" in capsys.readouterr().err


def test_the_terminal_table_reads_as_text(tfidf_run, capsys):
    """`odio compare` prints Markdown for a terminal: no HTML entities (it printed
    ``votes &gt;= 2``), while what Markdown would read as HTML stays escaped."""
    assert main(["compare", str(tfidf_run)]) == 0
    out = capsys.readouterr().out
    assert "| votes >= 2 |" in out and "&" not in out
    cells = [["votes >= 2", "<b>&amp; a|b"]]
    assert markdown_table(["read as", "run"], cells).splitlines()[-1] == (
        r"| votes >= 2 | \<b>\&amp; a\|b |"
    )
