"""Training throughput: the reference data path vs odio's, same model, same batch size.

Reference (the blog post's pipeline): a Dataset that normalises and tokenises each item on
every access and pads it to 128 tokens; shuffled batches. odio: tweets normalised and
tokenised once, batches grouped by length and padded to their longest item
(:class:`odio.training.encoder_data.LengthGroupedBatches` and ``Collator``).

Both feed the same RoBERTuito-size model (RoBERTa, vocab 30002, 12 x 768, 130 positions,
random weights: speed only) through the same forward, backward and AdamW step. Rounds
alternate between the two paths so machine noise hits both alike; the ratio is reported.

    python benchmarks/train_speed.py --data ../shared/data/datathon2022/tweets_train.csv
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np
import pandas as pd
import torch
from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast, RobertaConfig, RobertaModel

from odio.models.encoder import EncoderClassifier
from odio.text.preprocess import preprocess_many, preprocess_tweet
from odio.text.tokens import encode
from odio.training.encoder_data import Collator, Encoded, LengthGroupedBatches


def robertuito_size_tokenizer(texts: list[str]) -> PreTrainedTokenizerFast:
    """A byte-level BPE trained on the tweets (RoBERTuito's own is on the hub, offline here)."""
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=30000, special_tokens=specials))
    tok.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0))
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
    )


def robertuito_size_config() -> RobertaConfig:
    """RoBERTuito's shape: RoBERTa, vocab 30002, 12 layers x 768, 130 positions."""
    return RobertaConfig(
        vocab_size=30002,
        hidden_size=768,
        num_hidden_layers=12,
        num_attention_heads=12,
        intermediate_size=3072,
        max_position_embeddings=130,
        pad_token_id=1,
    )


class ReferenceDataset(torch.utils.data.Dataset):
    """The reference path: normalise and tokenise on every access, pad to max_length."""

    def __init__(self, texts, Y, tokenizer, max_length=128):
        self.texts, self.Y, self.tokenizer, self.max_length = texts, Y, tokenizer, max_length

    def __len__(self):
        return len(self.texts)

    def __getitem__(self, i):
        enc = self.tokenizer(  # encode_plus in the reference; removed in transformers 5
            preprocess_tweet(self.texts[i]),
            padding="max_length",
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )
        return {
            "input_ids": enc["input_ids"][0],
            "attention_mask": enc["attention_mask"][0],
            "labels": torch.as_tensor(self.Y[i], dtype=torch.float32),
        }


def time_steps(model, optimizer, batches, steps: int) -> tuple[float, int]:
    """Seconds and tweets for ``steps`` optimisation steps, data loading included."""
    loss_fn = torch.nn.BCEWithLogitsLoss()
    tweets = 0
    start = time.perf_counter()
    for batch in itertools.islice(batches, steps):
        logits = model(batch["input_ids"], batch["attention_mask"])
        loss = loss_fn(logits, batch["labels"])
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        tweets += len(batch["labels"])
    return time.perf_counter() - start, tweets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default="../shared/data/datathon2022/tweets_train.csv")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=3, help="timed steps per round and path")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    torch.manual_seed(0)
    frame = pd.read_csv(args.data)
    labels = ["Odio", "Mujeres", "Comunidad LGBTQ+", "Comunidades Migrantes", "Pueblos Originarios"]
    texts, Y = frame["text"].tolist(), (frame[labels].to_numpy() >= 2).astype(np.float32)
    tokenizer = robertuito_size_tokenizer(preprocess_many(texts))
    config = robertuito_size_config()
    model = EncoderClassifier(RobertaModel(config, add_pooling_layer=False), len(labels)).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-5)

    reference = torch.utils.data.DataLoader(
        ReferenceDataset(texts, Y, tokenizer), batch_size=args.batch_size, shuffle=True
    )
    start = time.perf_counter()
    ids = encode(tokenizer, preprocess_many(texts), 128)  # once per dataset
    prep_seconds = time.perf_counter() - start
    odio = torch.utils.data.DataLoader(
        Encoded(ids, Y),
        collate_fn=Collator(tokenizer.pad_token_id),
        batch_sampler=LengthGroupedBatches([len(i) for i in ids], args.batch_size, 42, True),
    )
    params = sum(p.numel() for p in model.parameters()) / 1e6
    print(
        f"model: RoBERTa 12x768, vocab 30002, {params:.0f}M params; "
        f"batch {args.batch_size}; torch threads {torch.get_num_threads()}"
    )
    print(f"odio one-off normalise+tokenise of {len(texts)} tweets: {prep_seconds:.2f}s")
    time_steps(model, optimizer, iter(odio), 1)  # warm-up
    totals = {"reference": [0.0, 0], "odio": [0.0, 0]}
    for r in range(args.rounds):
        for name, loader in (("reference", reference), ("odio", odio)):
            seconds, tweets = time_steps(model, optimizer, iter(loader), args.steps)
            totals[name][0] += seconds
            totals[name][1] += tweets
            print(f"round {r + 1} {name:<9}: {tweets / seconds:6.2f} tweets/s", flush=True)
    rate = {k: t / s for k, (s, t) in totals.items()}
    print(f"reference path: {rate['reference']:.2f} tweets/s")
    print(f"odio path:      {rate['odio']:.2f} tweets/s")
    print(f"speed-up:       {rate['odio'] / rate['reference']:.2f}x")


if __name__ == "__main__":
    main()
