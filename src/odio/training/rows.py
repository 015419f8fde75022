"""What every fold trains on: the main file's rows, the extra sources' rows and augmented
copies (obfuscated, and counter-speech framings labelled not hate), with a block of label
columns per head (:class:`TrainingRows`).

Example:
    >>> rows = training_rows(config, train, sources, fold_ids)  # doctest: +SKIP
    >>> rows.heads  # doctest: +SKIP
    ['main', 'superset_partial.csv [dataset=hascosva]']
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from odio.config import RunConfig
from odio.data.labelled import LabelledData
from odio.text.augment import augment
from odio.text.framing import frame

__all__ = ["TrainingRows", "training_rows"]

log = logging.getLogger(__name__)


@dataclass
class TrainingRows:
    """What every fold trains on: the main file's rows, then the extra sources' rows, then
    augmented copies, with one block of label columns per head.

    The first block (``len(labels)`` columns) is the run's labels, shared by the main file and
    the sources with ``head: shared``; each source with ``head: own`` adds a block of the
    same labels for its rows alone (a head of its own), unknown for every other row.
    """

    texts: list[str]
    Y: np.ndarray
    known: np.ndarray
    folds: np.ndarray
    """Fold of every row (``-1``: in every fold's training set, never scored)."""
    exclude: np.ndarray
    """The fold whose training set must not hold each row."""
    heads: list[str] = field(default_factory=lambda: ["main"])
    """One name per block of label columns, the main head first."""


def training_rows(
    config: RunConfig,
    train: LabelledData,
    sources: Sequence[LabelledData],
    fold_ids: np.ndarray,
) -> TrainingRows:
    """The rows of every fold's training set (see :class:`TrainingRows`), augmented as
    ``config.augment`` says; ``sources`` are loaded from ``config.data.sources``, in order.

    Example:
        >>> rows = training_rows(config, train, sources, fold_ids)  # doctest: +SKIP
        >>> rows.heads  # doctest: +SKIP
        ['main', 'superset_partial.csv [dataset=haternet]']
    """
    n = len(train.labels)
    own = [s.head == "own" for s in config.data.sources[: len(sources)]]
    heads = ["main", *(s.report.path for s, o in zip(sources, own, strict=True) if o)]
    width = n * len(heads)
    blocks_Y, blocks_known = [], []
    block = 0
    for data, mine in zip((train, *sources), (False, *own), strict=True):
        block += mine
        at = slice(block * n, (block + 1) * n) if mine else slice(0, n)
        Y = np.zeros((len(data.texts), width), dtype=data.Y.dtype)
        known = np.zeros(Y.shape, dtype=bool)
        Y[:, at] = data.Y
        known[:, at] = True if data.known is None else data.known
        blocks_Y.append(Y)
        blocks_known.append(known)
    texts = [t for data in (train, *sources) for t in data.texts]
    Y, known = np.vstack(blocks_Y), np.vstack(blocks_known)
    folds = np.concatenate([fold_ids, *(np.full(len(s.texts), -1) for s in sources)])
    exclude = folds.copy()
    if not config.augment.active:
        return TrainingRows(texts, Y, known, folds, exclude, heads)
    copies, origin = augment(texts, config.augment.model_dump(), seed=config.cv.seed)
    hateful = ((Y == 1) & known).any(axis=1)
    framed, framed_origin = frame(texts, hateful, config.augment.framing, seed=config.cv.seed)
    log.info(
        "augmentation: %d obfuscated copies of training tweets, %d counter-speech copies",
        len(copies),
        len(framed),
    )
    texts += copies + framed
    every = origin + framed_origin
    Y_framed = np.zeros((len(framed), width), dtype=Y.dtype)
    Y, known = np.vstack([Y, Y[origin], Y_framed]), np.vstack([known, known[every]])
    folds = np.concatenate([folds, np.full(len(every), -1)])
    exclude = np.concatenate([exclude, exclude[every]])
    return TrainingRows(texts, Y, known, folds, exclude, heads)
