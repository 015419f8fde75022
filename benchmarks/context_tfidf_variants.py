"""Shapes of TF-IDF's context block, ranked by out-of-fold f1_custom on the Datathon.

The block as shipped (context character and word n-grams, weight 1) and variants that
scale it down or keep one analyzer, all in the same folds and seed; the test score is
printed for information and never chooses. The variants are made here by replacing
``TfidfModel.features`` (no setting exposes them: none beat the block without context).

    python benchmarks/context_tfidf_variants.py --data ../shared/data/datathon2022
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp

import odio.models.tfidf as tfidf
from odio.config import DataConfig, TfidfConfig
from odio.data.folds import make_folds
from odio.data.labelled import load_labelled
from odio.metrics import score, tune_thresholds
from odio.text.context import split_context
from odio.text.preprocess import preprocess_many
from odio.training.cv import cross_validate
from odio.training.tfidf import TfidfTrainer
from odio.training.trainers import default_preprocess

VARIANTS = [
    (1.0, ("char", "word")),
    (0.5, ("char", "word")),
    (0.25, ("char", "word")),
    (1.0, ("word",)),
    (0.5, ("word",)),
    (1.0, ("char",)),
]
"""(weight of the context block, its analyzers kept)."""


def shaped(weight: float, keep: Sequence[str]):
    """A ``features`` method with the context block scaled by ``weight``, keeping ``keep``."""
    original = tfidf.TfidfModel.features

    def features(self: tfidf.TfidfModel, texts: Sequence[str]) -> sp.csr_matrix:
        if not self.uses_context:
            return original(self, texts)
        parts = [split_context(t) for t in texts]
        blocks = []
        for key, vectorizer in self.vectorizers.items():
            if not key.startswith(tfidf.CONTEXT_PREFIX):
                blocks.append(vectorizer.transform([p[0] for p in parts]))
            elif key[len(tfidf.CONTEXT_PREFIX) :] in keep:
                blocks.append(weight * vectorizer.transform([p[1] for p in parts]))
        return sp.hstack(blocks).tocsr()

    return features


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/datathon2022"))
    args = parser.parse_args()
    config = DataConfig(context={"path": str(args.data / "referenced_tweets_data.csv")})
    train = load_labelled(args.data / "tweets_train.csv", config)
    test = load_labelled(args.data / "tweets_test.csv", config, training=False)
    folds = make_folds(train.Y, 5, 42, "auto")
    options = default_preprocess("tfidf")
    tr, te = preprocess_many(train.texts, options), preprocess_many(test.texts, options)
    with_tr = np.array([c is not None for c in train.contexts or []])
    with_te = np.array([c is not None for c in test.contexts or []])
    original = tfidf.TfidfModel.features
    print("| context block | OOF | OOF, with context | test | test, with context |")
    print("|---|---:|---:|---:|---:|")
    for weight, keep in VARIANTS:
        tfidf.TfidfModel.features = shaped(weight, keep)  # type: ignore[method-assign]
        try:
            res = cross_validate(
                TfidfTrainer(TfidfConfig()),
                tr,
                train.Y,
                train.labels,
                folds,
                test_texts=te,
                progress=False,
            )
        finally:
            tfidf.TfidfModel.features = original  # type: ignore[method-assign]
        th = tune_thresholds(train.Y, res.oof)

        def f1(Y, P, rows, th=th):
            return score(Y[rows], P[rows], train.labels, th)["f1_custom"]

        every = slice(None)
        print(
            f"| {' + '.join(keep)} × {weight} | {f1(train.Y, res.oof, every):.4f} | "
            f"{f1(train.Y, res.oof, with_tr):.4f} | {f1(test.Y, res.test, every):.4f} | "
            f"{f1(test.Y, res.test, with_te):.4f} |"
        )
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
