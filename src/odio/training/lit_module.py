"""The Lightning training loop around an encoder classifier: masked loss, validation
history, AdamW without decay on biases and LayerNorm, and linear warmup then decay.

Imported only when an encoder is trained (by :mod:`odio.training.finetune`).

Example:
    >>> weights = positive_weights(np.array([[1.0, 0.0], [0.0, 0.0], [np.nan, 0.0]]))
    >>> weights.tolist()
    [1.0, 3.0]
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from torch import nn

from odio.config import TransformerConfig
from odio.metrics import binarize, macro_f1
from odio.models.encoder import EncoderClassifier

__all__ = ["POS_WEIGHT_CAP", "FineTuner", "positive_weights"]

POS_WEIGHT_CAP = 10.0
"""Largest weight of a positive example in the loss (``pos_weight``), for rare labels."""


def positive_weights(Y: np.ndarray) -> torch.Tensor:
    """Per-label ``pos_weight``: negatives over positives, capped at :data:`POS_WEIGHT_CAP`.

    Soft labels count by probability and unknown (``nan``) labels not at all.
    """
    pos = np.nansum(Y, axis=0).clip(min=1)
    neg = np.nansum(1 - Y, axis=0)
    return torch.as_tensor(np.minimum(neg / pos, POS_WEIGHT_CAP), dtype=torch.float32)


class FineTuner(L.LightningModule):
    """The Lightning training loop around an :class:`EncoderClassifier`."""

    def __init__(
        self, model: EncoderClassifier, config: TransformerConfig, pos_weight: torch.Tensor | None
    ) -> None:
        super().__init__()
        self.model = model
        self.config = config
        self.loss_fn = nn.BCEWithLogitsLoss(pos_weight=pos_weight, reduction="none")
        self.history: list[dict[str, float]] = []
        self.history_file: str | None = None
        """Where rank 0 writes :attr:`history` when training ends."""
        self._train_losses: list[float] = []
        self._val_probs: list[np.ndarray] = []
        self._val_labels: list[np.ndarray] = []

    def _loss(self, batch: dict) -> torch.Tensor:
        logits = self.model(batch["input_ids"], batch["attention_mask"])
        return self.masked_loss(logits.float(), batch["labels"])

    def masked_loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Mean binary cross-entropy over the known labels (``nan`` marks an unknown one)."""
        known = ~torch.isnan(labels)
        losses = self.loss_fn(logits, torch.nan_to_num(labels)) * known
        return losses.sum() / known.sum().clamp(min=1)

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        loss = self._loss(batch)
        self._train_losses.append(float(loss.detach()))
        self.log("train_loss", loss, prog_bar=True, batch_size=len(batch["labels"]))
        return loss

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        logits = self.model(batch["input_ids"], batch["attention_mask"]).float()
        loss = self.masked_loss(logits, batch["labels"])
        self.log(
            "val_loss",
            loss,
            prog_bar=True,
            on_epoch=True,
            batch_size=len(batch["labels"]),
            sync_dist=self.trainer.world_size > 1,  # equal on every process: no warning
        )
        self._val_probs.append(torch.sigmoid(logits).cpu().numpy())
        self._val_labels.append(batch["labels"].cpu().numpy())

    def on_validation_epoch_end(self) -> None:
        if self.trainer.sanity_checking or "val_loss" not in self.trainer.callback_metrics:
            return
        probs, labels = np.concatenate(self._val_probs), np.concatenate(self._val_labels)
        train_loss = float(np.mean(self._train_losses)) if self._train_losses else float("nan")
        self.history.append(
            {
                "epoch": self.current_epoch + 1,
                "train_loss": train_loss,
                "val_loss": float(self.trainer.callback_metrics["val_loss"]),
                "val_macro_f1": macro_f1(labels.astype(int), binarize(probs)),
            }
        )
        self._train_losses, self._val_probs, self._val_labels = [], [], []

    def on_train_end(self) -> None:
        if self.history_file and self.trainer.is_global_zero:
            Path(self.history_file).write_text(json.dumps(self.history), encoding="utf-8")

    def configure_optimizers(self) -> Any:
        from transformers import get_linear_schedule_with_warmup

        decay: list[nn.Parameter] = []
        no_decay: list[nn.Parameter] = []
        for name, param in self.model.named_parameters():
            if not param.requires_grad:
                continue
            is_norm_or_bias = param.ndim < 2 or "LayerNorm" in name or "layer_norm" in name
            (no_decay if is_norm_or_bias else decay).append(param)
        optimizer = torch.optim.AdamW(
            [
                {"params": decay, "weight_decay": self.config.weight_decay},
                {"params": no_decay, "weight_decay": 0.0},
            ],
            lr=self.config.lr,
        )
        total = max(1, int(self.trainer.estimated_stepping_batches))
        scheduler = get_linear_schedule_with_warmup(
            optimizer, int(self.config.warmup * total), total
        )
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }
