"""How fast each int8 scheme ONNX Runtime offers scores one RoBERTuito-size model, beside
the reference path: is 10x the reference (issue 16) within reach of any of them?

The model, tweets and reference path (a) are those of ``inference_speed.py`` (12 x 768,
random weights: speed only). The fp32 export is quantised four ways, and each graph scores
the tweets the way ``Detector.predict_proba`` does (normalise, tokenise once, length-sorted
batches of ``odio.models.onnx.BATCH_SIZE``):

* shipped: odio's export (``odio.models.quantize``): every weight MatMul's input smoothed
  (SmoothQuant, alpha 0.8), static activation ranges, MatMul outputs fp32;
* static: the same without smoothing;
* static, int8 outputs: ONNX Runtime's default static scheme (MatMul outputs requantised);
* dynamic: ``quantize_dynamic`` (activation ranges per batch: a tweet's scores then depend
  on the other tweets of its batch, which odio rules out).

Decision agreement with fp32 of the first three on the fine-tuned e5-small run is in
``benchmarks/RESULTS.md`` (``int8_accuracy.py``): only the shipped scheme keeps 99.5%.
Rounds alternate the paths; the median round is reported.

    python benchmarks/int8_schemes.py --limit 512 --rounds 3
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pandas as pd
import torch
from inference_speed import (
    DATA,
    LABELS,
    detector,
    reference_path,
    robertuito_size_member,
)
from train_speed import robertuito_size_tokenizer

from odio.inference.detector import Detector
from odio.models.blend import Blend
from odio.models.export import _calibration_sample, export_onnx
from odio.models.onnx import OnnxMember, session_options
from odio.models.quantize import calibration_batches, quantize_int8, quantize_matmuls
from odio.text.preprocess import PreprocessOptions, preprocess_many
from odio.text.tokens import encode, pad_id


def schemes(fp32: Path, out: Path, ids: list[list[int]], padding: int) -> dict[str, Path]:
    """The four int8 graphs of ``fp32``, written under ``out``."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    calibration = calibration_batches(ids, padding)
    paths = {"shipped (smoothed, outputs fp32)": out / "shipped.onnx"}
    quantize_int8(fp32, paths["shipped (smoothed, outputs fp32)"], ids, padding)
    paths["static, outputs fp32"] = out / "static.onnx"
    quantize_matmuls(fp32, paths["static, outputs fp32"], calibration)
    paths["static, int8 outputs"] = out / "static_q.onnx"
    quantize_matmuls(fp32, paths["static, int8 outputs"], calibration, outputs_fp32=False)
    paths["dynamic (batch-dependent)"] = out / "dynamic.onnx"
    quantize_dynamic(
        fp32,
        paths["dynamic (batch-dependent)"],
        op_types_to_quantize=["MatMul"],
        per_channel=True,
        weight_type=QuantType.QInt8,
        extra_options={"MatMulConstBOnly": True},
    )
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test", default=str(DATA / "tweets_test.csv"))
    parser.add_argument("--train", default=str(DATA / "tweets_train.csv"))
    parser.add_argument("--limit", type=int, default=512, help="fixed random subset (0: all)")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes per path")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="CPU threads")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)  # ONNX Runtime's quantisation advice
    torch.set_num_threads(args.threads)

    texts = pd.read_csv(args.test)["text"].tolist()
    if args.limit and args.limit < len(texts):
        rows = np.random.default_rng(0).choice(len(texts), args.limit, replace=False)
        texts = [texts[i] for i in sorted(rows)]
    train_texts = pd.read_csv(args.train)["text"].tolist()
    tokenizer = robertuito_size_tokenizer(preprocess_many(train_texts))
    member = robertuito_size_member(tokenizer, seed=0)
    load = os.getloadavg()[0]

    with tempfile.TemporaryDirectory(prefix="odio-bench-") as tmp:
        tmp = Path(tmp)
        detector([member]).save(tmp / "torch")
        export_onnx(tmp / "torch", tmp / "fp32", int8=False)
        ids = encode(tokenizer, _calibration_sample(train_texts, PreprocessOptions()), 128)
        graphs = schemes(tmp / "fp32" / "fold_0" / "model.onnx", tmp, ids, pad_id(tokenizer))
        fp32_member = Detector.load(tmp / "fp32").model.members[0]
        paths = {"(a) reference": reference_path(member)}
        for name, graph in graphs.items():
            session = ort.InferenceSession(str(graph), session_options(args.threads))
            onnx_member = OnnxMember(fp32_member.directory, session, tokenizer, fp32_member.meta)
            model = Blend([onnx_member], PreprocessOptions(), backend="transformer")
            paths[name] = Detector(model, LABELS).predict_proba
        seconds: dict[str, list[float]] = {name: [] for name in paths}
        for r in range(args.rounds):
            for name, run in paths.items():
                run(texts[:8])  # warm-up
                start = time.perf_counter()
                run(texts)
                seconds[name].append(time.perf_counter() - start)
                print(f"round {r + 1} {name:<32}: {len(texts) / seconds[name][-1]:6.1f} tweets/s")

    print(
        f"\n{len(texts)} test tweets, {args.threads} threads, {args.rounds} rounds (median); "
        f"load average {load:.2f} at start, {os.getloadavg()[0]:.2f} at end"
    )
    print("| int8 scheme | tweets/s | vs (a) |\n|---|---|---|")
    base = len(texts) / float(np.median(seconds["(a) reference"]))
    for name, s in seconds.items():
        rate = len(texts) / float(np.median(s))
        print(f"| {name} | {rate:.1f} | {rate / base:.2f}x |")


if __name__ == "__main__":
    main()
