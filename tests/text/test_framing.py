"""Counter-speech copies (:mod:`odio.text.framing`): only hateful tweets are framed, every copy
is labelled not hate and stays out of its original's held-out fold, and no frame shares text
with the functional test suite."""

from __future__ import annotations

import re

import numpy as np
import pytest

from odio.checks.suite import load_suite
from odio.config import RunConfig
from odio.data.labelled import load_labelled
from odio.text.context import join_context, split_context
from odio.text.framing import FRAMES, MAX_WORDS, frame
from odio.training.rows import training_rows


def test_only_hateful_texts_are_framed_each_inside_its_copy():
    texts = [f"tuit {i} con palabras" for i in range(200)]
    hateful = [i % 3 == 0 for i in range(200)]
    copies, origin = frame(texts, hateful, rate=1.0, seed=1)
    assert origin == [i for i in range(200) if i % 3 == 0]
    pairs = zip(copies, origin, strict=True)
    assert all(texts[i] in copy and copy != texts[i] for copy, i in pairs)
    assert len(set(copies)) > 10  # frames are drawn, not one fixed wrapper


def test_rate_and_seed():
    texts, hateful = ["los odio"] * 1000, [True] * 1000
    assert frame(texts, hateful, rate=0.0) == ([], [])
    half = frame(texts, hateful, rate=0.5, seed=3)
    assert 400 < len(half[0]) < 600
    assert frame(texts, hateful, rate=0.5, seed=3) == half
    assert frame(texts, hateful, rate=0.5, seed=4) != half


def test_a_long_tweet_is_cut_so_its_frame_survives_truncation():
    long = " ".join(f"palabra{i}" for i in range(60))
    (copy,), _ = frame([long], [True], rate=1.0)
    assert f"palabra{MAX_WORDS - 1}..." in copy and f"palabra{MAX_WORDS}" not in copy


def test_only_the_tweet_is_framed_and_its_context_kept():
    (copy,), _ = frame([join_context("que se vayan todos", "llegan migrantes")], [1], 1.0)
    tweet, context = split_context(copy)
    assert context == "llegan migrantes"
    assert "que se vayan todos" in tweet and "llegan" not in tweet


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="2 texts but 1"):
        frame(["a", "b"], [True], rate=1.0)


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _trigrams(text: str) -> set[tuple[str, ...]]:
    w = _words(text)
    return {tuple(w[i : i + 3]) for i in range(len(w) - 2)}


def test_no_frame_shares_text_or_a_word_list_with_the_suite():
    suite = load_suite()
    texts = [c.text for c in suite.cases] + [c.template for c in suite.cases if c.template]
    suite_trigrams = set().union(*map(_trigrams, texts))
    list_words = {w.lower() for words in suite.lists.values() for w in words}
    for frames in FRAMES.values():
        for template in frames:
            for piece in template.split("{}"):
                assert not _trigrams(piece) & suite_trigrams, template
            assert not set(_words(template)) & list_words, template


def test_framed_copies_are_labelled_not_hate_and_kept_out_of_their_originals_fold(
    split_files,
):
    config = RunConfig.from_dict({"augment": {"framing": 1.0}})
    train = load_labelled(split_files[0], config.data, training=True)
    n = len(train.texts)
    folds = np.arange(n) % 3
    rows = training_rows(config, train, [], folds)
    hateful = np.flatnonzero(train.Y.any(axis=1))
    assert len(rows.texts) == n + len(hateful) > n
    copies = slice(n, None)
    assert not rows.Y[copies].any() and rows.known[copies].all()
    assert rows.folds[copies].tolist() == [-1] * len(hateful)
    np.testing.assert_array_equal(rows.exclude[copies], folds[hateful])
    assert all(train.texts[i] in rows.texts[n + k] for k, i in enumerate(hateful))
    plain = training_rows(RunConfig(), train, [], folds)
    assert len(plain.texts) == n
