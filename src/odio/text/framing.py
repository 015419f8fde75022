"""Counter-speech copies: hateful training tweets quoted to condemn them, reported as news,
rejected, or thrown back at their author, each copy labelled not hate.

A model fine-tuned on hate-speech data learns the words of hate, and then flags every tweet
that repeats them: news about an attack, a user quoting an insult to denounce it, "nobody
should say that ...". Contrasting each hateful tweet with a copy of it framed that way
(counterfactual augmentation, Kaushik et al., ICLR 2020; Sen et al., EMNLP 2021) makes the
frame, not only the words, decide the label.

The frames are written here, in Chilean and general Latin American Spanish, and share no
text with the functional test suite (:mod:`odio.checks`); a test checks that. Copies are drawn
with a seeded generator, so a run is reproducible.

Example:
    >>> copies, origin = frame(["los odio a todos"], [True], rate=1.0, seed=0)
    >>> origin, "los odio a todos" in copies[0]
    ([0], True)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from odio.text.context import join_context, split_context

__all__ = ["FRAMES", "MAX_WORDS", "frame"]

MAX_WORDS = 20
"""A longer tweet is cut to its first ``MAX_WORDS`` words (and ``...``) inside its frame, so
that the frame survives an encoder's maximum length."""

FRAMES: dict[str, tuple[str, ...]] = {
    "condemn": (
        'Qué vergüenza leer cosas como "{}". Eso es odio, no opinión.',
        'Alguien me escribió "{}" y lo denuncié. No normalicemos esto.',
        'Me da pena que a estas alturas alguien todavía diga "{}".',
        'Capturé este comentario: "{}". Así de normalizado está el odio.',
        'Ojo con los comentarios tipo "{}": eso se llama discriminación.',
    ),
    "report": (
        'Investigan a un concejal que publicó "{}" en sus redes.',
        'Según el informe del INDH, mensajes como "{}" se multiplicaron este año.',
        'Fiscalía formaliza al autor del mensaje "{}" por incitación al odio.',
        'Estudio: muchos comentarios en redes sobre el tema repiten frases como "{}".',
    ),
    "reject": (
        "No es cierto que {}.",
        'Nadie debería decir "{}". Punto.',
        'Eso de "{}" es mentira y lo sabes.',
        'Yo jamás diría "{}", me parece horrible.',
    ),
    "reply": (
        '@usuario borra eso. "{}" no es humor, es odio.',
        '@usuario ¿en serio escribiste "{}"? Infórmate antes de opinar.',
        '@usuario decir "{}" te deja como ignorante, respeta a la gente.',
        '@usuario no te voy a dejar pasar "{}". Eso daña a personas reales.',
    ),
}
"""Frames by kind; ``{}`` is where the tweet goes."""

_ALL = [f for kind in FRAMES.values() for f in kind]


def _clip(text: str) -> str:
    words = text.split()
    return text.strip() if len(words) <= MAX_WORDS else " ".join(words[:MAX_WORDS]) + "..."


def frame(
    texts: Sequence[str], hateful: Sequence[bool], rate: float, seed: int = 42
) -> tuple[list[str], list[int]]:
    """Framed copies of the hateful texts: each gets one, in a frame drawn at random from
    :data:`FRAMES`, with probability ``rate``.

    Args:
        texts: tweets, each possibly joined with its conversation context
            (:func:`odio.text.context.join_context`): only the tweet is framed, and the copy
            keeps the context.
        hateful: for each text, whether any of its labels is positive (only those are framed).
        rate: probability that a hateful text gets a copy (0 to 1).
        seed: seeds the draws.

    Returns:
        ``(copies, origin)``: the new texts and, for each, the index of its original; the
        caller labels every copy not hate.

    Example:
        >>> copies, origin = frame(["las odio", "hola", "fuera de aquí"], [1, 0, 1], 1.0)
        >>> origin
        [0, 2]
    """
    if len(texts) != len(hateful):
        raise ValueError(f"{len(texts)} texts but {len(hateful)} hateful flags")
    if not rate:
        return [], []
    rng = np.random.default_rng(seed)
    copies: list[str] = []
    origin: list[int] = []
    for index, (text, positive) in enumerate(zip(texts, hateful, strict=True)):
        if not positive or not text.strip() or rng.random() >= rate:
            continue
        template = _ALL[int(rng.integers(len(_ALL)))]
        tweet, context = split_context(text)
        copies.append(join_context(template.format(_clip(tweet)), context))
        origin.append(index)
    return copies, origin
