"""Tokenisation for inference, shared by the PyTorch and ONNX Runtime members.

Fold members of one run share the base model's tokenizer (a model directory holds it once),
so a :class:`~odio.models.blend.Blend` tokenises a batch once and hands the same token ids
to every member. Batches are sorted by length and padded to their longest item, so a
20-token tweet is not padded to 128.

A saved tokenizer is read with ``transformers`` (:func:`load_tokenizer`, what PyTorch
members use) or, when it has a ``tokenizer.json``, with the ``tokenizers`` library alone
(:class:`SavedTokenizer`, what ONNX members use: transformers imports torch, seconds of
start-up a server does not need). Both give the same token ids.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from odio.errors import OdioError
from odio.extras import require
from odio.text.context import has_context, split_context

TOKENIZER_FILE = "tokenizer.json"
"""A fast tokenizer's whole pipeline, as ``save_pretrained`` writes it."""
TOKENIZER_CONFIG = "tokenizer_config.json"
"""Its special tokens and settings (truncation side), as ``save_pretrained`` writes them."""
SAVED_FILES = (TOKENIZER_FILE, TOKENIZER_CONFIG, "special_tokens_map.json", "added_tokens.json")
"""The files a :class:`SavedTokenizer` reads, and copies when it is saved elsewhere."""
SLOW_VOCABULARIES = ("vocab.json", "vocab.txt", "merges.txt", "*.model", "*.spm")
"""Vocabulary files of a tokenizer saved without ``tokenizer.json`` (read by transformers)."""


def load_tokenizer(source: str | Path) -> Any:
    """The Hugging Face tokenizer of a hub id or a local directory (``save_pretrained``
    files). Code shipped with a model is never run (``trust_remote_code=False``).

    >>> load_tokenizer("runs/example/model/tokenizer")  # doctest: +SKIP
    """
    transformers = require("transformers", "onnx", "a transformer model's tokenizer")
    return transformers.AutoTokenizer.from_pretrained(str(source), trust_remote_code=False)


def check_tokenizer_files(folder: Path) -> None:
    """Raise an :class:`OdioError` naming the missing file when ``folder`` holds no saved
    tokenizer: ``tokenizer.json``, or a slow tokenizer's vocabulary (transformers would
    otherwise build one from the special tokens alone and score nonsense).

    >>> check_tokenizer_files(Path("no/such/tokenizer"))
    Traceback (most recent call last):
    ...
    odio.errors.OdioError: no/such/tokenizer/tokenizer.json is missing: the model's tokenizer was not saved or copied with it
    """  # noqa: E501 - a doctest output line cannot be wrapped
    if (folder / TOKENIZER_FILE).is_file():
        return
    if (folder / TOKENIZER_CONFIG).is_file() and any(
        path.is_file() for pattern in SLOW_VOCABULARIES for path in folder.glob(pattern)
    ):
        return
    raise OdioError(
        f"{folder / TOKENIZER_FILE} is missing: "
        "the model's tokenizer was not saved or copied with it"
    )


class SavedTokenizer:
    """A tokenizer saved by transformers' ``save_pretrained``, run by ``tokenizers`` alone.

    ``tokenizer.json`` holds the fast tokenizer's whole pipeline (normaliser, pre-tokenizer,
    model, post-processor adding the special tokens), as transformers had set it up;
    ``tokenizer_config.json`` holds the padding token and the truncation side. Calling it
    encodes as transformers does for ``tokenizer(texts, truncation=True, max_length=n,
    padding=False)``: longest-first truncation to ``n`` tokens special tokens included, no
    padding; with a ``text_pair``, as ``truncation="only_second"`` does. Like transformers'
    tokenizers it is not thread-safe (it sets the truncation length of its pipeline).

    Args:
        folder: where its files are (they are copied from there by :meth:`save_pretrained`).
        backend: the ``tokenizers.Tokenizer`` read from ``tokenizer.json``.
        config: the contents of ``tokenizer_config.json`` (and ``special_tokens_map.json``).

    Example:
        >>> tokenizer = SavedTokenizer.load("runs/e5/model-int8/tokenizer")  # doctest: +SKIP
        >>> tokenizer(["hola weon"], truncation=True, max_length=128)["input_ids"]
        ... # doctest: +SKIP
        [[0, 412, 98, 2]]
    """

    def __init__(self, folder: Path, backend: Any, config: dict[str, Any]) -> None:
        self.folder = folder
        self.backend = backend
        self.truncation_side = str(config.get("truncation_side") or "right")
        self.model_max_length = config.get("model_max_length")
        backend.no_padding()
        backend.no_truncation()
        backend.encode_special_tokens = bool(config.get("split_special_tokens", False))
        self.pad_token = _token(config.get("pad_token"))
        unk = _token(config.get("unk_token"))
        unk_id = None if unk is None else backend.token_to_id(unk)
        found = None if self.pad_token is None else backend.token_to_id(self.pad_token)
        self.pad_token_id: int | None = (
            None if self.pad_token is None else (unk_id if found is None else found)
        )

    def __call__(
        self,
        texts: Sequence[str],
        text_pair: Sequence[str] | None = None,
        *,
        truncation: bool | str = True,
        max_length: int | None = None,
        padding: bool = False,
    ) -> dict[str, list[list[int]]]:
        """``{"input_ids": ..., "attention_mask": ...}`` of ``texts`` (or of the pairs of
        ``texts`` and ``text_pair``), truncated, unpadded."""
        if not truncation or max_length is None or padding:
            raise ValueError("a SavedTokenizer only truncates to max_length, without padding")
        target = {
            "max_length": max_length,
            "stride": 0,
            "strategy": "only_second" if truncation == "only_second" else "longest_first",
            "direction": self.truncation_side,
        }
        current = self.backend.truncation
        if current is None or {key: current.get(key) for key in target} != target:
            self.backend.enable_truncation(**target)
        inputs: list[Any] = list(texts)
        if text_pair is not None:
            inputs = list(zip(texts, text_pair, strict=True))
        encodings = self.backend.encode_batch(inputs, add_special_tokens=True)
        return {
            "input_ids": [e.ids for e in encodings],
            "attention_mask": [e.attention_mask for e in encodings],
        }

    def save_pretrained(self, directory: str | Path) -> None:
        """Copy its files to ``directory`` (what transformers' ``save_pretrained`` would
        write for it)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name in SAVED_FILES:
            source = self.folder / name
            if source.is_file() and (directory / name).resolve() != source.resolve():
                shutil.copyfile(source, directory / name)

    @classmethod
    def load(cls, folder: str | Path) -> SavedTokenizer:
        """Read ``tokenizer.json`` and ``tokenizer_config.json`` from ``folder``."""
        tokenizers = require("tokenizers", "onnx", "a model's tokenizer")
        folder = Path(folder)
        check_tokenizer_files(folder)
        config, legacy = _read_json(folder / TOKENIZER_CONFIG), folder / "special_tokens_map.json"
        if "added_tokens_decoder" not in config and legacy.is_file():
            config.update(_read_json(legacy))  # as transformers reads older saves
        backend = tokenizers.Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        return cls(folder, backend, config)


def _read_json(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    return data if isinstance(data, dict) else {}


def _token(value: Any) -> str | None:
    """A special token as saved: its text, or an ``AddedToken`` dict with its ``content``."""
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else None


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
PAIR_ROOM = 4
"""Tokens a tweet's own encoding must leave free for its context to be read with it: the
pair's extra special tokens (two for RoBERTa, one for BERT) and at least one token."""


def encode(tokenizer: Any, texts: Sequence[str], max_length: int) -> list[list[int]]:
    """Token ids of every text, truncated to ``max_length``, unpadded.

    A text that carries conversation context (:mod:`odio.text.context`) is encoded as a
    text pair, the tweet first, truncating only the context (``only_second``): the context
    fills what the tweet leaves of ``max_length``. A tweet that leaves less than
    :data:`PAIR_ROOM` tokens is read alone. Texts without context are encoded exactly as
    they were before context existed.

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
    if any(has_context(text) for text in texts):
        return _encode_pairs(tokenizer, texts, max_length)
    heads = [_head(text, max_length * HEAD_CHARS_PER_TOKEN) for text in texts]
    ids = _ids(tokenizer, heads, max_length)
    short = [i for i, row in enumerate(ids) if len(row) < max_length and heads[i] != texts[i]]
    if short:
        redone = _ids(tokenizer, [texts[i] for i in short], max_length)
        for i, row in zip(short, redone, strict=True):
            ids[i] = row
    return ids


def _encode_pairs(tokenizer: Any, texts: Sequence[str], max_length: int) -> list[list[int]]:
    """:func:`encode` of texts some of which carry a context: tweets alone first, then the
    pairs of the tweets that leave room for their context."""
    parts = [split_context(text) for text in texts]
    ids = encode(tokenizer, [tweet for tweet, _ in parts], max_length)
    room = max_length - PAIR_ROOM
    paired = [i for i, (_, ctx) in enumerate(parts) if ctx and len(ids[i]) <= room]
    if paired:
        limit = max_length * HEAD_CHARS_PER_TOKEN
        out = tokenizer(
            [parts[i][0] for i in paired],
            [_head(parts[i][1], limit) for i in paired],
            truncation="only_second",
            max_length=max_length,
            padding=False,
        )
        for i, row in zip(paired, out["input_ids"], strict=True):
            ids[i] = list(row)
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
