"""Tokenisation for inference, shared by the PyTorch and ONNX Runtime members.

Fold members of one run share the base model's tokenizer, so a
:class:`~odio.detector.Detector` tokenises a batch once and hands the same token ids to
every member with an equal :func:`tokenizer_key`. Batches are sorted by length and padded
to their longest item, so a 20-token tweet is not padded to 128.

This module needs ``transformers`` only to load a tokenizer and never imports torch, so the
ONNX runtime can serve a model without it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np


def load_tokenizer(directory: str | Path) -> Any:
    """The Hugging Face tokenizer saved in ``directory`` (``save_pretrained`` files).

    >>> load_tokenizer("runs/example/model/fold_0")  # doctest: +SKIP
    """
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(directory))


def encode(tokenizer: Any, texts: Sequence[str], max_length: int) -> list[list[int]]:
    """Token ids of every text, truncated to ``max_length``, unpadded.

    >>> encode(tokenizer, ["hola weon"], 128)  # doctest: +SKIP
    [[0, 412, 98, 2]]
    """
    if not len(texts):
        return []
    out = tokenizer(list(texts), truncation=True, max_length=max_length, padding=False)
    return out["input_ids"]


def tokenizer_key(tokenizer: Any, max_length: int) -> str:
    """A fingerprint of how ``tokenizer`` turns text into ids at ``max_length``.

    Two members with equal keys produce identical token ids, so their ids can be shared.
    The key hashes the fast tokenizer's definition (vocabulary, merges, normaliser,
    special tokens) without its current truncation and padding state, which a call changes.
    A slow tokenizer has no such definition and gets a key of its own.

    >>> tokenizer_key(object(), 128).startswith("object-")
    True
    """
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return f"{type(tokenizer).__name__}-{id(tokenizer)}-{max_length}"
    spec = json.loads(backend.to_str())
    spec.pop("truncation", None)
    spec.pop("padding", None)
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode("utf-8")).hexdigest()
    return f"{digest[:24]}-{max_length}"


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
