"""Fine-tuning a Hugging Face encoder with Lightning: the encoder trainer.

Design kept from the reference RoBERTuito k-fold pipeline (``AutoModel`` backbone, pooled
token states, dropout, a Xavier-initialised linear head, ``BCEWithLogitsLoss``, AdamW,
early stopping and checkpointing on ``val_loss``, seeded and deterministic), with its
defects fixed:

1. mean pooling ignores padding (``cls`` pooling is an option);
2. the best-``val_loss`` weights are restored before predicting;
3. validation never drops rows, so every row gets an out-of-fold prediction;
4. lr 3e-5 with linear warmup then decay, no weight decay on biases and LayerNorm
   (:mod:`.lit_module`);
5. texts are tokenised once per cross-validation, batches are padded to their longest item
   and grouped by length (:mod:`.encoder_data`);
6. ``compile`` falls back to eager with a one-line warning when compilation fails;
7. accelerator, devices, strategy, precision, accumulation and nodes pass through to Lightning;
   ``ddp`` on one machine runs in-process (spawned workers, gloo on the CPU), see
   :func:`odio.training.devices.lightning_strategy`;
8. predictions after training run on the device the model trained on.

Two additions: ``ear_weight`` adds entropy-based attention regularisation to the training
loss (:func:`odio.training.lit_module.attention_entropy`), and ``init`` starts every fold
from a finished odio encoder run (:mod:`odio.training.warmstart`) instead of the base.

Under DDP every process trains on its share of the batches and validates on the whole
held-out fold (so ``val_loss`` is exact and equal on every process); only rank 0's
weights, best checkpoint and history are kept.

The fitted model is an :class:`~odio.models.encoder.EncoderMember`, which scores without
Lightning. This module, with :mod:`.lit_module` and :mod:`.progress` that only it imports,
is where odio imports Lightning; the k-fold harness imports it only when an encoder is
trained.

Requires the ``transformer`` extra (torch, transformers, lightning).
"""

from __future__ import annotations

import copy
import json
import logging
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from odio.config import TransformerConfig
from odio.errors import OdioError
from odio.extras import MissingExtra
from odio.models.encoder import EncoderClassifier, EncoderMember, position_limit, pretrained
from odio.text.tokens import encode, pad_id
from odio.training.trainers import Fitted

try:
    import lightning as L
    import torch
    from torch import nn
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("transformer", "fine-tuning an encoder", "lightning", torch=True) from exc

from odio.training.devices import hand_off, lightning_strategy, parse_devices, try_compile
from odio.training.encoder_data import Collator, Encoded, LengthGroupedBatches
from odio.training.frozen import FrozenLayers, layer_list_owner, pad_states
from odio.training.lit_module import FineTuner, positive_weights
from odio.training.progress import NamedProgressBar, quiet_lightning
from odio.training.warmstart import init_source

__all__ = ["EncoderTrainer", "freeze_lower_layers"]

RESUME = "resume"
"""The resume point's file name (``resume.ckpt``) in :attr:`EncoderTrainer.checkpoints`."""

log = logging.getLogger(__name__)


class EncoderTrainer:
    """Fine-tunes a Hugging Face encoder for multi-label classification, one member per fit.

    The tokenizer and the token limit are the base model's, read once; :meth:`encode` is
    called once per text set of a cross-validation and every fold reuses its ids.

    Args:
        model: a Hugging Face hub id (``pysentimiento/robertuito-base-uncased``) or a local
            model directory.
        config: fine-tuning settings.
        seed: seeds Lightning (``seed_everything(seed, workers=True)``) and batch order.

    Example:
        >>> trainer = EncoderTrainer("path/to/encoder")  # doctest: +SKIP
        >>> ids = trainer.encode(texts)  # doctest: +SKIP
        >>> fitted = trainer.fit(ids, Y)  # doctest: +SKIP
        >>> trainer.predict(fitted.member, trainer.encode(["te odio weon"]))  # doctest: +SKIP
    """

    backend = "transformer"

    def __init__(
        self,
        model: str,
        config: TransformerConfig | None = None,
        seed: int = 42,
        labels: Sequence[str] | None = None,
    ) -> None:
        self.model = model
        self.checkpoints: Path | None = None
        """Where :meth:`fit` keeps its checkpoints and a resume point (every
        ``checkpoint_minutes`` of training), and resumes from one found there
        (:mod:`odio.training.resume`); ``None``: a temporary directory. Set by :meth:`at`."""
        self.config = config or TransformerConfig()
        self.seed = seed
        self.labels = None if labels is None else list(labels)
        self.init = None if self.config.init is None else init_source(self.config.init, model)
        self._tokenizer: Any = None
        self._max_length = 0
        self._frozen_states: dict[tuple[int, ...], torch.Tensor] = {}
        """The frozen layers' output per tweet (``cache_frozen``), shared by every fold:
        they all start from the same weights, and the frozen ones never change."""
        if self.config.cache_frozen and not self.config.freeze_layers:
            raise OdioError("cache_frozen needs freeze_layers > 0 (the layers to cache)")

    def at(self, checkpoints: Path) -> EncoderTrainer:
        """This trainer (same settings, tokenizer and cached frozen layers) keeping its
        checkpoints and resume point in ``checkpoints``: one per fold."""
        other = copy.copy(self)
        other.checkpoints = Path(checkpoints)
        return other

    def load_member(self, directory: Path) -> EncoderMember:
        """A member written by :meth:`EncoderMember.save`, with this trainer's tokenizer."""
        return EncoderMember.load(directory, self.tokenizer)

    @property
    def tokenizer(self) -> Any:
        """The base model's tokenizer (loaded once)."""
        if self._tokenizer is None:
            self._tokenizer = pretrained(self.model, "tokenizer")
            limit = position_limit(pretrained(self.model, "config"), self._tokenizer)
            self._max_length = (
                min(self.config.max_length, limit) if limit else self.config.max_length
            )
            if self._max_length < self.config.max_length:
                log.info("max_length capped at %d by the model's position limit", self._max_length)
        return self._tokenizer

    @property
    def max_length(self) -> int:
        """The token limit: ``config.max_length`` capped by the model's position limit."""
        _ = self.tokenizer
        return self._max_length

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of normalised texts, truncated to :attr:`max_length`, unpadded."""
        return encode(self.tokenizer, texts, self.max_length)

    def fit(
        self,
        inputs: Sequence[list[int]],
        Y: np.ndarray,
        validation: tuple[Sequence[list[int]], np.ndarray] | None = None,
        *,
        known: np.ndarray | None = None,
        progress: str | None = None,
    ) -> Fitted:
        """Fine-tune a fresh copy of the base model on token ids; with ``validation``, stop
        early and keep the best epoch; labels not ``known`` are masked out of the loss. The
        member is left on the device it trained on.

        ``Y`` may have more columns than the run's labels: each further block of as many
        columns trains a head of its own (an extra source's, see
        :class:`odio.training.rows.TrainingRows`) on the shared encoder; only the first block's
        head is kept in the member, and validation scores it alone."""
        c = self.config
        L.seed_everything(self.seed, workers=True, verbose=False)
        Y = np.atleast_2d(np.asarray(Y)).astype(np.float32)
        if known is not None:
            Y = np.where(known, Y, np.nan)  # unknown: masked in the loss
        main = len(self.labels) if self.labels else Y.shape[1]
        if Y.shape[1] % main:
            raise ValueError(f"{Y.shape[1]} label columns are not blocks of {main} labels")
        encoder = pretrained(self.model, "encoder") if self.init is None else self.init.encoder()
        attention = encoder.config._attn_implementation
        if c.ear_weight:  # SDPA returns no attention weights
            encoder.set_attn_implementation("eager")
        if c.freeze_embeddings:
            encoder.get_input_embeddings().weight.requires_grad_(False)
        if c.freeze_layers:
            freeze_lower_layers(encoder, c.freeze_layers)
        if getattr(encoder, "pooler", None) is not None:
            # BERT-style poolers are never used (pooling is over token states): frozen, they
            # get no update either way, and DDP does not wait for gradients they never get.
            encoder.pooler.requires_grad_(False)
        classifier = EncoderClassifier(encoder, Y.shape[1], c.pooling, c.dropout)
        head = None if self.init is None else self.init.head_weights(self.labels)
        if head is not None:  # only for the same labels (and the same base: init_source)
            with torch.no_grad():  # the main head; the heads of sources start fresh
                classifier.head.weight[:main] = head["weight"]
                classifier.head.bias[:main] = head["bias"]

        collate = Collator(pad_id(self.tokenizer))
        train_ids = list(inputs)
        frozen = self._frozen(encoder)
        states = None if frozen is None else frozen.states(train_ids, progress=progress is not None)
        batches = LengthGroupedBatches(
            [len(i) for i in train_ids], c.batch_size, self.seed, c.group_by_length
        )
        train_loader = torch.utils.data.DataLoader(
            Encoded(train_ids, Y, states),
            batch_sampler=batches,
            collate_fn=collate,
            num_workers=c.num_workers,
        )
        val_loader = None
        if validation is not None:
            val_ids = list(validation[0])
            val_loader = torch.utils.data.DataLoader(
                Encoded(
                    val_ids,
                    np.atleast_2d(np.asarray(validation[1]))[:, :main],
                    None if frozen is None else frozen.states(val_ids),
                ),
                batch_size=c.eval_batch_size,
                shuffle=False,
                drop_last=False,  # every validation row counts
                collate_fn=collate,
                num_workers=c.num_workers,
            )
        if c.compile:
            try_compile(
                classifier, collate([(train_ids[0], None, None if states is None else states[0])])
            )

        module = FineTuner(
            classifier, c, positive_weights(Y) if c.pos_weight else None, main, frozen
        )
        module.train()  # from_pretrained returns modules in eval mode
        module.batches = batches  # a resumed epoch skips the batches it trained
        with self._checkpoint_dir() as ckpt_dir, quiet_lightning():
            module.history_file = str(Path(ckpt_dir) / "history.json")
            trainer, checkpoint = self._trainer(ckpt_dir, val_loader is not None, progress)
            resume = Path(ckpt_dir) / f"{RESUME}.ckpt"
            if resume.is_file():
                log.info("resuming from %s", resume)
            else:  # a best epoch of a start that left no resume point: not this one's
                for stale in Path(ckpt_dir).glob("*.ckpt"):
                    stale.unlink()
            trainer.fit(
                module, train_loader, val_loader, ckpt_path=resume if resume.is_file() else None
            )
            if Path(module.history_file).is_file():
                # written by rank 0: with spawned DDP workers, this process trained nothing
                module.history = json.loads(Path(module.history_file).read_text("utf-8"))
            if checkpoint is not None and checkpoint.best_model_path and trainer.is_global_zero:
                # Defect 2 of the reference: predict with the best epoch, not the last.
                state = torch.load(
                    checkpoint.best_model_path, map_location="cpu", weights_only=True
                )["state_dict"]
                module.load_state_dict(state)
        classifier.set_compiled(None)
        classifier.keep_outputs(main)  # the heads of sources are not shipped
        if c.ear_weight:
            encoder.set_attn_implementation(attention)
        hand_off(classifier, trainer)
        member = EncoderMember(
            classifier,
            self.tokenizer,
            self.max_length,
            base_model=self.model,
            settings=c,
            seed=self.seed,
            history=module.history,
        )
        return Fitted(member, module.history)

    def predict(self, member: EncoderMember, inputs: Sequence[list[int]]) -> np.ndarray:
        """Probabilities of token ids from :meth:`encode`, on the member's device (with
        ``cache_frozen``, the upper layers on the cached output of the frozen ones)."""
        ids = list(inputs)
        frozen = self._frozen(member.classifier.encoder)
        if frozen is None:
            return member.predict_encoded(ids)
        states = frozen.states(ids)
        return member.predict_encoded(
            ids, around=lambda rows: frozen.upper(pad_states([states[r] for r in rows]))
        )

    @contextmanager
    def _checkpoint_dir(self) -> Iterator[str]:
        """:attr:`checkpoints`, created, or a temporary directory removed afterwards."""
        if self.checkpoints is None:
            with tempfile.TemporaryDirectory(prefix="odio-ckpt-") as ckpt_dir:
                yield ckpt_dir
            return
        self.checkpoints.mkdir(parents=True, exist_ok=True)
        yield str(self.checkpoints)

    def _frozen(self, encoder: Any) -> FrozenLayers | None:
        """The cached frozen layers of ``encoder`` (``None`` without ``cache_frozen``)."""
        if not self.config.cache_frozen:
            return None
        return FrozenLayers(
            encoder,
            self.config.freeze_layers,
            pad_id(self.tokenizer),
            batch_size=self.config.eval_batch_size,
            cache=self._frozen_states,
        )

    def _trainer(
        self, ckpt_dir: str, with_validation: bool, progress: str | None
    ) -> tuple[L.Trainer, Any]:
        from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint

        c = self.config
        callbacks: list[Any] = []
        checkpoint = None
        if with_validation:
            checkpoint = ModelCheckpoint(
                dirpath=ckpt_dir,
                filename="best",
                monitor="val_loss",
                mode="min",
                save_top_k=1,
                save_weights_only=True,
            )
            callbacks += [
                EarlyStopping(monitor="val_loss", mode="min", patience=c.patience),
                checkpoint,
            ]
        if self.checkpoints is not None:  # a resume point: weights, optimizer, loop, RNG
            callbacks.append(
                ModelCheckpoint(
                    dirpath=ckpt_dir,
                    filename=RESUME,
                    monitor=None,
                    save_top_k=1,
                    train_time_interval=timedelta(minutes=c.checkpoint_minutes),
                    enable_version_counter=False,
                )
            )
        if progress is not None:
            callbacks.append(NamedProgressBar(progress))
        trainer = L.Trainer(
            max_epochs=c.max_epochs,
            accelerator=c.accelerator,
            devices=parse_devices(c.devices),
            strategy=lightning_strategy(c.strategy, c.num_nodes),
            precision=c.precision,  # type: ignore[arg-type]  # Lightning validates it
            num_nodes=c.num_nodes,
            accumulate_grad_batches=c.accumulate_grad_batches,
            fast_dev_run=c.fast_dev_run,
            overfit_batches=c.overfit_batches,
            deterministic=True,
            callbacks=callbacks,
            enable_checkpointing=with_validation or self.checkpoints is not None,
            enable_progress_bar=progress is not None,
            enable_model_summary=False,
            logger=False,
            num_sanity_val_steps=0,
            limit_val_batches=1.0 if with_validation else 0,
            default_root_dir=ckpt_dir,
            # LengthGroupedBatches shards the training batches itself; validation is whole
            use_distributed_sampler=False,
        )
        return trainer, checkpoint


def freeze_lower_layers(encoder: nn.Module, n: int) -> None:
    """Freeze the embeddings and the lowest ``n`` layers of a Hugging Face encoder.

    Example:
        >>> from transformers import BertConfig, BertModel
        >>> bert = BertModel(BertConfig(hidden_size=8, num_hidden_layers=3,
        ...     num_attention_heads=2, intermediate_size=16, vocab_size=50))
        >>> freeze_lower_layers(bert, 2)
        >>> [any(p.requires_grad for p in layer.parameters()) for layer in bert.encoder.layer]
        [False, False, True]
    """
    layers = _layer_list(encoder)
    if n > len(layers):
        raise OdioError(f"freeze_layers is {n}, but the encoder has {len(layers)} layers")
    embeddings: Any = encoder.get_input_embeddings()  # type: ignore[operator]
    embeddings.requires_grad_(False)
    embeddings = getattr(encoder, "embeddings", None)
    if isinstance(embeddings, nn.Module):  # positions, token types and their LayerNorm too
        embeddings.requires_grad_(False)
    for layer in layers[:n]:
        layer.requires_grad_(False)


def _layer_list(encoder: nn.Module) -> nn.ModuleList:
    """The encoder's stack of layers (BERT, RoBERTa, XLM-R, ELECTRA, DeBERTa, DistilBERT)."""
    owner, attribute = layer_list_owner(encoder)
    layers: nn.ModuleList = getattr(owner, attribute)
    return layers
