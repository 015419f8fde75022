"""A tweet and its conversation context as one text: the form every model reads them in.

A reply is often readable only with the tweet it answers ("que se vuelvan todos"). odio
carries a tweet and its context (the tweets it replies to or quotes, see
:mod:`odio.data.context`) through every layer that passes texts (folds, blends, stacks,
the Detector, the server's batcher) as one string: the tweet, :data:`CONTEXT_MARK`, then
the context. Only the models split it again:

- normalisation (:func:`odio.text.preprocess.preprocess_tweet`) runs on each part alone;
- TF-IDF reads the context as a separate block of n-gram features
  (:mod:`odio.models.tfidf`);
- an encoder reads the two as a tokenizer text pair, the tweet first, truncating only the
  context (:func:`odio.text.tokens.encode`).

A text without context is left exactly as it is, so a model trained without context scores
as it did before context existed.

Example:
    >>> packed = join_context("que se vuelvan todos", "llegan 500 migrantes al norte")
    >>> split_context(packed)
    ('que se vuelvan todos', 'llegan 500 migrantes al norte')
    >>> join_context("hola", None) == "hola", split_context("hola")
    (True, ('hola', ''))
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["CONTEXT_MARK", "has_context", "join_context", "join_contexts", "split_context"]

CONTEXT_MARK = "\x1e"
"""Between a tweet and its context: U+001E (the ASCII record separator), a control
character that no tweet holds (:func:`join_context` turns any inside either part into a
space)."""


def join_context(text: str, context: str | None) -> str:
    """``text`` followed by its ``context``; ``text`` itself when the context is empty.

    A :data:`CONTEXT_MARK` inside either part becomes a space (what normalisation made of
    it before context existed: it is whitespace to ``str.split``).

    >>> join_context("tweet", "  ") == "tweet", join_context("a", "b") == "a\\x1eb"
    (True, True)
    """
    text = text.replace(CONTEXT_MARK, " ") if CONTEXT_MARK in text else text
    if context is None or not isinstance(context, str) or not context.strip():
        return text
    return text + CONTEXT_MARK + context.replace(CONTEXT_MARK, " ")


def join_contexts(texts: Sequence[str], contexts: Sequence[str | None] | None) -> list[str]:
    """:func:`join_context` of every text with the context at its position (``None``: no
    context for any; the texts are still cleared of the mark).

    >>> join_contexts(["a", "b"], [None, "c"]) == ["a", "b\\x1ec"]
    True
    """
    if contexts is None:
        return [join_context(t, None) for t in texts]
    if len(contexts) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(contexts)} contexts")
    return [join_context(t, c) for t, c in zip(texts, contexts, strict=True)]


def split_context(text: str) -> tuple[str, str]:
    """``(tweet, context)`` of a text from :func:`join_context` (context ``""`` if none).

    >>> split_context("a\\x1eb")
    ('a', 'b')
    """
    tweet, _, context = text.partition(CONTEXT_MARK)
    return tweet, context


def has_context(text: str) -> bool:
    """Whether a text carries a context.

    >>> has_context("a\\x1eb"), has_context("a")
    (True, False)
    """
    return CONTEXT_MARK in text
