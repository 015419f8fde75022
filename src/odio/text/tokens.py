"""Tokenisation for inference, shared by the PyTorch and ONNX Runtime members.

Fold members of one run share the base model's tokenizer (a model directory holds it once),
so a :class:`~odio.models.blend.Blend` tokenises a batch once and hands the same token ids
to every member. Batches are sorted by length and padded to their longest item, so a
20-token tweet is not padded to 128.

This module needs ``transformers`` only to load a tokenizer and never imports torch, so the
ONNX runtime can serve a model without it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from odio.extras import require


def load_tokenizer(source: str | Path) -> Any:
    """The Hugging Face tokenizer of a hub id or a local directory (``save_pretrained``
    files). Code shipped with a model is never run (``trust_remote_code=False``).

    >>> load_tokenizer("runs/example/model/tokenizer")  # doctest: +SKIP
    """
    transformers = require("transformers", "onnx", "a transformer model's tokenizer")
    return transformers.AutoTokenizer.from_pretrained(str(source), trust_remote_code=False)


def pad_id(tokenizer: Any) -> int:
    """The id that pads a batch (0 for a tokenizer without a padding token).

    >>> class T: pad_token_id = None
    >>> pad_id(T())
    0
    """
    value = getattr(tokenizer, "pad_token_id", None)
    return 0 if value is None else int(value)


HEAD_CHARS_PER_TOKEN = 16
"""A long text is tokenised from a head of ``max_length`` times this many characters."""


def encode(tokenizer: Any, texts: Sequence[str], max_length: int) -> list[list[int]]:
    """Token ids of every text, truncated to ``max_length``, unpadded.

    A fast tokenizer tokenises the whole text before it truncates, and keeps the rest as
    overflow: a 10,000-character text cost as much as 80 tweets. So a text longer than
    ``max_length * HEAD_CHARS_PER_TOKEN`` characters is tokenised from its head, cut at a
    space (a word boundary for every pre-tokenizer odio uses); when that head fills the
    ``max_length`` window the ids are the whole text's, else the whole text is tokenised.

    >>> encode(tokenizer, ["hola weon"], 128)  # doctest: +SKIP
    [[0, 412, 98, 2]]
    """
    if not len(texts):
        return []
    heads = [_head(text, max_length * HEAD_CHARS_PER_TOKEN) for text in texts]
    ids = _ids(tokenizer, heads, max_length)
    short = [i for i, row in enumerate(ids) if len(row) < max_length and heads[i] != texts[i]]
    if short:
        redone = _ids(tokenizer, [texts[i] for i in short], max_length)
        for i, row in zip(short, redone, strict=True):
            ids[i] = row
    return ids


def _ids(tokenizer: Any, texts: Sequence[str], max_length: int) -> list[list[int]]:
    out = tokenizer(list(texts), truncation=True, max_length=max_length, padding=False)
    return list(out["input_ids"])


def _head(text: str, limit: int) -> str:
    """``text`` cut at the last space before ``limit`` characters (whole if it has none)."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[:cut] if cut > 0 else text


def length_batches(ids: Sequence[Sequence[int]], size: int) -> Iterator[np.ndarray]:
    """Row indices of ``ids`` in batches of ``size``, longest first (least padding).

    >>> [b.tolist() for b in length_batches([[1], [1, 2, 3], [1, 2]], 2)]
    [[1, 2], [0]]
    """
    order = np.argsort([-len(i) for i in ids], kind="stable")
    for start in range(0, len(order), size):
        yield order[start : start + size]


def pad(rows: Sequence[Sequence[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """``(input_ids, attention_mask)`` int64 arrays, padded to the longest row.

    >>> ids, mask = pad([[0, 7, 2], [0, 2]], pad_id=1)
    >>> ids.tolist(), mask.tolist()
    ([[0, 7, 2], [0, 2, 1]], [[1, 1, 1], [1, 1, 0]])
    """
    longest = max(len(r) for r in rows)
    input_ids = np.full((len(rows), longest), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), longest), dtype=np.int64)
    for i, row in enumerate(rows):
        input_ids[i, : len(row)] = row
        mask[i, : len(row)] = 1
    return input_ids, mask
