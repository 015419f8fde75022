"""Fine-tuning speed on a CPU: what helps an e5-small step, side by side in one run.

One fine-tuning step (forward, masked BCE loss, backward, AdamW) of a real pretrained
encoder (default multilingual-e5-small, built offline with
``../shared/tools/e5small_to_hf.py``) on the Datathon training tweets, tokenised once by
odio and fed in odio's length-grouped batches of 16 (the recipe of
``benchmarks/e5small_posweight.yaml``). Each setting builds its own copy of the model and
runs the same batches; rounds alternate the settings so machine noise hits each alike:

  baseline: fp32, embeddings frozen (the recipe as it is);
  bf16: ``precision: bf16-mixed`` (Lightning's CPU autocast to bfloat16);
  freeze N: ``freeze_layers: N`` (embeddings and the lowest N layers frozen);
  1 thread: ``torch.set_num_threads(1)`` instead of one per core.

Caching the tokenised dataset across folds and length bucketing are already odio's path
(``benchmarks/train_speed.py`` measures them against the reference pipeline).

    python benchmarks/finetune_speed.py --steps 20 --rounds 3
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from odio.config import TransformerConfig
from odio.models.encoder import EncoderClassifier, pretrained
from odio.text.preprocess import PreprocessOptions, preprocess_many
from odio.text.tokens import pad_id
from odio.training.encoder_data import Collator, Encoded, LengthGroupedBatches
from odio.training.finetune import EncoderTrainer, freeze_lower_layers

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "datathon2022"
E5 = Path.home() / ".cache" / "hf-offline" / "multilingual-e5-small"
SETTINGS = {
    "baseline (fp32)": {"bf16": False, "freeze": 0, "threads": None},
    "bf16": {"bf16": True, "freeze": 0, "threads": None},
    "freeze 4": {"bf16": False, "freeze": 4, "threads": None},
    "freeze 6": {"bf16": False, "freeze": 6, "threads": None},
    "bf16 + freeze 4": {"bf16": True, "freeze": 4, "threads": None},
    "bf16 + freeze 6": {"bf16": True, "freeze": 6, "threads": None},
    "1 thread": {"bf16": False, "freeze": 0, "threads": 1},
}


def build(model: str, n_labels: int, freeze: int) -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(0)
    encoder = pretrained(model, "encoder")
    encoder.get_input_embeddings().weight.requires_grad_(False)
    if freeze:
        freeze_lower_layers(encoder, freeze)
    classifier = EncoderClassifier(encoder, n_labels).train()
    params = [p for p in classifier.parameters() if p.requires_grad]
    return classifier, torch.optim.AdamW(params, lr=1e-4)


def step(model, optimizer, batch, bf16: bool) -> None:
    autocast = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    with autocast:
        logits = model(batch["input_ids"], batch["attention_mask"])
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logits.float(), batch["labels"])
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(E5), help="encoder directory or hub id")
    parser.add_argument("--data", default=str(DATA / "tweets_train.csv"))
    parser.add_argument("--steps", type=int, default=20, help="steps per setting per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="*", help="settings to run (default all)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.getLogger("transformers").setLevel(logging.ERROR)
    cores = os.cpu_count() or 1
    load_start = os.getloadavg()

    frame = pd.read_csv(args.data)
    labels = ["Odio", "Mujeres", "Comunidad LGBTQ+", "Comunidades Migrantes", "Pueblos Originarios"]
    Y = (frame[labels].to_numpy() >= 2).astype(np.float32)
    trainer = EncoderTrainer(args.model, TransformerConfig(batch_size=16))
    ids = trainer.encode(preprocess_many(frame["text"].tolist(), PreprocessOptions()))
    sampler = LengthGroupedBatches([len(i) for i in ids], 16, seed=0, group=True)
    collate, data = Collator(pad_id(trainer.tokenizer)), Encoded(ids, Y)
    batches = [collate([data[i] for i in rows]) for rows in list(sampler)[: args.steps]]
    tweets = sum(len(b["labels"]) for b in batches)

    chosen = {k: v for k, v in SETTINGS.items() if not args.only or k in args.only}
    models = {name: build(args.model, len(labels), s["freeze"]) for name, s in chosen.items()}
    seconds: dict[str, list[float]] = {name: [] for name in chosen}
    for name, s in chosen.items():  # warm-up: oneDNN picks its kernels on the first steps
        torch.set_num_threads(s["threads"] or cores)
        step(*models[name], batches[0], s["bf16"])
    for r in range(args.rounds):
        for name, s in chosen.items():
            torch.set_num_threads(s["threads"] or cores)
            start = time.perf_counter()
            for batch in batches:
                step(*models[name], batch, s["bf16"])
            seconds[name].append(time.perf_counter() - start)
            print(
                f"round {r + 1} {name:<18} {tweets / seconds[name][-1]:6.1f} tweets/s", flush=True
            )

    base = float(np.median(seconds["baseline (fp32)"])) if "baseline (fp32)" in seconds else None
    print(
        f"\nmodel {args.model}; {args.steps} steps of batch 16 ({tweets} tweets) per setting "
        f"and round, {args.rounds} rounds, median; cpu count {cores}; load average "
        f"{load_start[0]:.2f} at start, {os.getloadavg()[0]:.2f} at end"
    )
    print("| setting | tweets/s (median) | vs baseline |\n|---|---|---|")
    for name, secs in seconds.items():
        median = float(np.median(secs))
        ratio = f"{base / median:.2f}x" if base else ""
        print(f"| {name} | {tweets / median:.1f} | {ratio} |")


if __name__ == "__main__":
    main()
