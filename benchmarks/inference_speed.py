"""Inference throughput: the reference path vs odio's PyTorch, ONNX fp32 and ONNX int8 paths.

One RoBERTuito-size member (RoBERTa, vocab 30002, 12 x 768, 130 positions, random
weights: speed only; a byte-level BPE trained on the training tweets, as in
``train_speed.py``) scores the test tweets along each path, all in one process:

  (a) reference: normalise and tokenise each tweet on its own, padded to 128 tokens
      (``tokenizer(text, padding="max_length", max_length=128)``, the transformers 5 form
      of ``encode_plus``), batches of 32 in input order, fp32 PyTorch under ``no_grad``;
  (b) odio PyTorch: ``Detector.predict_proba`` (normalise once, tokenise the batch once,
      length-sorted batches padded to their longest row, ``inference_mode``);
  (c) odio ONNX fp32 and (d) odio ONNX int8: the same Detector after ``odio export``;
  a 5-member ensemble on path (b) (one shared tokenisation), and the TF-IDF backend.

Rounds alternate the paths so machine noise hits each alike (the median round is reported,
with each round's int8 ratio); every path scores the same
tweets. Ratios to (a) are printed with their goals (b/a >= 2.5, issue 4; d/a >= 10, issue 16).

    python benchmarks/inference_speed.py                # all 2,291 test tweets
    python benchmarks/inference_speed.py --limit 512    # a fixed random subset, all paths
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from train_speed import robertuito_size_config, robertuito_size_tokenizer
from transformers import RobertaModel

from odio.config import TransformerConfig
from odio.inference.detector import Detector
from odio.models.blend import Blend
from odio.models.encoder import EncoderClassifier, EncoderMember
from odio.models.export import export_onnx
from odio.text.preprocess import PreprocessOptions, preprocess_many, preprocess_tweet
from odio.text.tokens import encode

LABELS = ["Odio", "Mujeres", "Comunidad LGBTQ+", "Comunidades Migrantes", "Pueblos Originarios"]
DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "datathon2022"


def robertuito_size_member(tokenizer, seed: int) -> EncoderMember:
    """A fitted-looking encoder member with random weights (speed only)."""
    torch.manual_seed(seed)
    encoder = RobertaModel(robertuito_size_config(), add_pooling_layer=False)
    classifier = EncoderClassifier(encoder, len(LABELS)).eval()
    return EncoderMember(
        classifier,
        tokenizer,
        128,
        base_model="robertuito-size-random",
        settings=TransformerConfig(),
    )


def detector(members: list[EncoderMember]) -> Detector:
    """The members blended behind the RoBERTuito normalisation."""
    return Detector(Blend(members, PreprocessOptions(), backend="transformer"), LABELS)


def reference_path(member: EncoderMember) -> Callable[[list[str]], np.ndarray]:
    """(a): per-tweet normalise + tokenise, pad to 128, batches of 32 in input order."""
    tokenizer, model = member.tokenizer, member.classifier

    def run(texts: list[str]) -> np.ndarray:
        out = []
        with torch.no_grad():
            for start in range(0, len(texts), 32):
                encoded = [
                    tokenizer(
                        preprocess_tweet(text),
                        padding="max_length",
                        truncation=True,
                        max_length=128,
                        return_tensors="pt",
                    )
                    for text in texts[start : start + 32]
                ]
                ids = torch.cat([e["input_ids"] for e in encoded])
                mask = torch.cat([e["attention_mask"] for e in encoded])
                out.append(torch.sigmoid(model(ids, mask)).numpy())
        return np.concatenate(out).astype(float)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test", default=str(DATA / "tweets_test.csv"))
    parser.add_argument("--train", default=str(DATA / "tweets_train.csv"))
    parser.add_argument("--limit", type=int, default=0, help="fixed random subset (0: all)")
    parser.add_argument("--rounds", type=int, default=1, help="timed passes per path")
    parser.add_argument("--members", type=int, default=5, help="ensemble size (0: skip)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="CPU threads")
    parser.add_argument("--tfidf", default="runs/tfidf/model", help="TF-IDF model (or trained)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.getLogger("transformers").setLevel(logging.ERROR)
    torch.set_num_threads(args.threads)

    texts = pd.read_csv(args.test)["text"].tolist()
    if args.limit and args.limit < len(texts):
        rows = np.random.default_rng(0).choice(len(texts), args.limit, replace=False)
        texts = [texts[i] for i in sorted(rows)]
        scope = f"a fixed random subset of {len(texts)} test tweets (seed 0), the same for all"
    else:
        scope = f"all {len(texts)} test tweets"
    train_texts = pd.read_csv(args.train)["text"].tolist()
    tokenizer = robertuito_size_tokenizer(preprocess_many(train_texts))
    member = robertuito_size_member(tokenizer, seed=0)
    lengths = [len(i) for i in encode(tokenizer, preprocess_many(texts), 128)]
    print(
        f"scoring {scope}; tokens per tweet: mean {np.mean(lengths):.1f}, "
        f"max {max(lengths)} (reference pads all to 128)"
    )
    print(
        f"model: RoBERTa 12x768, vocab 30002, random weights; threads {args.threads}; "
        f"cpu count {os.cpu_count()}; load average at start {os.getloadavg()[0]:.1f}"
    )

    with tempfile.TemporaryDirectory(prefix="odio-bench-") as tmp:
        tmp = Path(tmp)
        detector([member]).save(tmp / "torch")
        for name, int8 in (("fp32", False), ("int8", True)):
            calibration = train_texts if int8 else None  # int8 ranges from training tweets
            report = export_onnx(tmp / "torch", tmp / name, int8=int8, calibration=calibration)
            print(f"export {name}: {report.megabytes:.0f} MB in {report.seconds:.0f}s")
        paths: dict[str, Callable[[list[str]], np.ndarray]] = {
            "(a) reference": reference_path(member),
            "(b) odio PyTorch": Detector.load(tmp / "torch", threads=args.threads).predict_proba,
            "(c) odio ONNX fp32": Detector.load(tmp / "fp32", threads=args.threads).predict_proba,
            "(d) odio ONNX int8": Detector.load(tmp / "int8", threads=args.threads).predict_proba,
        }
        seconds: dict[str, list[float]] = {name: [] for name in paths}
        results: dict[str, np.ndarray] = {}
        paths["(b) odio PyTorch"](texts[:8])  # warm-up
        for r in range(args.rounds):
            for name, run in paths.items():
                start = time.perf_counter()
                results[name] = run(texts)
                seconds[name].append(time.perf_counter() - start)
                rate = len(texts) / seconds[name][-1]
                print(f"round {r + 1} {name:<20}: {rate:7.1f} tweets/s", flush=True)
            ratio = seconds["(a) reference"][-1] / seconds["(d) odio ONNX int8"][-1]
            print(f"round {r + 1} (d)/(a) = {ratio:.2f}x", flush=True)
    rates = {name: len(texts) / float(np.median(s)) for name, s in seconds.items()}
    reference = results["(a) reference"]

    if args.members:
        ensemble = detector(
            [member] + [robertuito_size_member(tokenizer, seed=s) for s in range(1, args.members)]
        )
        start = time.perf_counter()
        ensemble.predict_proba(texts)
        rates[f"{args.members}-member ensemble, odio PyTorch"] = len(texts) / (
            time.perf_counter() - start
        )
        start = time.perf_counter()
        encode(tokenizer, ensemble.model.prepare(texts), 128)
        tokenise = time.perf_counter() - start
        print(
            f"normalise+tokenise once: {tokenise:.2f}s, shared by the {args.members} members "
            f"({(args.members - 1) * tokenise:.2f}s saved)"
        )

    if Path(args.tfidf).exists():
        tfidf = Detector.load(args.tfidf)
        source = args.tfidf
    else:
        from odio.config import RunConfig
        from odio.training.run import train_run

        out = Path(tempfile.mkdtemp(prefix="odio-tfidf-"))
        train_run(RunConfig(), args.train, out, progress=False)
        tfidf = Detector.load(out / "model")
        source = f"trained on {args.train}"
    start = time.perf_counter()
    tfidf.predict_proba(texts)
    members = len(tfidf.model.members)
    rates[f"TF-IDF ({members} members)"] = len(texts) / (time.perf_counter() - start)

    print(f"\nthroughput on {scope} ({args.threads} threads; TF-IDF model: {source})")
    print("| path | tweets/s | vs (a) | max abs prob diff vs (a) |\n|---|---|---|---|")
    base = rates["(a) reference"]
    for name, rate in rates.items():
        diff = f"{np.abs(results[name] - reference).max():.1e}" if name in results else ""
        print(f"| {name} | {rate:.1f} | {rate / base:.2f}x | {diff} |")
    b, d = rates["(b) odio PyTorch"] / base, rates["(d) odio ONNX int8"] / base
    print(f"\n(b)/(a) = {b:.2f}x (goal >= 2.5x: {'met' if b >= 2.5 else 'NOT met'})")
    print(f"(d)/(a) = {d:.2f}x (goal >= 10x: {'met' if d >= 10 else 'NOT met'})")
    print(f"load average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
