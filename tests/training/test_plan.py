"""The run's plan: every 'auto' of a RunConfig resolved once for the training labels."""

from __future__ import annotations

import pytest

from odio.config import RunConfig
from odio.errors import OdioError
from odio.text.preprocess import PreprocessOptions
from odio.training.plan import plan_run

DATATHON = ["Odio", "Mujeres", "Comunidad LGBTQ+", "Comunidades Migrantes", "Pueblos Originarios"]


def test_auto_settings_follow_the_labels():
    five = plan_run(RunConfig(), DATATHON)
    assert (five.metric, set(five.objectives)) == ("f1_custom", {"f1"})
    one = plan_run(RunConfig(), ["HS"])
    assert (one.metric, one.objectives) == ("macro_f1", ("macro_f1",))
    assert one.preprocess == PreprocessOptions(user=False, url=False, hashtag=False, emoji=False)


def test_per_label_objectives_and_rule_are_kept():
    config = RunConfig.from_dict(
        {
            "thresholds": {
                "per_label": {"Mujeres": "precision>=0.8"},
                "decision_rule": "targets_require_main",
            }
        }
    )
    plan = plan_run(config, DATATHON)
    assert plan.objectives[1] == "precision>=0.8" and plan.objectives[0] == "f1"
    assert plan.decision_rule == "targets_require_main"


def test_a_label_the_run_lacks_is_one_line():
    config = RunConfig.from_dict({"thresholds": {"per_label": {"Racismo": "f1"}}})
    with pytest.raises(OdioError, match="names 'Racismo', which is not a label"):
        plan_run(config, DATATHON)


def test_a_stack_leaves_normalisation_to_each_base(tiny_encoder):
    plan = plan_run(RunConfig(model=f"stack:tfidf+{tiny_encoder}"), ["Odio"])
    assert plan.backend == "stack" and plan.preprocess is None
    tfidf, encoder = plan.for_base("tfidf"), plan.for_base(str(tiny_encoder))
    assert (tfidf.backend, tfidf.preprocess.emoji) == ("tfidf", False)
    assert (encoder.backend, encoder.preprocess.emoji) == ("transformer", True)
    assert encoder.metric == plan.metric and encoder.objectives == plan.objectives


def test_a_preprocess_setting_changes_only_the_steps_it_names():
    # benchmarks/RESULTS.md's "TF-IDF + de-obfuscation" row: the setting used to replace
    # TF-IDF's own normalisation, turning handles, links, hashtags and emoji into words
    config = RunConfig.from_dict({"preprocess": {"deobfuscate": True}})
    plan = plan_run(config, DATATHON)
    assert plan.preprocess.deobfuscate is True
    assert (plan.preprocess.user, plan.preprocess.emoji) == (False, False)
    encoder = plan_run(config.model_copy(update={"model": "my/encoder"}), DATATHON)
    assert (encoder.preprocess.deobfuscate, encoder.preprocess.emoji) == (True, True)


def test_the_saved_config_reproduces_the_normalisation(split_files, tmp_path):
    import odio

    train, _ = split_files
    run = odio.fit(train, {"cv": {"folds": 2}, "preprocess": {"deobfuscate": True}}, progress=False)
    assert run.config.preprocess == run.plan.preprocess
    assert run.detector.model.preprocess == run.plan.preprocess
    run.save(tmp_path / "run")
    again = plan_run(RunConfig.from_yaml(tmp_path / "run" / "config.yaml"), run.labels)
    assert again.preprocess == run.plan.preprocess
