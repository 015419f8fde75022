"""Flags generated from the typed settings: RunConfig's for train, ServeSettings' for serve."""

from __future__ import annotations

import pytest

from odio.cli import flags
from odio.cli.parser import build_parser, parse
from odio.config import FLAGS
from odio.serve.settings import ServeSettings


def options(command: str) -> dict[str, object]:
    parser = build_parser(command)
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    return {s: a for a in sub._actions for s in a.option_strings}


def test_every_run_setting_flag_is_generated_from_its_field():
    train = options("train")
    for key, flag in FLAGS.items():
        action = train[flag]
        assert action.dest == flags.dest(key)
        assert action.help.startswith(flags.setting_help(key))
    assert train["--labels"].nargs == "+" and train["--strict"].nargs == 0
    assert train["--split"].metavar == "{auto,stratified,kfold}"


def test_flags_override_the_config_file_which_overrides_the_defaults(tmp_path):
    cfg = tmp_path / "run.yaml"
    cfg.write_text("cv: {folds: 4, seed: 7}\ntransformer: {lr: 1e-4}\n")
    args = parse(["train", "t.csv", "--config", str(cfg), "--folds", "3", "--out", "r"])
    config = flags.run_config(args, args.config, sources=["extra.csv"])
    assert (config.cv.folds, config.cv.seed, config.transformer.lr) == (3, 7, 1e-4)
    assert config.cv.split == "auto" and config.data.sources[0].path == "extra.csv"


def test_every_serve_setting_but_the_token_is_a_flag():
    serve = options("serve")
    for name in ServeSettings.model_fields:
        flag = "--" + name.replace("_", "-")
        assert (flag in serve) == (name != "token"), name
    assert "ODIO_SERVE_MAX_TEXTS" in serve["--max-texts"].help


def test_a_serve_flag_overrides_the_environment(monkeypatch):
    monkeypatch.setenv("ODIO_SERVE_MAX_TEXTS", "7")
    monkeypatch.setenv("ODIO_SERVE_MAX_BATCH", "4")
    args = parse(["serve", "m", "--max-texts", "3"])
    settings = ServeSettings(**flags.model_flags(args, ServeSettings))
    assert (settings.max_texts, settings.max_batch, settings.max_chars) == (3, 4, 5000)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["serve", "m", "--max-texts", "0"], "argument --max-texts: expected a whole number >= 1"),
        (["serve", "m", "--max-wait-ms", "-1"], "expected a whole number >= 0, got '-1'"),
        (["train", "t.csv", "--out", "r", "--fold-cpus", "nan"], "expected a number >= 0"),
        (["check", "m", "--min-accuracy", "80"], "expected a number in [0, 1], got '80'"),
    ],
)
def test_bad_numbers_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        parse(argv)
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_a_bad_environment_value_is_one_line(monkeypatch, capsys):
    from odio.cli import main

    monkeypatch.setenv("ODIO_SERVE_MAX_QUEUED", "many")
    assert main(["serve", "no_model_here"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: serve setting max_queued (--max-queued, ODIO_SERVE_MAX_QUEUED): input should "
        "be a valid integer, unable to parse string as an integer, got 'many'"
    )


def test_a_setting_given_a_flag_needs_nothing_else(monkeypatch):
    """A field of the config and its FLAGS entry: the flag, its help and its merge follow."""
    monkeypatch.setitem(FLAGS, "transformer.warmup", "--warmup")
    action = options("train")["--warmup"]
    assert action.help.startswith("Fraction of the optimisation steps") and "0.1" in action.help
    args = parse(["train", "t.csv", "--warmup", "0.2", "--out", "r"])
    assert flags.run_config(args).transformer.warmup == 0.2
