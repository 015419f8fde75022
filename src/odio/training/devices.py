"""Where an encoder trains: Lightning's strategy (DDP detection), the device list,
``torch.compile`` with an eager fallback, and handing the trained model back to its device.

Example:
    >>> lightning_strategy("auto"), parse_devices("0,1")
    ('auto', [0, 1])
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

import torch

from odio.models.encoder import EncoderClassifier

if TYPE_CHECKING:
    import lightning as L

__all__ = ["hand_off", "lightning_strategy", "parse_devices", "try_compile"]

log = logging.getLogger(__name__)


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


def parse_devices(value: str) -> Any:
    """Lightning's ``devices`` from the setting: ``auto``, a count, or a comma-separated list
    of device indices.

    >>> parse_devices("auto"), parse_devices("2")
    ('auto', 2)
    """
    if value == "auto":
        return value
    if "," in value:
        return [int(v) for v in value.split(",") if v.strip()]
    return int(value) if value.lstrip("-").isdigit() else value
