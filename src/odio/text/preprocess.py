"""Tweet normalisation matching what RoBERTuito saw in pretraining.

RoBERTuito was pretrained on tweets passed through pysentimiento's ``preprocess_tweet``:
handles become ``@usuario``, links become ``url``, hashtags are spelled out, emoji are
replaced by their Spanish names, laughter is normalised to ``jaja`` and long character runs
are shortened. Feeding the model text in the same shape at fine-tuning and inference time
keeps it on the distribution its vocabulary and weights were fitted to.

The module is pure: every regex is compiled once at import, and the only lazy work is loading
the Spanish emoji names on first use (see :func:`_emoji_tables`).

Example:
    >>> preprocess_tweet("@danieljadue jajajaja weón #NoMasAbusos https://t.co/813bPNQZqR")
    '@usuario jaja weón hashtag no mas abusos url'
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any

import emoji as _emoji
from pydantic import BaseModel, ConfigDict

__all__ = [
    "MAX_NORMALISED_CHARS",
    "PreprocessOptions",
    "preprocess_many",
    "preprocess_tweet",
    "replace_surrogates",
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


class PreprocessOptions(BaseModel):
    """Which normalisation steps run.

    Saved with every model (``config.json``) so training, prediction, serving and export
    apply the same steps. Whitespace collapsing and stripping always run. Immutable;
    unknown keys and non-boolean values are rejected.

    Example:
        >>> PreprocessOptions(lowercase=True).to_dict()["lowercase"]
        True
    """

    model_config = ConfigDict(
        frozen=True, extra="forbid", strict=True, use_attribute_docstrings=True
    )

    user: bool = True
    """Replace Twitter handles (``@danieljadue``) with ``@usuario``; e-mails are left alone."""

    url: bool = True
    """Replace links (with scheme, ``www.``, or bare domains such as ``latercera.com``) with
    ``url``."""

    hashtag: bool = True
    """Replace ``#NoMasAbusos`` with ``hashtag no mas abusos`` (camelCase/digit/underscore
    split, lowercased)."""

    emoji: bool = True
    """Replace each emoji with `` emoji <nombre en español> emoji ``; lone skin-tone modifiers
    and stray variation selectors / zero-width joiners are dropped."""

    laughter: bool = True
    """Replace ja/js laughter (``jajaja``, ``JAJAJ``, ``jsjsjs``, ``ajajaja``) with ``jaja``."""

    repetition: bool = True
    """Cut any run of more than three identical characters to three (``holaaaaa`` ->
    ``holaaa``)."""

    newlines: bool = True
    """Turn line breaks into sentence breaks (``. ``). When off they become plain spaces."""

    lowercase: bool = False
    """Lowercase the whole text at the end (off for RoBERTuito-cased; uncased users may set
    it)."""

    deobfuscate: bool = False
    """Undo common obfuscation: letters split by spaces or punctuation (``o d i o``,
    ``p.u.t.a``) joined, and leetspeak digits inside words (``m4ric0n``) read as letters."""

    def to_dict(self) -> dict[str, bool]:
        """The options as a JSON-serialisable dict.

        Example:
            >>> PreprocessOptions().to_dict()["url"]
            True
        """
        return self.model_dump()

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> PreprocessOptions:
        """Options from a (possibly partial) mapping, e.g. a loaded ``config.json``.

        Missing keys take their defaults, so configs written by older versions keep loading.

        Raises:
            pydantic.ValidationError: (a ``ValueError``) an unknown key, or a value that is
                not a bool (a typo such as ``"false"`` would otherwise enable a step).

        Example:
            >>> PreprocessOptions.from_dict({"emoji": False}).emoji
            False
        """
        return cls.model_validate(dict(d or {}))


_DEFAULT_OPTIONS = PreprocessOptions()

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


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


# --- Handles ----------------------------------------------------------------------------------

# A word character before "@" means an e-mail ("juan@gmail.com"), not a mention.
_USER_RE = re.compile(r"(?<![\w@])@\w+")

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


# --- Repetition and laughter ------------------------------------------------------------------

_REPEAT_RE = re.compile(rf"(.)\1{{{MAX_REPEAT},}}", re.DOTALL)
# A whole word made only of j/a/s with at least two j's and an a or s: no Spanish word has that
# shape, so "Jaime", "baja", "navaja" or "ojalá" never match. jeje/jiji are left alone, as in
# pysentimiento's normalisation.
_LAUGH_RE = re.compile(r"(?<!\w)(?=[jas]*j[jas]*j)(?=[jas]*[as])[jas]{4,}(?!\w)", re.IGNORECASE)

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
    first_chars = sorted({key[0] for key in _emoji.EMOJI_DATA})
    return re.compile("[" + "".join(re.escape(c) for c in first_chars) + "]")


def _emoji_sub(chars: str, data: Mapping[str, Any]) -> str:
    if chars in _SKIN_TONES:
        return ""
    name = data.get("es") or data.get("en") or ""
    name = name.strip(":").replace("_", " ")
    if not name:
        return " "
    return f" {EMOJI_WRAPPER} {name} {EMOJI_WRAPPER} "


def _replace_emoji(text: str) -> str:
    # replace_emoji walks the string in pure Python; most tweets have no emoji, so a C-speed
    # regex search over every possible emoji start character skips that walk.
    if _emoji_tables().search(text):
        text = _emoji.replace_emoji(text, replace=_emoji_sub)
    return _EMOJI_LEFTOVER_RE.sub("", text)


# --- Newlines ---------------------------------------------------------------------------------

_NEWLINE_RE = re.compile(r"\s*[\r\n\u2028\u2029]\s*")
_SENTENCE_END = frozenset(".!?…,;:")

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


def _deobfuscate(text: str) -> str:
    """Letters split by spaces or punctuation joined, then leetspeak words read as letters."""
    text = _SPACED_RE.sub(lambda m: _SEPARATORS_RE.sub("", m.group(0)), text)
    return _WORD_RE.sub(_unleet, text)


def _newline_sub(m: re.Match[str]) -> str:
    start = m.start()
    text = m.string
    if start == 0 or m.end() == len(text) or text[start - 1] in _SENTENCE_END:
        return " "
    return ". "


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


def _cap(text: str) -> str:
    if len(text) <= MAX_NORMALISED_CHARS:
        return text
    cut = text.rfind(" ", 0, MAX_NORMALISED_CHARS + 1)
    return text[: cut if cut > 0 else MAX_NORMALISED_CHARS]


# --- Public API -------------------------------------------------------------------------------


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

    Every step takes time linear in the text's length.

    Applying the function to its own output returns it unchanged.

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
    opts = _DEFAULT_OPTIONS if options is None else options

    text = replace_surrogates(text)
    if opts.url:
        text = _URL_RE.sub(_url_sub, text)
    if opts.user:
        text = _USER_RE.sub(USER_TOKEN, text)
    if opts.hashtag:
        text = _HASHTAG_RE.sub(_hashtag_sub, text)
    if opts.deobfuscate:
        text = _deobfuscate(text)
    if opts.repetition:
        text = _REPEAT_RE.sub(r"\1" * MAX_REPEAT, text)
    if opts.laughter:
        text = _LAUGH_RE.sub(LAUGH_TOKEN, text)
    if opts.emoji:
        text = _replace_emoji(text)
    if opts.newlines:
        text = _NEWLINE_RE.sub(_newline_sub, text)
    # str.split() without arguments splits on every Unicode whitespace run and drops the ends.
    text = " ".join(text.split())
    if opts.lowercase:
        text = text.lower()
    return _cap(text)


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
    opts = _DEFAULT_OPTIONS if options is None else options
    return [preprocess_tweet(t, opts) for t in texts]


def _is_nan(value: object) -> bool:
    return isinstance(value, float) and value != value
