"""``odio train --check``: the functional test suite scored on the finished run, recorded in
``metrics.json`` and shown by the console summary, ``odio report`` and ``odio compare``."""

from __future__ import annotations

import contextlib
import io
import json
import shutil

import pandas as pd
import pytest

from odio.checks.record import check_run
from odio.checks.run import run_check
from odio.checks.suite import load_suite
from odio.cli import flags, main
from odio.cli.parser import parse
from odio.errors import OdioError
from odio.files import MARKER, check_replaceable, read_marker


@pytest.fixture(scope="module")
def checked(tmp_path_factory, split_files):
    """(run directory, console output) of ``odio train --check`` on the tiny split files,
    with the settings of the ``tfidf_run`` fixture."""
    train, test = split_files
    out = tmp_path_factory.mktemp("checked") / "run"
    argv = ["train", str(train), "--test", str(test), "--folds", "3", "--check", "-q"]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main([*argv, "--out", str(out)]) == 0
    return out, printed.getvalue()


def metrics_of(run) -> dict:
    return json.loads((run / "metrics.json").read_text(encoding="utf-8"))


def compared(runs, capsys) -> dict[str, tuple[str, str]]:
    """Run name -> its (suite_odio, suite_full) cells in ``odio compare``'s table."""
    capsys.readouterr()
    assert main(["compare", *map(str, runs)]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]
    odio, full = header.index("suite_odio"), header.index("suite_full")
    return {row[header.index("run")]: (row[odio], row[full]) for row in cells}


def test_check_records_both_suite_accuracies_in_metrics(checked):
    run, _ = checked
    entry = metrics_of(run)["checks"]
    suite = load_suite("es_cl")
    full = run_check(run / "model", suite)
    odio = run_check(run / "model", suite, labels=["Odio"])
    assert entry["suite"] == "es_cl" and entry["main_label"] == "Odio"
    assert entry["cases"] == len(suite.cases)
    assert entry["functionalities"] == len(suite.functionalities)
    assert entry["accuracy_full"] == round(full.accuracy, 4)
    assert entry["accuracy_odio"] == round(odio.accuracy, 4)
    assert entry["auc_odio"] is not None
    assert entry["auc_odio"] == odio.by_label()[0]["auc"]
    assert entry["labels_full"] == list(full.label_map)
    assert entry["in_training"] == 0
    assert list(entry["groups"]) == [s.name for s in full.by_group()]
    for score in odio.by_group():
        assert entry["groups"][score.name]["odio"] == round(score.macro, 4)


def test_the_run_folder_stays_a_replaceable_odio_run(checked):
    run, _ = checked
    marker = read_marker(run)
    assert marker["kind"] == "run"
    assert set(marker["files"]) == {p.name for p in run.iterdir()} - {MARKER}
    check_replaceable(run, kind="run", overwrite=True)  # --overwrite may still replace it
    assert not [p for p in run.parent.iterdir() if p.name.startswith(".")]  # no staging left


def test_the_summary_ends_with_the_suite_line(checked):
    run, printed = checked
    entry = metrics_of(run)["checks"]
    last = printed.rstrip("\n").splitlines()[-1]
    assert last == (
        f"suite es_cl ({entry['functionalities']} functionalities, {entry['cases']} cases): "
        f"accuracy {entry['accuracy_odio']:.4f} Odio only, {entry['accuracy_full']:.4f} "
        f"all labels; Odio AUC {entry['auc_odio']:.4f}"
    )


def test_without_check_nothing_is_checked(tfidf_run):
    assert "checks" not in metrics_of(tfidf_run)


def test_check_leaves_the_training_untouched(checked, tfidf_run):
    """The same settings without --check (the tfidf_run fixture) give the same files."""
    run, _ = checked
    for name in ("oof.csv", "test_predictions.csv"):
        assert (run / name).read_bytes() == (tfidf_run / name).read_bytes(), name
    weights = sorted(p.relative_to(run) for p in (run / "model").rglob("*.safetensors"))
    assert weights == sorted(
        p.relative_to(tfidf_run) for p in (tfidf_run / "model").rglob("*.safetensors")
    )
    for name in weights:
        assert (run / name).read_bytes() == (tfidf_run / name).read_bytes(), name
    unchecked = {k: v for k, v in metrics_of(run).items() if k != "checks"}
    assert unchecked["oof"] == metrics_of(tfidf_run)["oof"]
    assert unchecked["test"] == metrics_of(tfidf_run)["test"]


def test_the_setting_is_a_yaml_key_and_a_flag(tmp_path):
    cfg = tmp_path / "run.yaml"
    cfg.write_text("checks: {enabled: true, suite: es_cl}\n")
    from_yaml = parse(["train", "t.csv", "--config", str(cfg), "--out", "r"])
    assert flags.run_config(from_yaml, from_yaml.config, sources=[]).checks.enabled
    from_flag = parse(["train", "t.csv", "--check", "--out", "r"])
    assert flags.run_config(from_flag, None, sources=[]).checks.enabled
    plain = parse(["train", "t.csv", "--out", "r"])
    assert not flags.run_config(plain, None, sources=[]).checks.enabled


def test_the_config_records_the_setting(checked):
    run, _ = checked
    assert "checks:\n  enabled: true\n  suite: es_cl\n" in (run / "config.yaml").read_text()


def test_a_suite_that_cannot_score_the_run_fails_before_training(split_files, tmp_path, capsys):
    train, _ = split_files
    out = tmp_path / "r"
    argv = ["train", str(train), "--labels", "Odio=HS", "--check", "--out", str(out), "-q"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --check: the run's labels (HS) include none of suite es_cl's")
    assert len(err.splitlines()) == 1 and not out.exists()


def test_an_unknown_suite_fails_before_training(split_files, tmp_path, capsys):
    train, _ = split_files
    cfg = tmp_path / "run.yaml"
    cfg.write_text("checks: {enabled: true, suite: no_such_suite}\n")
    out = tmp_path / "r"
    assert main(["train", str(train), "--config", str(cfg), "--out", str(out), "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert "no_such_suite" in err and len(err.splitlines()) == 1 and not out.exists()


def test_check_run_from_python_on_a_saved_run(tfidf_run, checked, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(tfidf_run, run)
    entry = check_run(run)
    assert entry == metrics_of(checked[0])["checks"]
    assert metrics_of(run)["checks"] == entry
    before = {k: v for k, v in metrics_of(run).items() if k != "checks"}
    assert before == metrics_of(tfidf_run)


def test_check_run_refuses_a_folder_that_is_not_a_run(tmp_path):
    with pytest.raises(OdioError, match="is not a run directory"):
        check_run(tmp_path)


def test_report_shows_the_suite_beside_the_test_score(checked, tfidf_run, tmp_path):
    pytest.importorskip("matplotlib")
    from odio.reports.report import write_report

    run, _ = checked
    entry = metrics_of(run)["checks"]
    markdown = write_report(run, tmp_path / "checked").markdown.read_text()
    scores = markdown.split("## Scores", 1)[1].split("### Per label", 1)[0]
    assert "### Functional tests: suite es_cl" in scores
    overall = f"| overall | {entry['accuracy_odio']:.4f} | {entry['accuracy_full']:.4f} |"
    assert overall in scores
    assert f"Odio AUC over the cases, which no threshold moves: {entry['auc_odio']:.4f}." in scores
    for name, group in entry["groups"].items():
        assert f"| {name} | {group['odio']:.4f} | {group['full']:.4f} |" in scores
    plain = write_report(tfidf_run, tmp_path / "plain").markdown.read_text()
    assert "Functional tests" not in plain


def test_compare_adds_the_suite_columns(checked, tfidf_run, capsys):
    from odio.reports.compare import compare_runs

    run, _ = checked
    entry = metrics_of(run)["checks"]
    table = compare_runs([tfidf_run, run])
    assert table["suite_odio"].isna().tolist() == [True, False]
    assert table["suite_odio"].iloc[1] == entry["accuracy_odio"]
    assert table["suite_full"].iloc[1] == entry["accuracy_full"]
    assert table["suite_odio_auc"].iloc[1] == entry["auc_odio"]
    rows = compared([tfidf_run, run], capsys)
    assert rows[tfidf_run.name] == ("-", "-")
    assert rows[run.name] == (f"{entry['accuracy_odio']:.4f}", f"{entry['accuracy_full']:.4f}")
    ranked = pd.Series(table["suite_odio"]).sort_values(ascending=False, na_position="last")
    assert ranked.index[0] == 1


def test_check_run_on_a_tiny_encoder_run(tiny_run, tmp_path):
    run = tmp_path / "tiny"
    shutil.copytree(tiny_run, run)
    entry = check_run(run)
    assert entry["accuracy_full"] == round(run_check(tiny_run / "model").accuracy, 4)
    assert entry["accuracy_odio"] == round(
        run_check(tiny_run / "model", labels=["Odio"]).accuracy, 4
    )
    assert metrics_of(run)["checks"] == entry


def test_a_run_without_the_main_label_has_no_odio_only_accuracy(split_files, tmp_path, capsys):
    train, _ = split_files
    out = tmp_path / "mujeres"
    argv = ["train", str(train), "--labels", "Mujeres", "--folds", "2", "--check", "-q"]
    assert main([*argv, "--out", str(out)]) == 0
    entry = metrics_of(out)["checks"]
    assert entry["accuracy_odio"] is None and entry["labels_full"] == ["Mujeres"]
    assert entry["accuracy_full"] == round(run_check(out / "model").accuracy, 4)
    assert (
        capsys.readouterr()
        .out.rstrip()
        .endswith(f"accuracy - Odio only, {entry['accuracy_full']:.4f} all labels")
    )
    assert compared([out], capsys) == {out.name: ("-", f"{entry['accuracy_full']:.4f}")}


def test_suite_cases_in_the_training_data_are_counted_and_reported(split_files, tmp_path):
    pytest.importorskip("matplotlib")
    from odio.reports.report import write_report

    train, _ = split_files
    frame = pd.read_csv(train, index_col=0)
    leaked = [case.text for case in load_suite("es_cl").cases[:3]]
    extra = pd.DataFrame([{**frame.iloc[0].to_dict(), "text": text} for text in leaked])
    polluted = tmp_path / "polluted.csv"
    pd.concat([frame, extra], ignore_index=True).to_csv(polluted)
    out = tmp_path / "run"
    assert main(["train", str(polluted), "--folds", "2", "--check", "--out", str(out), "-q"]) == 0
    assert metrics_of(out)["checks"]["in_training"] == len(set(leaked))
    markdown = write_report(out, tmp_path / "report").markdown.read_text()
    assert f"Warning: {len(set(leaked))} suite cases are among the training texts" in markdown
