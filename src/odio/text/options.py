"""Which normalisation steps run: :class:`PreprocessOptions`, saved with every model.

Example:
    >>> PreprocessOptions(emoji=False).emoji
    False
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["DEFAULT_OPTIONS", "PreprocessOptions"]


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


DEFAULT_OPTIONS = PreprocessOptions()
"""The defaults, shared so each call does not build its own."""
