"""Accuracy kept by int8: a trained transformer model vs its int8 ONNX export, on a test set.

Exports ``--model`` to int8 ONNX in a temporary directory (``odio export --quantize int8``), scores
the labelled test file with both (the model's text column, labels, ``min_votes`` and tuned
thresholds), and prints test f1_custom for each, the decision agreement (rows whose every
label decision is the same, and single label decisions) and the largest probability
difference.

    python benchmarks/int8_accuracy.py --model runs/e5small/model \\
        --test ../shared/data/datathon2022/tweets_test.csv
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from odio.config import DataConfig
from odio.data.labelled import load_labelled
from odio.inference.detector import Detector
from odio.metrics import f1_custom
from odio.models.export import export_onnx

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "datathon2022"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a trained transformer model (RUN/model)")
    parser.add_argument("--test", default=str(DATA / "tweets_test.csv"))
    parser.add_argument("--min-votes", type=int, help="override the model's min_votes")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--keep", help="write the int8 export here instead of a temp dir")
    args = parser.parse_args()

    reference = Detector.load(args.model, runtime="torch", threads=args.threads)
    data_info = reference.info.get("data", {})
    config = DataConfig(
        text_column=data_info.get("text_column", "text"),
        labels=reference.labels,
        min_votes=args.min_votes or data_info.get("min_votes", 2),
    )
    data = load_labelled(args.test, config, training=False)
    print(data.report.summary())

    with tempfile.TemporaryDirectory(prefix="odio-int8-") as tmp:
        out = Path(args.keep) if args.keep else Path(tmp) / "int8"
        report = export_onnx(args.model, out, int8=True, overwrite=bool(args.keep))
        print(report.summary())
        int8 = Detector.load(out, threads=args.threads)
        rows = {}
        for name, detector in (("PyTorch fp32", reference), ("ONNX int8", int8)):
            detector.predict_proba(data.texts[:8])  # warm-up
            start = time.perf_counter()
            P = detector.predict_proba(data.texts)
            seconds = time.perf_counter() - start
            rows[name] = (P, detector.decide(P), len(data.texts) / seconds)

    (P_ref, D_ref, _), (P_int8, D_int8, _) = rows.values()
    print(f"\nmodel: {args.model} ({len(reference.model.members)} members); test: {args.test}")
    print("| runtime | test f1_custom (tuned thresholds) | tweets/s |\n|---|---|---|")
    for name, (_, D, rate) in rows.items():
        print(f"| {name} | {f1_custom(data.Y, D):.4f} | {rate:.1f} |")
    print(
        f"\ndecision agreement: {(D_ref == D_int8).all(axis=1).mean():.4f} of rows "
        f"(all {len(reference.labels)} labels), {(D_ref == D_int8).mean():.4f} of label "
        f"decisions; largest probability difference {np.abs(P_ref - P_int8).max():.4f}"
    )


if __name__ == "__main__":
    main()
