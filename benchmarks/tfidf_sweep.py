"""Choose the TF-IDF backend's defaults by cross-validation (out-of-fold f1_custom).

Settings are ranked by the out-of-fold f1_custom at OOF-tuned thresholds; the test score is
printed beside it for information only and never used to choose.

    python benchmarks/tfidf_sweep.py --train ../shared/data/datathon2022/tweets_train.csv \
        --test ../shared/data/datathon2022/tweets_test.csv
"""

from __future__ import annotations

import argparse
import itertools
import time

from odio.config import DataConfig, TfidfConfig
from odio.cv import cross_validate
from odio.data import load_labelled
from odio.folds import make_folds
from odio.metrics import score, tune_thresholds
from odio.preprocess import PreprocessOptions, preprocess_many
from odio.tfidf import TfidfBackend


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    args = parser.parse_args()
    train = load_labelled(args.train, DataConfig())
    test = load_labelled(args.test, DataConfig(), training=False)
    folds = make_folds(train.Y)
    grid = {
        "C": [1.0, 3.0, 10.0, 30.0],
        "class_weight": ["balanced", None],
        "min_df": [1, 2],
        "lowercase_pre": [False, True],
    }
    print("C     class_weight min_df lower | OOF@0.5 OOF@tuned | test@0.5 test@tuned  sec")
    rows = []
    for C, cw, min_df, lower in itertools.product(*grid.values()):
        opts = PreprocessOptions(lowercase=lower)
        tr, te = preprocess_many(train.texts, opts), preprocess_many(test.texts, opts)
        cfg = TfidfConfig(C=C, class_weight=cw, min_df=min_df)
        start = time.perf_counter()
        res = cross_validate(
            lambda cfg=cfg: TfidfBackend(cfg),
            tr,
            train.Y,
            train.labels,
            folds,
            test_texts=te,
            progress=False,
        )
        th = tune_thresholds(train.Y, res.oof)
        r = (
            C,
            cw,
            min_df,
            lower,
            score(train.Y, res.oof, train.labels)["f1_custom"],
            score(train.Y, res.oof, train.labels, th)["f1_custom"],
            score(test.Y, res.test, train.labels)["f1_custom"],
            score(test.Y, res.test, train.labels, th)["f1_custom"],
            time.perf_counter() - start,
        )
        rows.append(r)
        print(
            f"{r[0]:<5} {str(r[1]):<12} {r[2]:<6} {str(r[3]):<5} | {r[4]:.4f}  {r[5]:.4f}   |"
            f" {r[6]:.4f}   {r[7]:.4f}  {r[8]:.1f}",
            flush=True,
        )
    best = max(rows, key=lambda r: r[5])
    print("best by OOF@tuned:", best)


if __name__ == "__main__":
    main()
