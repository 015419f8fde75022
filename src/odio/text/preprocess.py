"""Tweet normalisation matching what RoBERTuito saw in pretraining.

RoBERTuito was pretrained on tweets passed through pysentimiento's ``preprocess_tweet``:
handles become ``@usuario``, links become ``url``, hashtags are spelled out, emoji are
replaced by their Spanish names, laughter is normalised to ``jaja`` and long character runs
are shortened. Feeding the model text in the same shape at fine-tuning and inference time
keeps it on the distribution its vocabulary and weights were fitted to.

The steps live in :mod:`odio.text.steps` and the options in :mod:`odio.text.options`; this
module runs them in order.

Example:
    >>> preprocess_tweet("@danieljadue jajajaja weón #NoMasAbusos https://t.co/813bPNQZqR")
    '@usuario jaja weón hashtag no mas abusos url'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from odio.text.context import CONTEXT_MARK, join_context, split_context
from odio.text.options import DEFAULT_OPTIONS, PreprocessOptions
from odio.text.steps import (
    MAX_NORMALISED_CHARS,
    cap_length,
    collapse_whitespace,
    deobfuscate,
    mark_newlines,
    normalise_laughter,
    replace_emoji,
    replace_handles,
    replace_hashtags,
    replace_surrogates,
    replace_urls,
    shorten_repeats,
)

__all__ = [
    "MAX_NORMALISED_CHARS",
    "STEPS",
    "PreprocessOptions",
    "preprocess_many",
    "preprocess_tweet",
    "replace_surrogates",
]

STEPS: tuple[tuple[str | None, Callable[[str], str]], ...] = (
    (None, replace_surrogates),
    ("url", replace_urls),
    ("user", replace_handles),
    ("hashtag", replace_hashtags),
    ("deobfuscate", deobfuscate),
    ("repetition", shorten_repeats),
    ("laughter", normalise_laughter),
    ("emoji", replace_emoji),
    ("newlines", mark_newlines),
    (None, collapse_whitespace),
    ("lowercase", str.lower),
    (None, cap_length),
)
"""The normalisation steps in the order they run: ``(option, step)``, where ``option`` names
the :class:`PreprocessOptions` field that switches the step on (``None``: always runs)."""


def preprocess_tweet(text: str, options: PreprocessOptions | None = None) -> str:
    """Normalise one tweet the way RoBERTuito's pretraining data was normalised.

    Steps run in this order (each switchable through ``options`` except the first and the
    last two):

    0. Lone UTF-16 surrogates -> U+FFFD (always; see :func:`replace_surrogates`).
    1. URLs -> ``url``. First, so ``#`` fragments and ``@`` in paths are not taken for
       hashtags or handles, and before handles so ``juan@gmail.com`` is never cut into a
       domain.
    2. Handles -> ``@usuario`` (an ``@`` preceded by a word character is an e-mail and kept).
    3. Hashtags -> ``hashtag`` + split words; before repetition/laughter so the spelled-out
       words are normalised too (``#JAJAJAJA`` -> ``hashtag jaja``).
    4. Repetition: runs of more than three identical characters cut to three; before emoji
       so ``😂😂😂😂😂`` keeps three emoji rather than five names.
    5. Laughter -> ``jaja``; after repetition so ``jajajaaaaa`` is seen as laughter.
    6. Emoji -> `` emoji <nombre> emoji ``; after the token replacements so emoji names
       are never read as hashtags, handles or laughter.
    7. Newlines -> ``. `` (a single one per run; no extra dot after ``.!?…,;:``).
    8. Whitespace collapsed to single spaces and stripped (always).
    9. Lowercase, if requested; after the replacements so it also covers the inserted tokens.
    10. Cut to :data:`MAX_NORMALISED_CHARS` characters at a word boundary (always).

    Every step takes time linear in the text's length (the steps are :data:`STEPS`).

    Applying the function to its own output returns it unchanged. A tweet joined with its
    conversation context (:func:`odio.text.context.join_context`) is normalised part by part.

    Args:
        text: Raw tweet text.
        options: Steps to run; ``None`` means :class:`PreprocessOptions` defaults.

    Returns:
        The normalised text (empty string for empty input).

    Raises:
        TypeError: If ``text`` is not a string (e.g. ``None`` or a pandas ``NaN``).

    Example:
        >>> preprocess_tweet("JAJAJAJ el flaite culiao 😂\\nfome la wea www.emol.cl/x")
        'jaja el flaite culiao emoji cara llorando de risa emoji. fome la wea url'
    """
    if not isinstance(text, str):
        hint = " (missing value? drop or fill NaN before preprocessing)" if _is_nan(text) else ""
        raise TypeError(
            f"preprocess_tweet expects a str, got {type(text).__name__}: {text!r}{hint}"
        )
    if not text:
        return text
    if CONTEXT_MARK in text:  # a tweet and its context (odio.text.context): each alone
        tweet, context = split_context(text)
        return join_context(preprocess_tweet(tweet, options), preprocess_tweet(context, options))
    opts = DEFAULT_OPTIONS if options is None else options
    for option, step in STEPS:
        if option is None or getattr(opts, option):
            text = step(text)
    return text


def preprocess_many(texts: Iterable[str], options: PreprocessOptions | None = None) -> list[str]:
    """Apply :func:`preprocess_tweet` to every text.

    Args:
        texts: Raw tweet texts.
        options: Steps to run; ``None`` means :class:`PreprocessOptions` defaults.

    Returns:
        The normalised texts, in input order.

    Raises:
        TypeError: If ``texts`` is a single string or any element is not a string.

    Example:
        >>> preprocess_many(["wn @pepe", "siiiiii po"])
        ['wn @usuario', 'siii po']
    """
    # A bare string is iterable too and would silently be processed character by character.
    if isinstance(texts, str):
        raise TypeError("preprocess_many expects an iterable of str, got a single str")
    opts = DEFAULT_OPTIONS if options is None else options
    return [preprocess_tweet(t, opts) for t in texts]


def _is_nan(value: object) -> bool:
    return isinstance(value, float) and value != value
