"""The Lightning training loop around an encoder classifier: masked loss, optional
entropy-based attention regularisation (EAR, :func:`attention_entropy`), validation history,
AdamW without decay on biases and LayerNorm, and linear warmup then decay.

The validation loss (early stopping, best checkpoint) is the plain classification loss, with
or without EAR, so that epochs and runs compare on what is predicted.

Imported only when an encoder is trained (by :mod:`odio.training.finetune`).

Example:
    >>> weights = positive_weights(np.array([[1.0, 0.0], [0.0, 0.0], [np.nan, 0.0]]))
    >>> weights.tolist()
    [1.0, 3.0]
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from torch import nn

from odio.config import TransformerConfig
from odio.metrics import binarize, macro_f1
from odio.models.encoder import EncoderClassifier
from odio.training.frozen import FrozenLayers

__all__ = ["POS_WEIGHT_CAP", "FineTuner", "attention_entropy", "positive_weights"]

POS_WEIGHT_CAP = 10.0
"""Largest weight of a positive example in the loss (``pos_weight``), for rare labels."""


def positive_weights(Y: np.ndarray) -> torch.Tensor:
    """Per-label ``pos_weight``: negatives over positives, capped at :data:`POS_WEIGHT_CAP`.

    Soft labels count by probability and unknown (``nan``) labels not at all.
    """
    pos = np.nansum(Y, axis=0).clip(min=1)
    neg = np.nansum(1 - Y, axis=0)
    return torch.as_tensor(np.minimum(neg / pos, POS_WEIGHT_CAP), dtype=torch.float32)


def attention_entropy(attentions: Any, attention_mask: torch.Tensor) -> torch.Tensor:
    """The attention entropy that EAR maximises (Attanasio et al., Findings of ACL 2022).

    Per layer, the attention is averaged over heads; each real token's attention over the
    real tokens (padding masked out, the row renormalised) has an entropy; a text's
    entropy is the mean over its real tokens, summed over layers (as in the paper); the
    result is the mean over the batch. The paper's code applies a second softmax to the
    attention probabilities; this does not.

    Args:
        attentions: one ``(batch, heads, seq, seq)`` tensor per layer.
        attention_mask: ``(batch, seq)``, 1 for real tokens.

    Example:
        >>> uniform = torch.full((1, 2, 4, 4), 0.25)
        >>> round(float(attention_entropy([uniform], torch.ones(1, 4))), 4)  # log(4)
        1.3863
    """
    mask = attention_mask.to(attentions[0].dtype)
    layers = torch.stack(tuple(attentions)).mean(dim=2)  # (layers, batch, seq, seq)
    probs = layers * mask[None, :, None, :]
    tiny = torch.finfo(probs.dtype).tiny
    probs = probs / probs.sum(dim=-1, keepdim=True).clamp(min=tiny)
    # p log p with the log clamped: 0 at p = 0 with a finite gradient (xlogy's is nan there)
    entropy = -(probs * probs.clamp(min=tiny).log()).sum(dim=-1)  # (layers, batch, seq)
    per_text = (entropy * mask).sum(dim=-1) / mask.sum(dim=-1).clamp(min=1)
    return per_text.sum(dim=0).mean()


class FineTuner(L.LightningModule):
    """The Lightning training loop around an :class:`EncoderClassifier`."""

    def __init__(
        self,
        model: EncoderClassifier,
        config: TransformerConfig,
        pos_weight: torch.Tensor | None,
        scored: int | None = None,
        frozen: FrozenLayers | None = None,
    ) -> None:
        super().__init__()
        self.model = model
        self.frozen = frozen
        """The cached frozen layers; batches then carry their output (``states``)."""
        self.scored = scored or model.n_labels
        """How many of the outputs validation scores (the main head's; the others train
        the heads of extra sources)."""
        self.config = config
        self.pos_weight = pos_weight
        self.history: list[dict[str, float]] = []
        self.history_file: str | None = None
        """Where rank 0 writes :attr:`history` when training ends."""
        self.batches: Any = None
        self._resume_rng: torch.Tensor | None = None
        """The training batch sampler (``skip``): a resumed epoch goes on where it stopped."""
        self._train_losses: list[float] = []
        self._train_entropies: list[float] = []
        self._val_probs: list[np.ndarray] = []
        self._val_labels: list[np.ndarray] = []

    def losses(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """The training loss, its classification part and, with EAR (``ear_weight > 0``),
        the attention entropy: loss = classification - ear_weight * entropy."""
        weight = self.config.ear_weight
        with self.upper(batch):
            logits, attentions = self.model.forward_with_attentions(
                batch["input_ids"], batch["attention_mask"], attentions=weight > 0
            )
        classification = self.masked_loss(logits.float(), batch["labels"])
        if not weight:
            return classification, classification, None
        entropy = attention_entropy([a.float() for a in attentions], batch["attention_mask"])
        return classification - weight * entropy, classification, entropy

    def upper(self, batch: dict) -> AbstractContextManager[None]:
        """Where the model runs: on the batch's cached frozen-layer output, or whole."""
        if self.frozen is None:
            return nullcontext()
        return self.frozen.upper(batch["states"])

    def masked_loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Mean binary cross-entropy over the known labels (``nan`` marks an unknown one)."""
        known = ~torch.isnan(labels)
        weight = None
        if self.pos_weight is not None:  # validation scores the first columns alone
            weight = self.pos_weight[: logits.shape[1]].to(logits.device)
        losses = nn.functional.binary_cross_entropy_with_logits(
            logits, torch.nan_to_num(labels), pos_weight=weight, reduction="none"
        )
        losses = losses * known
        return losses.sum() / known.sum().clamp(min=1)

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        loss, classification, entropy = self.losses(batch)
        self._train_losses.append(float(classification.detach()))
        self.log("train_loss", classification, prog_bar=True, batch_size=len(batch["labels"]))
        if entropy is not None:
            self._train_entropies.append(float(entropy.detach()))
        return loss

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        with self.upper(batch):
            logits = self.model(batch["input_ids"], batch["attention_mask"])
        logits = logits[:, : self.scored].float()
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
        if self._train_entropies:
            self.history[-1]["train_attention_entropy"] = float(np.mean(self._train_entropies))
        self._train_losses, self._val_probs, self._val_labels = [], [], []
        self._train_entropies = []

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """What a resume point needs besides Lightning's own state: the batches this epoch
        has trained, the random state (dropout), the history and running losses."""
        progress: Any = self.trainer.fit_loop.epoch_loop.batch_progress.current
        checkpoint["odio"] = {
            "epoch_drawn": None if self.batches is None else self.batches.drawn,
            "batches_done": progress.processed,  # saved after a batch, before "completed"
            "torch_rng": torch.get_rng_state(),
            "history": self.history,
            "train_losses": self._train_losses,
            "train_entropies": self._train_entropies,
        }

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        state = checkpoint.get("odio")
        if state is None:
            return
        self._resume_rng = state["torch_rng"]
        self.history = list(state["history"])
        self._train_losses = list(state["train_losses"])
        self._train_entropies = list(state["train_entropies"])
        if self.batches is not None and state["epoch_drawn"] is not None:
            self.batches.resume(state["epoch_drawn"], state["batches_done"])

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        if self._resume_rng is not None:  # restored here: starting the data loader draws
            torch.set_rng_state(self._resume_rng)
            self._resume_rng = None

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
