"""A tweet and its context as one text: normalised part by part, tokenised as a text pair
with only the context truncated."""

from __future__ import annotations

from odio.text.context import CONTEXT_MARK, join_context, join_contexts, split_context
from odio.text.preprocess import preprocess_many, preprocess_tweet
from odio.text.tokens import SavedTokenizer, encode, load_tokenizer


def test_join_and_split():
    assert join_context("hola", None) == "hola" and join_context("hola", " ") == "hola"
    packed = join_context("a\x1eb", "c")
    assert split_context(packed) == ("a b", "c")  # a mark inside a part is a space
    assert join_contexts(["a", "b"], None) == ["a", "b"]


def test_each_part_is_normalised_alone():
    tweet, context = "JAJAJAJ ándate @pepe\n", "#NoMasMigrantes https://t.co/x 😂"
    packed = preprocess_tweet(join_context(tweet, context))
    assert split_context(packed) == (preprocess_tweet(tweet), preprocess_tweet(context))
    assert preprocess_tweet(packed) == packed  # idempotent
    assert preprocess_many(["solo el tweet"]) == [preprocess_tweet("solo el tweet")]


def test_a_text_pair_truncates_the_context_not_the_tweet(tiny_encoder):
    tokenizer = load_tokenizer(tiny_encoder)
    tweet, long_context = "las minas no saben nada", "llegan migrantes al norte " * 30
    alone = encode(tokenizer, [tweet], 32)[0]
    paired = encode(tokenizer, [join_context(tweet, long_context)], 32)[0]
    expected = tokenizer(tweet, long_context, truncation="only_second", max_length=32)
    assert paired == expected["input_ids"] and len(paired) == 32
    assert paired[: len(alone)] == alone  # the whole tweet first, then the context
    assert paired.count(tokenizer.sep_token_id) == 3  # RoBERTa: </s></s> between, </s> at the end
    # a text without context is encoded as before
    assert encode(tokenizer, [tweet, join_context(tweet, long_context)], 32)[0] == alone


def test_a_tweet_that_fills_the_window_is_read_alone(tiny_encoder):
    tokenizer = load_tokenizer(tiny_encoder)
    tweet = "hola weon " * 40
    assert encode(tokenizer, [join_context(tweet, "contexto")], 16) == encode(
        tokenizer, [tweet], 16
    )


def test_saved_tokenizer_encodes_pairs_as_transformers(tiny_encoder, tmp_path):
    hf = load_tokenizer(tiny_encoder)
    hf.save_pretrained(tmp_path)
    saved = SavedTokenizer.load(tmp_path)
    texts = [
        join_context("que se vuelvan todos", "llegan 500 migrantes al norte " * 5),
        "sin contexto",
        join_context("ándate a tu país", "hoy"),
    ]
    assert encode(saved, texts, 24) == encode(hf, texts, 24)
    assert CONTEXT_MARK not in hf.decode(encode(hf, texts, 24)[0])
