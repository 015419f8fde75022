"""Tokenisation helpers: length-sorted batches, padding, the padding id."""

from __future__ import annotations

import numpy as np

from odio.text.tokens import (
    HEAD_CHARS_PER_TOKEN,
    encode,
    length_batches,
    load_tokenizer,
    pad,
    pad_id,
)


def test_encode_truncates_and_does_not_pad(tiny_encoder):
    tokenizer = load_tokenizer(tiny_encoder)
    ids = encode(tokenizer, ["hola weon " * 40, "hola"], 16)
    assert len(ids[0]) == 16 and len(ids[1]) < 16
    assert encode(tokenizer, [], 16) == []
    assert pad_id(tokenizer) == 1


def test_length_batches_and_padding():
    ids = [[0, 5, 2], [0, 2], [0, 5, 6, 7, 2], [0, 9, 2]]
    batches = [b.tolist() for b in length_batches(ids, 2)]
    assert batches == [[2, 0], [3, 1]]
    input_ids, mask = pad([ids[r] for r in batches[0]], pad_id=1)
    assert input_ids.shape == (2, 5) and input_ids.dtype == np.int64
    assert mask.sum(axis=1).tolist() == [5, 3]
    assert input_ids[1, 3:].tolist() == [1, 1]


def _unigram_and_wordpiece(texts):
    """A SentencePiece-style (Metaspace, Unigram) and a BERT-style (WordPiece) tokenizer."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    unigram = Tokenizer(models.Unigram())
    unigram.pre_tokenizer = pre_tokenizers.Metaspace()
    unigram.train_from_iterator(
        texts, trainers.UnigramTrainer(vocab_size=300, special_tokens=["<pad>", "<unk>"])
    )
    wordpiece = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    wordpiece.normalizer = normalizers.BertNormalizer(lowercase=True)
    wordpiece.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
    wordpiece.train_from_iterator(
        texts, trainers.WordPieceTrainer(vocab_size=300, special_tokens=specials)
    )
    wordpiece.post_processor = processors.BertProcessing(("[SEP]", 3), ("[CLS]", 2))
    return [
        PreTrainedTokenizerFast(tokenizer_object=unigram, pad_token="<pad>", unk_token="<unk>"),
        PreTrainedTokenizerFast(tokenizer_object=wordpiece, pad_token="[PAD]", unk_token="[UNK]"),
    ]


def test_long_texts_are_tokenised_from_their_head_with_the_same_ids(tiny_encoder, sample_frame):
    from odio.text.preprocess import preprocess_many

    tweets = preprocess_many(sample_frame["text"].tolist())
    long_texts = [
        " ".join(tweets) * 3,  # words
        preprocess_many(["😀🤬🇨🇱 " * 3000])[0],  # emoji names, at the normalisation cap
        "a" * 5000 + " " + " ".join(tweets),  # a giant first word: whole text
        "  ".join(tweets),  # double spaces
        "x" * 20_000,  # no space at all
        "hola " * 100,  # under the head limit
    ]
    for tokenizer in [load_tokenizer(tiny_encoder), *_unigram_and_wordpiece(tweets)]:
        for max_length in (8, 128):
            full = tokenizer(long_texts, truncation=True, max_length=max_length)["input_ids"]
            assert encode(tokenizer, long_texts, max_length) == full


def test_a_long_text_costs_about_as_much_as_a_tweet(tiny_encoder):
    tokenizer = load_tokenizer(tiny_encoder)
    seen = []

    def spy(texts, **kwargs):
        seen.extend(len(t) for t in texts)
        return tokenizer(texts, **kwargs)

    ids = encode(spy, ["hola weon culiao " * 600] * 256, 128)  # 256 texts of 10,200 chars
    assert {len(row) for row in ids} == {128}
    assert max(seen) <= 128 * HEAD_CHARS_PER_TOKEN  # never the whole 10,200 characters
