"""Starting fine-tuning from a finished odio encoder model (``--init``, stage 2 of a
two-stage schedule) instead of the pretrained base.

:func:`init_source` checks the directory once, before any training: an odio model trained
from the same base model with the torch runtime. What each fold then starts from is its
**first member** (``fold_0``; a one-model run has only that one): its encoder weights, and
its head when the init model's labels are the run's labels (otherwise a fresh head, said in
a log line). The tokenizer stays the base model's, which is the init's.

Requires the ``transformer`` extra (torch, transformers) when the weights are read.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from odio.errors import OdioError
from odio.models.modelconfig import child, find_model_dir, read_config, read_json_object
from odio.models.protocols import HEAD_CONFIG

__all__ = ["InitSource", "init_source", "refuse_init_trained_on"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InitSource:
    """The member of a finished model that fine-tuning starts from.

    Example:
        >>> InitSource(Path("runs/stage1/model/fold_0"), ("Odio",), "odio").member.name
        'fold_0'
    """

    member: Path
    """The member folder (a Hugging Face encoder directory plus ``odio_head.*``)."""
    labels: tuple[str, ...]
    """The init model's labels."""
    head: str
    """The member's head kind (``odio`` or ``sequence_classification``)."""

    def encoder(self) -> Any:
        """The member's encoder (safetensors only, nothing fetched, no code run)."""
        from odio.models.hub import member_weights

        return member_weights(self.member, "encoder")

    def head_weights(self, labels: Sequence[str] | None) -> dict[str, Any] | None:
        """The member's head weights when its labels are ``labels`` (in that order), else
        ``None`` (a fresh head), with a log line saying which."""
        from safetensors.torch import load_file

        from odio.models.heads import HEAD_WEIGHTS

        if self.head == "odio" and labels is not None and tuple(labels) == self.labels:
            log.info("init: encoder and head from %s", self.member)
            return load_file(str(self.member / HEAD_WEIGHTS))
        log.info(
            "init: encoder from %s, a fresh head (the init model's labels %s are not the run's %s)",
            self.member,
            list(self.labels),
            None if labels is None else list(labels),
        )
        return None


def init_source(init: str | Path, model: str) -> InitSource:
    """Check the ``--init`` directory (a run directory or its ``model/``) for a run whose
    base model is ``model``; one :class:`OdioError` line otherwise.

    >>> init_source("no/such/run", "base")
    Traceback (most recent call last):
    ...
    odio.errors.OdioError: init: model directory not found: no/such/run
    """
    try:
        directory = find_model_dir(init)
        config = read_config(directory)
    except OdioError as exc:
        raise OdioError(f"init: {exc}") from None
    if config["backend"] != "transformer":
        raise OdioError(
            f"init: {directory} is a {config['backend']} model; --init needs an encoder run"
        )
    base = config.get("base_model")
    if not _same_model(str(base), model):
        raise OdioError(
            f"init: {directory} was fine-tuned from {base!r}, not from {model!r}: "
            f"give --model {base} (or leave --init out)"
        )
    members = config.get("members") or []
    if not members:
        raise OdioError(f"init: {directory}/config.json lists no members")
    if config.get("runtime", "torch") != "torch":
        raise OdioError(f"init: {directory} is an ONNX export; give the PyTorch run it came from")
    member = child(directory, members[0])
    head = read_json_object(member / HEAD_CONFIG, "a member's head file").get("head", "odio")
    return InitSource(member, tuple(config["labels"]), str(head))


def _same_model(a: str, b: str) -> bool:
    """The same hub id, or two paths to the same directory."""
    if a == b:
        return True
    pa, pb = Path(a).expanduser(), Path(b).expanduser()
    return pa.exists() and pb.exists() and pa.resolve() == pb.resolve()


def refuse_init_trained_on(init: str | Path, sha256: str) -> None:
    """Refuse an ``--init`` model trained on the very file this run cross-validates: its
    weights have seen every fold's held-out rows with their labels, so the out-of-fold
    scores (and the thresholds tuned on them) would be optimistic. Stage 1 of a staged
    schedule trains on the other sources alone (``benchmarks/recipe_stage1.yaml``).

    >>> refuse_init_trained_on("no/such/run", "0" * 64)  # checked later by init_source
    """
    try:
        config = read_config(find_model_dir(init))
    except OdioError:
        return  # init_source says what is wrong with it
    training = config.get("training") or {}
    if isinstance(training, dict) and training.get("train_sha256") == sha256:
        raise OdioError(
            f"init: {init} was trained on this training file (same sha256): every fold's "
            "held-out rows were in its training set, so out-of-fold scores would be "
            "optimistic; train stage 1 on the other sources alone"
        )
