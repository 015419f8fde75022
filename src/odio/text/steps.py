"""The steps of tweet normalisation, one pure ``str -> str`` function each.

:func:`odio.text.preprocess.preprocess_tweet` runs them in order (see
:data:`odio.text.preprocess.STEPS`). Every regex is compiled once at import, and each
step takes time linear in the text's length: no pattern rescans a run of characters from
each of its positions (``tests/text/test_linear_time.py`` checks every step on hostile
shapes). The only lazy work is loading the Spanish emoji names on first use (see
:func:`_emoji_tables`).

Example:
    >>> replace_handles(replace_urls("@pepe mira https://t.co/x"))
    '@usuario mira url'
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

import emoji as _emoji

__all__ = [
    "MAX_NORMALISED_CHARS",
    "cap_length",
    "collapse_whitespace",
    "deobfuscate",
    "mark_newlines",
    "normalise_laughter",
    "replace_emoji",
    "replace_handles",
    "replace_hashtags",
    "replace_surrogates",
    "replace_urls",
    "shorten_repeats",
]

USER_TOKEN = "@usuario"
URL_TOKEN = "url"
HASHTAG_TOKEN = "hashtag"
EMOJI_WRAPPER = "emoji"
LAUGH_TOKEN = "jaja"
MAX_REPEAT = 3
MAX_NORMALISED_CHARS = 10_000
"""Longest normalised text; longer ones are cut at a word boundary. Emoji names can make a
text some 35 times longer (5,000 emoji: 180,000 characters); no tweet comes near the
limit, an encoder reads only its first ``max_length`` tokens (a few hundred characters)
anyway, and the cap bounds what one text can cost every later step."""


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


# --- URLs -----------------------------------------------------------------------------------

_URL_CHARS = r"[\w\-.~:/?#\[\]@!$&'()*+,;=%]"
# TLDs that are not Spanish words, so a bare "algo.cl" is safe to treat as a link.
_STRONG_TLDS = (
    r"(?:com|gob|org|net|edu)\.(?:ar|pe|co|mx|cl|es|uy|bo|ve|ec)"
    r"|cl|com|org|net|mx|io|tv|ly|gl|info"
)
# "es", "ar", "pe", "co" are also words/abbreviations: "wea.es" is usually a missing space,
# so these count only with a path ("t.co/abc").
_WEAK_TLDS = r"es|ar|pe|co"
_LABEL = r"[A-Za-z0-9-]+"
_URL_RE = re.compile(
    rf"""
    (?:https?|ftp)://{_URL_CHARS}+          # explicit scheme: may be glued to previous text
    | (?<![\w@.\-/])                        # bare domains must start a token; "@" keeps e-mails
      (?:
          www\.{_LABEL}(?:\.{_LABEL})+
        | (?:{_LABEL}\.)+(?:{_STRONG_TLDS})(?![\w-])
        | (?:{_LABEL}\.)+(?:{_WEAK_TLDS})(?=/)
      )
      (?:/{_URL_CHARS}*)?
    """,
    re.VERBOSE | re.IGNORECASE,
)
# Punctuation that ends a sentence far more often than it ends a link.
_URL_TRAILING = ".,;:!?'\""


def _url_sub(m: re.Match[str]) -> str:
    url = m.group()
    # Trailing punctuation, and closing brackets with no opening one in the link, end the
    # sentence, not the link. The bracket counts are kept up to date as the tail grows, so
    # the loop is linear in the link's length (recounting each time made a 200 KB link take
    # 20 s).
    opened = {")": url.count("("), "]": url.count("[")}
    closed = {")": url.count(")"), "]": url.count("]")}
    tail_start = len(url)
    while tail_start > 0:
        ch = url[tail_start - 1]
        if ch in _URL_TRAILING:
            tail_start -= 1
        elif ch in closed and opened[ch] < closed[ch]:
            closed[ch] -= 1
            tail_start -= 1
        else:
            break
    start = m.start()
    pad = " " if start > 0 and _is_word_char(m.string[start - 1]) else ""
    return pad + URL_TOKEN + url[tail_start:]


def replace_urls(text: str) -> str:
    """Links (with a scheme, ``www.``, or a bare domain such as ``latercera.com``) -> ``url``.

    Example:
        >>> replace_urls("lee www.emol.com/x, weon")
        'lee url, weon'
    """
    return _URL_RE.sub(_url_sub, text)


# --- Handles ----------------------------------------------------------------------------------

# A word character before "@" means an e-mail ("juan@gmail.com"), not a mention.
_USER_RE = re.compile(r"(?<![\w@])@\w+")


def replace_handles(text: str) -> str:
    """Handles -> ``@usuario``; an ``@`` after a word character is an e-mail and is kept.

    Example:
        >>> replace_handles("@pepe escribe a juan@gmail.com")
        '@usuario escribe a juan@gmail.com'
    """
    return _USER_RE.sub(USER_TOKEN, text)


# --- Hashtags ---------------------------------------------------------------------------------

# "&" guards HTML entities such as "&#39;"; "/" guards URL fragments when url=False.
# At least one letter is required so "#1" stays as it is.
_HASHTAG_RE = re.compile(r"(?<![&/])#(\w*[^\W\d_]\w*)")


def _split_hashtag(body: str) -> str:
    """Split a hashtag body on underscores, camelCase and letter/digit boundaries."""
    words: list[str] = []
    for part in body.split("_"):
        start = 0
        for i in range(1, len(part)):
            prev, cur = part[i - 1], part[i]
            nxt = part[i + 1] if i + 1 < len(part) else ""
            if (
                prev.isdigit() != cur.isdigit()
                or (prev.islower() and cur.isupper())
                # "UDeChile" -> "U De Chile": an acronym ends where a capitalised word starts.
                or (prev.isupper() and cur.isupper() and nxt.islower())
            ):
                words.append(part[start:i])
                start = i
        if part:
            words.append(part[start:])
    return " ".join(words).lower()


def _hashtag_sub(m: re.Match[str]) -> str:
    start = m.start()
    pad = " " if start > 0 and _is_word_char(m.string[start - 1]) else ""
    return f"{pad}{HASHTAG_TOKEN} {_split_hashtag(m.group(1))}"


def replace_hashtags(text: str) -> str:
    """``#NoMasAbusos`` -> ``hashtag no mas abusos``; ``#1`` and ``&#39;`` are kept.

    Example:
        >>> replace_hashtags("#Los80 eran mejores")
        'hashtag los 80 eran mejores'
    """
    return _HASHTAG_RE.sub(_hashtag_sub, text)


# --- Repetition and laughter ------------------------------------------------------------------

_REPEAT_RE = re.compile(rf"(.)\1{{{MAX_REPEAT},}}", re.DOTALL)
# A whole word made only of j/a/s with at least two j's and an a or s: no Spanish word has that
# shape, so "Jaime", "baja", "navaja" or "ojalá" never match. jeje/jiji are left alone, as in
# pysentimiento's normalisation.
_LAUGH_RE = re.compile(r"(?<!\w)(?=[jas]*j[jas]*j)(?=[jas]*[as])[jas]{4,}(?!\w)", re.IGNORECASE)


def shorten_repeats(text: str) -> str:
    """Runs of more than three identical characters cut to three.

    Example:
        >>> shorten_repeats("holaaaaa!!!!!")
        'holaaa!!!'
    """
    return _REPEAT_RE.sub(r"\1" * MAX_REPEAT, text)


def normalise_laughter(text: str) -> str:
    """ja/js laughter (``jajaja``, ``JAJAJ``, ``jsjsjs``, ``ajajaja``) -> ``jaja``.

    Example:
        >>> normalise_laughter("JAJAJAJ ojalá")
        'jaja ojalá'
    """
    return _LAUGH_RE.sub(LAUGH_TOKEN, text)


# --- Emoji ------------------------------------------------------------------------------------

_SKIN_TONES = frozenset(chr(cp) for cp in range(0x1F3FB, 0x1F400))
# Left over after emoji conversion they only render as junk (or nothing at all).
_EMOJI_LEFTOVER_RE = re.compile("[\ufe0e\ufe0f\u200d]")


@functools.lru_cache(maxsize=1)
def _emoji_tables() -> re.Pattern[str]:
    """Load Spanish emoji names once and build a quick "may contain emoji" pre-filter.

    Deferred to first use so importing the module stays cheap and side-effect free.
    """
    _emoji.config.load_language("es")
    return re.compile(_char_class({key[0] for key in _emoji.EMOJI_DATA}))


def _char_class(chars: set[str]) -> str:
    """A regex class matching exactly ``chars``, consecutive code points merged into ranges.

    A class of 1,447 single characters outside the Basic Multilingual Plane is tried one
    character at a time (3 µs per character of text); its 150 ranges are some 20 times faster.

    >>> _char_class({"a", "b", "c", "x"})
    '[a-cx]'
    """
    ranges: list[list[int]] = []
    for point in sorted(map(ord, chars)):
        if ranges and point == ranges[-1][1] + 1:
            ranges[-1][1] = point
        else:
            ranges.append([point, point])
    return (
        "["
        + "".join(
            re.escape(chr(lo)) + ("" if lo == hi else "-" + re.escape(chr(hi))) for lo, hi in ranges
        )
        + "]"
    )


def _emoji_sub(chars: str, data: Mapping[str, Any]) -> str:
    if chars in _SKIN_TONES:
        return ""
    name = data.get("es") or data.get("en") or ""
    name = name.strip(":").replace("_", " ")
    if not name:
        return " "
    return f" {EMOJI_WRAPPER} {name} {EMOJI_WRAPPER} "


def replace_emoji(text: str) -> str:
    """Each emoji -> `` emoji <nombre> emoji ``; lone skin tones and stray variation
    selectors or zero-width joiners are dropped.

    Example:
        >>> replace_emoji("weón😂")
        'weón emoji cara llorando de risa emoji '
    """
    # replace_emoji walks the string in pure Python; most tweets have no emoji, so a C-speed
    # regex search over every possible emoji start character skips that walk.
    if _emoji_tables().search(text):
        text = _emoji.replace_emoji(text, replace=_emoji_sub)
    return _EMOJI_LEFTOVER_RE.sub("", text)


# --- Newlines ---------------------------------------------------------------------------------

# A whole whitespace run holding a line break. "(?<!\s)" lets a match start only where a run
# starts: without it a run of spaces and tabs with no line break was scanned to its end from
# each of its characters (quadratic: 20,000 characters took 7.7 s). Once anchored, the greedy
# "\s*" backtracks at most once over the run, so the step is linear.
_NEWLINE_RE = re.compile(r"(?<!\s)\s*[\r\n\u2028\u2029]\s*")
_SENTENCE_END = frozenset(".!?…,;:")


def _newline_sub(m: re.Match[str]) -> str:
    start = m.start()
    text = m.string
    if start == 0 or m.end() == len(text) or text[start - 1] in _SENTENCE_END:
        return " "
    return ". "


def mark_newlines(text: str) -> str:
    """Each whitespace run holding a line break -> ``. `` (a sentence break), or a single
    space at either end of the text or after ``.!?…,;:``.

    Example:
        >>> mark_newlines("hola\\n\\nchao.\\nya")
        'hola. chao. ya'
    """
    return _NEWLINE_RE.sub(_newline_sub, text)


# --- Obfuscation ------------------------------------------------------------------------------

# Three or more single letters separated by spaces or punctuation: "o d i o", "p.u.t.a".
_SPACED_RE = re.compile(r"(?<![\w@#])(?:[^\W\d_][ .\-*_·]){2,}[^\W\d_](?![\w])")
_SEPARATORS_RE = re.compile(r"[ .\-*_·]")
# Words that may hide letters behind digits or symbols: "m4ric0n", "put@", "m13rd4".
_WORD_RE = re.compile(r"(?<![\w@#$])[\w@$]+")
_LEET = str.maketrans(
    {"4": "a", "@": "a", "3": "e", "1": "i", "0": "o", "5": "s", "7": "t", "$": "s"}
)


def _unleet(m: re.Match[str]) -> str:
    """A word's leetspeak read as letters, when it is one: letters and only leetspeak
    characters, starting with a letter (or a lone 0: "0dio"), so handles, ordinals ("1ero"),
    "100pre", "2x1" and "covid19" stay as written."""
    word = m.group(0)
    letters = sum(ch.isalpha() for ch in word)
    if not letters or letters == len(word) or not word.translate(_LEET).isalpha():
        return word
    if not (word[0].isalpha() or (word[0] == "0" and word[1:2].isalpha())):
        return word
    return word.translate(_LEET)


def deobfuscate(text: str) -> str:
    """Letters split by spaces or punctuation joined, then leetspeak words read as letters.

    Example:
        >>> deobfuscate("te o d i o, m4ric0n")
        'te odio, maricon'
    """
    text = _SPACED_RE.sub(lambda m: _SEPARATORS_RE.sub("", m.group(0)), text)
    return _WORD_RE.sub(_unleet, text)


# --- Unicode ---------------------------------------------------------------------------------

# A lone UTF-16 surrogate (JSON "\ud800") is a valid Python str but cannot be encoded as
# UTF-8: Hugging Face tokenizers raise TypeError on it and JSON responses fail to encode.
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def replace_surrogates(text: str) -> str:
    """``text`` with every UTF-16 surrogate code point replaced by U+FFFD.

    Example:
        >>> replace_surrogates("hola \\ud800 weon") == "hola \\ufffd weon"
        True
    """
    return _SURROGATE_RE.sub("\ufffd", text)


def collapse_whitespace(text: str) -> str:
    """Every whitespace run -> one space, and none at either end.

    Example:
        >>> collapse_whitespace(" hola \\t  po ")
        'hola po'
    """
    # str.split() without arguments splits on every Unicode whitespace run and drops the ends.
    return " ".join(text.split())


def cap_length(text: str) -> str:
    """``text`` cut to :data:`MAX_NORMALISED_CHARS` characters at a word boundary.

    Example:
        >>> cap_length("hola po")
        'hola po'
    """
    if len(text) <= MAX_NORMALISED_CHARS:
        return text
    cut = text.rfind(" ", 0, MAX_NORMALISED_CHARS + 1)
    return text[: cut if cut > 0 else MAX_NORMALISED_CHARS]
