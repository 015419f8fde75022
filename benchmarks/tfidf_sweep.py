"""Choose the TF-IDF backend's defaults by cross-validation (out-of-fold f1_custom).

Every setting is ranked by out-of-fold f1_custom at OOF-tuned thresholds on the training
set; the test score is printed beside it for information only and never used to choose.

    python benchmarks/tfidf_sweep.py --data ../shared/data/datathon2022
"""

from __future__ import annotations

import argparse
from pathlib import Path

from joblib import Parallel, delayed

from odio.config import DataConfig, TfidfConfig
from odio.data.folds import make_folds
from odio.data.labelled import load_labelled
from odio.metrics import score, tune_thresholds
from odio.text.preprocess import PreprocessOptions, preprocess_many
from odio.training.cv import cross_validate
from odio.training.tfidf import TfidfTrainer

STEPS = ("user", "url", "hashtag", "emoji", "laughter", "repetition", "newlines")


def evaluate(train, test, folds, off: tuple[str, ...], settings: dict) -> dict:
    """OOF and test f1_custom of one setting (preprocessing steps ``off`` switched off)."""
    opts = PreprocessOptions(**{s: s not in off for s in STEPS})
    tr, te = preprocess_many(train.texts, opts), preprocess_many(test.texts, opts)
    config = TfidfConfig(**settings)
    res = cross_validate(
        TfidfTrainer(config),
        tr,
        train.Y,
        train.labels,
        folds,
        test_texts=te,
        progress=False,
    )
    th = tune_thresholds(train.Y, res.oof)
    return {
        "off": off,
        "settings": settings,
        "oof_05": score(train.Y, res.oof, train.labels)["f1_custom"],
        "oof_tuned": score(train.Y, res.oof, train.labels, th)["f1_custom"],
        "test_05": score(test.Y, res.test, train.labels)["f1_custom"],
        "test_tuned": score(test.Y, res.test, train.labels, th)["f1_custom"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default="../shared/data/datathon2022", type=Path)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    train = load_labelled(args.data / "tweets_train.csv", DataConfig())
    test = load_labelled(args.data / "tweets_test.csv", DataConfig(), training=False)
    folds = make_folds(train.Y)
    jobs = [
        ((), {"C": C, "min_df": m, "char_ngrams": cn})
        for C in (1.0, 2.0, 3.0, 5.0, 10.0)
        for m in (1, 2)
        for cn in ((2, 5), (1, 5), (2, 6))
    ]
    jobs += [((), {"C": 1.0, "class_weight": None})]
    jobs += [((s,), {"C": 3.0}) for s in STEPS]
    jobs += [
        (STEPS, {"C": 3.0}),
        (("user", "url", "hashtag", "emoji"), {"C": 3.0}),
        (("user", "url", "hashtag", "emoji"), {"C": 3.0, "min_df": 1}),
    ]
    rows = Parallel(n_jobs=args.jobs)(delayed(evaluate)(train, test, folds, o, s) for o, s in jobs)
    print(f"{'preprocessing steps off':<40} {'settings':<50} OOF@0.5 OOF@tuned test@0.5 test@tuned")
    for r in sorted(rows, key=lambda r: -r["oof_tuned"]):
        off = ",".join(r["off"]) or "-"
        print(
            f"{off:<40} {str(r['settings']):<50} {r['oof_05']:.4f}  {r['oof_tuned']:.4f}"
            f"    {r['test_05']:.4f}  {r['test_tuned']:.4f}"
        )


if __name__ == "__main__":
    main()
