"""An explanation rendered for a terminal (``odio explain``): per label, the probability and
decision, every word shaded or scored, and the words that push the label up and down most.

The scores come from :func:`odio.inference.explain.explain`; this module only shows them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from odio.inference.explain import Explanation


def default_labels(explanation: Explanation) -> list[str]:
    """The first (main) label explained, plus every label decided positive.

    >>> e = Explanation("x", "x", ["x"], ["Odio", "Mujeres", "Migrantes"],
    ...     {"Odio": 0.9, "Mujeres": 0.1, "Migrantes": 0.8},
    ...     {"Odio": True, "Mujeres": False, "Migrantes": True},
    ...     {"Odio": 0.5, "Mujeres": 0.5, "Migrantes": 0.5},
    ...     {"Odio": [1.0], "Mujeres": [0.0], "Migrantes": [0.5]}, "linear")
    >>> default_labels(e)
    ['Odio', 'Migrantes']
    """
    first = explanation.labels[:1]
    return first + [lab for lab in explanation.labels[1:] if explanation.decisions[lab]]


def format_explanation(
    explanation: Explanation,
    labels: Sequence[str] | None = None,
    *,
    top: int = 5,
    colour: bool = False,
) -> str:
    """A terminal rendering: per label, probability and decision, shaded words, top words.

    Args:
        explanation: what :func:`explain` returned.
        labels: labels to show (default: all the explanation has).
        top: how many words to list pushing up and pushing down.
        colour: shade words with 24-bit ANSI backgrounds (red up, blue down, stronger for
            larger ``|score|`` relative to the text's largest); without it every word is
            written ``word(+0.42)``.

    Example:
        >>> e = Explanation("Te odio", "Te odio", ["Te", "odio"], ["Odio"], {"Odio": 0.8},
        ...     {"Odio": True}, {"Odio": 0.5}, {"Odio": [-0.1, 1.2]}, "linear")
        >>> print(format_explanation(e, top=1))
        Te odio
          Odio: p=0.800 >= 0.50 -> yes  (log-odds contributions, exact)
            Te(-0.10) odio(+1.20)
            up:   odio +1.20
            down: Te -0.10
    """
    how = {
        "linear": "log-odds contributions, exact",
        "occlusion": "log-odds change when the word is removed",
    }.get(explanation.method, explanation.method)
    lines = [explanation.text]
    if explanation.normalised != explanation.text:
        lines.append(f"normalised: {explanation.normalised}")
    for label in explanation.labels if labels is None else labels:
        p, t = explanation.probabilities[label], explanation.thresholds[label]
        decision = "yes" if explanation.decisions[label] else "no"
        sign = ">=" if explanation.decisions[label] else "<"
        lines.append(f"  {label}: p={p:.3f} {sign} {t:.2f} -> {decision}  ({how})")
        pairs = explanation.pairs(label)
        scale = max((abs(s) for _, s in pairs), default=0.0)
        if colour:
            lines.append("    " + " ".join(shade(w, s, scale) for w, s in pairs))
        else:
            lines.append("    " + " ".join(f"{w}({s:+.2f})" for w, s in pairs))
        up, down = explanation.top(label, top)
        lines.append("    up:   " + (", ".join(f"{w} {s:+.2f}" for w, s in up) or "-"))
        lines.append("    down: " + (", ".join(f"{w} {s:+.2f}" for w, s in down) or "-"))
    return "\n".join(lines)


def shade(word: str, score: float, scale: float) -> str:
    """``word`` on a 24-bit ANSI background: red pushes up, blue down, by ``|score|/scale``.

    >>> shade("odio", 1.0, 1.0)
    '\\x1b[38;2;0;0;0;48;2;255;64;64modio\\x1b[0m'
    """
    strength = 0.0 if scale <= 0 or not math.isfinite(score) else min(abs(score) / scale, 1.0)
    fade = round(255 * (1 - 0.75 * strength))  # white -> strong colour; black text stays legible
    r, g, b = (255, fade, fade) if score > 0 else (fade, fade, 255)
    return f"\x1b[38;2;0;0;0;48;2;{r};{g};{b}m{word}\x1b[0m"
