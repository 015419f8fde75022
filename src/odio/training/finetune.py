"""Fine-tuning a Hugging Face encoder with Lightning: the encoder trainer.

Design kept from the reference RoBERTuito k-fold pipeline (``AutoModel`` backbone, pooled
token states, dropout, a Xavier-initialised linear head, ``BCEWithLogitsLoss``, AdamW,
early stopping and checkpointing on ``val_loss``, seeded and deterministic), with its
defects fixed:

1. mean pooling ignores padding (``cls`` pooling is an option);
2. the best-``val_loss`` weights are restored before predicting;
3. validation never drops rows, so every row gets an out-of-fold prediction;
4. lr 3e-5 with linear warmup then decay, no weight decay on biases and LayerNorm;
5. texts are tokenised once per cross-validation, batches are padded to their longest item
   and grouped by length;
6. ``compile`` falls back to eager with a one-line warning when compilation fails;
7. accelerator, devices, strategy, precision, accumulation and nodes pass through to Lightning;
   ``ddp`` on one machine runs in-process (spawned workers, gloo on the CPU), see
   :func:`lightning_strategy`;
8. predictions after training run on the device the model trained on.

Under DDP every process trains on its share of the batches and validates on the whole
held-out fold (so ``val_loss`` is exact and equal on every process); only rank 0's
weights, best checkpoint and history are kept.

The fitted model is an :class:`~odio.models.encoder.EncoderMember`, which scores without
Lightning. This is the only module of odio that imports Lightning.

Requires the ``transformer`` extra (torch, transformers, lightning).
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from odio.config import TransformerConfig
from odio.errors import OdioError
from odio.extras import MissingExtra
from odio.metrics import binarize, macro_f1
from odio.models.encoder import EncoderClassifier, EncoderMember, position_limit, pretrained
from odio.text.tokens import encode, pad, pad_id
from odio.training.trainers import Fitted

try:
    import lightning as L
    import torch
    from torch import nn
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("transformer", "fine-tuning an encoder", "lightning", torch=True) from exc

log = logging.getLogger(__name__)

POS_WEIGHT_CAP = 10.0


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

    def __init__(self, model: str, config: TransformerConfig | None = None, seed: int = 42) -> None:
        self.model = model
        self.config = config or TransformerConfig()
        self.seed = seed
        self._tokenizer: Any = None
        self._max_length = 0

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
        member is left on the device it trained on."""
        c = self.config
        L.seed_everything(self.seed, workers=True, verbose=False)
        Y = np.atleast_2d(np.asarray(Y)).astype(np.float32)
        if known is not None:
            Y = np.where(known, Y, np.nan)  # unknown: masked in the loss
        encoder = pretrained(self.model, "encoder")
        if c.freeze_embeddings:
            encoder.get_input_embeddings().weight.requires_grad_(False)
        if c.freeze_layers:
            freeze_lower_layers(encoder, c.freeze_layers)
        if getattr(encoder, "pooler", None) is not None:
            # BERT-style poolers are never used (pooling is over token states): frozen, they
            # get no update either way, and DDP does not wait for gradients they never get.
            encoder.pooler.requires_grad_(False)
        classifier = EncoderClassifier(encoder, Y.shape[1], c.pooling, c.dropout)

        collate = Collator(pad_id(self.tokenizer))
        train_ids = list(inputs)
        train_loader = torch.utils.data.DataLoader(
            Encoded(train_ids, Y),
            batch_sampler=LengthGroupedBatches(
                [len(i) for i in train_ids], c.batch_size, self.seed, c.group_by_length
            ),
            collate_fn=collate,
            num_workers=c.num_workers,
        )
        val_loader = None
        if validation is not None:
            val_loader = torch.utils.data.DataLoader(
                Encoded(list(validation[0]), np.atleast_2d(np.asarray(validation[1]))),
                batch_size=c.eval_batch_size,
                shuffle=False,
                drop_last=False,  # every validation row counts
                collate_fn=collate,
                num_workers=c.num_workers,
            )
        if c.compile:
            try_compile(classifier, collate([(train_ids[0], None)]))

        pos_weight = None
        if c.pos_weight:
            pos = np.nansum(Y, axis=0).clip(min=1)  # soft labels count by probability
            neg = np.nansum(1 - Y, axis=0)
            pos_weight = torch.as_tensor(np.minimum(neg / pos, POS_WEIGHT_CAP), dtype=torch.float32)
        module = FineTuner(classifier, c, pos_weight)
        module.train()  # from_pretrained returns modules in eval mode
        with tempfile.TemporaryDirectory(prefix="odio-ckpt-") as ckpt_dir, _quiet_lightning():
            module.history_file = str(Path(ckpt_dir) / "history.json")
            trainer, checkpoint = self._trainer(ckpt_dir, val_loader is not None, progress)
            trainer.fit(module, train_loader, val_loader)
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
        """Probabilities of token ids from :meth:`encode`, on the member's device."""
        return member.predict_encoded(list(inputs))

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
        if progress is not None:
            callbacks.append(_NamedProgressBar(progress))
        trainer = L.Trainer(
            max_epochs=c.max_epochs,
            accelerator=c.accelerator,
            devices=_devices(c.devices),
            strategy=lightning_strategy(c.strategy, c.num_nodes),
            precision=c.precision,  # type: ignore[arg-type]  # Lightning validates it
            num_nodes=c.num_nodes,
            accumulate_grad_batches=c.accumulate_grad_batches,
            fast_dev_run=c.fast_dev_run,
            overfit_batches=c.overfit_batches,
            deterministic=True,
            callbacks=callbacks,
            enable_checkpointing=with_validation,
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
    for path in ("encoder.layer", "transformer.layer", "layers", "layer"):
        module: Any = encoder
        for name in path.split("."):
            module = getattr(module, name, None)
        if isinstance(module, nn.ModuleList):
            return module
    raise OdioError(
        f"freeze_layers: cannot find the layers of a {type(encoder).__name__}; set freeze_layers: 0"
    )


def hand_off(classifier: EncoderClassifier, trainer: L.Trainer) -> None:
    """Move a trained classifier back to the device it trained on, in eval mode.

    Lightning's teardown after ``fit`` moves the module to the CPU; without this, held-out
    and test predictions of a model trained on a GPU would run on the CPU.
    """
    classifier.to(trainer.strategy.root_device).eval()


def lightning_strategy(strategy: str, num_nodes: int = 1) -> Any:
    """The Lightning strategy for a setting: ``ddp`` started by odio on one machine becomes
    DDP with spawned workers; anything else is Lightning's to resolve.

    Lightning's plain ``ddp`` re-runs the command in a subprocess per device, which suits
    a training script but not a k-fold loop inside ``odio train`` (every process would run
    every fold and write the run directory). Spawned workers run only ``Trainer.fit``:
    rank 0's weights, best checkpoint and history come back to this process, which goes on
    alone. The process group uses gloo on the CPU and NCCL on GPUs (Lightning's choice).

    When a cluster launcher started the processes (``torchrun``, SLURM: several nodes,
    ``--num-nodes``), ``ddp`` stays as it is: every process runs the command, and only the
    first writes the run directory (see :func:`odio.training.run.is_first_process`).

    >>> lightning_strategy("auto")
    'auto'
    >>> type(lightning_strategy("ddp")).__name__
    'DDPStrategy'
    """
    unused = "ddp_find_unused_parameters_true"
    if strategy not in ("ddp", "ddp_spawn", unused) or _launched_externally(num_nodes):
        return strategy
    from lightning.pytorch.strategies import DDPStrategy

    return DDPStrategy(start_method="spawn", find_unused_parameters=strategy == unused)


def _launched_externally(num_nodes: int) -> bool:
    """Whether a cluster launcher started this process as one rank of several."""
    import os

    ranks = ("LOCAL_RANK", "TORCHELASTIC_RUN_ID")
    slurm = int(os.environ.get("SLURM_NTASKS", "1") or 1) > 1
    return num_nodes > 1 or slurm or any(name in os.environ for name in ranks)


def try_compile(model: EncoderClassifier, sample: dict[str, torch.Tensor]) -> bool:
    """``torch.compile`` the encoder and run one batch; on failure warn once, stay eager."""
    try:
        compiled = torch.compile(model.encoder, dynamic=True)
        with torch.no_grad():
            compiled(input_ids=sample["input_ids"], attention_mask=sample["attention_mask"])
    except Exception as exc:  # noqa: BLE001 - any compiler failure means: run eagerly
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        log.warning(
            "torch.compile failed (%s: %s); training in eager mode", type(exc).__name__, reason
        )
        model.set_compiled(None)
        return False
    model.set_compiled(compiled)
    return True


class Encoded(torch.utils.data.Dataset):
    """Tweets tokenised once (no padding), with their labels."""

    def __init__(self, ids: list[list[int]], Y: np.ndarray | None = None) -> None:
        self.ids = ids
        self.Y = None if Y is None else torch.as_tensor(np.asarray(Y), dtype=torch.float32)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> tuple[list[int], torch.Tensor | None]:
        return self.ids[i], None if self.Y is None else self.Y[i]


class Collator:
    """Pads a batch to its longest item (dynamic padding)."""

    def __init__(self, pad_id: int) -> None:
        self.pad_id = pad_id

    def __call__(self, items: list[tuple[list[int], torch.Tensor | None]]) -> dict:
        input_ids, mask = pad([ids for ids, _ in items], self.pad_id)
        batch = {"input_ids": torch.from_numpy(input_ids), "attention_mask": torch.from_numpy(mask)}
        if items[0][1] is not None:
            batch["labels"] = torch.stack([y for _, y in items if y is not None])
        return batch


class LengthGroupedBatches(torch.utils.data.Sampler):
    """Shuffled batches of similar-length items: sort within shuffled pools of 50 batches.

    Seeded and reshuffled each epoch (``set_epoch``), so runs are reproducible. Under DDP
    every process draws the same batches and keeps every ``world_size``-th one from its
    rank on (the first ones repeat so that every process takes as many steps).
    """

    def __init__(self, lengths: Sequence[int], batch_size: int, seed: int, group: bool) -> None:
        self.lengths = np.asarray(lengths)
        self.batch_size = batch_size
        self.seed = seed
        self.group = group
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        _, world = _rank_and_world()
        return -(-self._n_batches() // world)

    def _n_batches(self) -> int:
        return -(-len(self.lengths) // self.batch_size)

    def __iter__(self) -> Iterator[list[int]]:
        rank, world = _rank_and_world()
        batches = list(self._batches())
        if world > 1:
            batches += batches[: len(self) * world - len(batches)]
            batches = batches[rank::world]
        yield from batches

    def _batches(self) -> Iterator[list[int]]:
        rng = np.random.default_rng([self.seed, self.epoch])
        self.epoch += 1
        order = rng.permutation(len(self.lengths))
        if self.group:
            pool = self.batch_size * 50
            order = np.concatenate(
                [
                    chunk[np.argsort(-self.lengths[chunk], kind="stable")]
                    for chunk in np.array_split(order, max(1, -(-len(order) // pool)))
                ]
            )
        batches = [
            order[i : i + self.batch_size].tolist() for i in range(0, len(order), self.batch_size)
        ]
        for b in rng.permutation(len(batches)):
            yield batches[b]


def _rank_and_world() -> tuple[int, int]:
    """This process's rank and the number of processes (``(0, 1)`` outside DDP)."""
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


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


class _NamedProgressBar(L.pytorch.callbacks.TQDMProgressBar):
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


@contextlib.contextmanager
def _quiet_lightning() -> Iterator[None]:
    """Silence Lightning's start-up chatter and known-harmless warnings during ``fit``."""
    names = ("lightning.pytorch", "lightning.fabric", "lightning_utilities")
    levels = {n: logging.getLogger(n).level for n in names}
    for n in names:
        logging.getLogger(n).setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message=".*(LeafSpec|does not have many workers|"
            "GPU available but not used|TPU available|treespec|no `val_dataloader`).*",
        )
        try:
            yield
        finally:
            for n, level in levels.items():
                logging.getLogger(n).setLevel(level)


def _devices(value: str) -> Any:
    if value == "auto":
        return value
    if "," in value:
        return [int(v) for v in value.split(",") if v.strip()]
    return int(value) if value.lstrip("-").isdigit() else value
