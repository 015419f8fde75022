"""Lightning's progress while an encoder trains: one bar per fold, named after it, on
standard error, and Lightning's start-up chatter silenced.

Imported only when an encoder is trained (by :mod:`odio.training.finetune`).

Example:
    >>> with quiet_lightning():  # doctest: +SKIP
    ...     trainer.fit(module, train_loader)
"""

from __future__ import annotations

import contextlib
import logging
import sys
import warnings
from collections.abc import Iterator
from typing import Any

import lightning as L

__all__ = ["NamedProgressBar", "quiet_lightning"]


class NamedProgressBar(L.pytorch.callbacks.TQDMProgressBar):
    """Lightning's bar, named after the fold being trained."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def init_train_tqdm(self):  # noqa: ANN201 - Lightning's signature
        from lightning.pytorch.callbacks.progress.tqdm_progress import Tqdm

        # Lightning writes its bars to standard output; results go there, progress does not.
        return Tqdm(
            desc=self.name,
            position=2 * self.process_position,
            disable=self.is_disabled,
            leave=True,
            dynamic_ncols=True,
            file=sys.stderr,
            smoothing=0,
            bar_format=self.BAR_FORMAT,
        )

    def init_validation_tqdm(self):  # noqa: ANN201 - Lightning's signature
        bar = super().init_validation_tqdm()
        bar.disable = True  # one bar per fold is enough; val_loss shows on it
        return bar

    def on_train_epoch_start(self, trainer: L.Trainer, *args: Any) -> None:
        super().on_train_epoch_start(trainer, *args)
        self.train_progress_bar.set_description(
            f"{self.name} epoch {trainer.current_epoch + 1}/{trainer.max_epochs}"
        )

    def on_train_start(self, trainer: L.Trainer, *args: Any) -> None:
        super().on_train_start(trainer, *args)
        done = trainer.fit_loop.epoch_loop.batch_progress.current.completed
        if done:  # a resumed epoch: Lightning does not start it again
            self.on_train_epoch_start(trainer, *args)
            self.train_progress_bar.n = done


@contextlib.contextmanager
def quiet_lightning() -> Iterator[None]:
    """Silence Lightning's start-up chatter and known-harmless warnings during ``fit``."""
    names = ("lightning.pytorch", "lightning.fabric", "lightning_utilities")
    levels = {n: logging.getLogger(n).level for n in names}
    for n in names:
        logging.getLogger(n).setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message=".*(LeafSpec|does not have many workers|"
            "GPU available but not used|TPU available|treespec|no `val_dataloader`|"
            # odio's resume points: the batch sampler skips what the epoch trained
            "dataloader is not resumable|Checkpoint directory .* exists and is not empty).*",
        )
        try:
            yield
        finally:
            for n, level in levels.items():
                logging.getLogger(n).setLevel(level)
