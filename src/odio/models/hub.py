"""Hugging Face models by hub id or folder: loading them with one clear error, quietly.

:func:`pretrained` reads a base model (encoder, classifier, tokenizer or config) for
fine-tuning or for a published checkpoint; :func:`member_weights` reads the network saved in
a member folder (safetensors only, nothing fetched, no code run); :func:`position_limit` is
the longest input an encoder accepts. Nothing here imports torch or transformers until it is
called.

Requires the ``transformer`` extra (torch, transformers) when called.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from odio.errors import OdioError
from odio.extras import require
from odio.models.modelconfig import check_member
from odio.text.tokens import load_tokenizer


def pretrained(model: str, what: str = "encoder") -> Any:
    """The ``encoder`` (``AutoModel``), ``classifier`` (``AutoModelForSequenceClassification``),
    ``tokenizer`` or ``config`` of a Hugging Face hub id
    or local directory, with a clear error. Code shipped with a model is never run.

    A hub id needs the network the first time (set ``HF_HUB_OFFLINE=1`` to fail fast
    offline); a path-like name must exist.

    >>> pretrained("./no-such-model-dir")
    Traceback (most recent call last):
    ...
    odio.errors.OdioError: model directory not found: ./no-such-model-dir
    """
    transformers = require("transformers", "transformer", "a transformer model", torch=True)
    AutoConfig, AutoModel = transformers.AutoConfig, transformers.AutoModel
    AutoModelForSequenceClassification = transformers.AutoModelForSequenceClassification

    path = Path(model).expanduser()
    if path.exists():
        model = str(path)
    elif model.startswith((".", "/", "~")) or model.count("/") > 1:
        raise OdioError(f"model directory not found: {model}")
    loaders: dict[str, Callable[[str], Any]] = {
        "encoder": lambda m: AutoModel.from_pretrained(m, trust_remote_code=False),
        "classifier": lambda m: AutoModelForSequenceClassification.from_pretrained(
            m, trust_remote_code=False
        ),
        "tokenizer": load_tokenizer,
        "config": lambda m: AutoConfig.from_pretrained(m, trust_remote_code=False),
    }
    try:
        with quiet_transformers(keep_report=what == "classifier"):
            return loaders[what](model)
    except (OSError, ValueError, KeyError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise OdioError(
            f"cannot load model {model!r} ({reason[:200]}). Check the name; if this machine "
            "is offline, pass a local directory saved with save_pretrained() "
            "(and set HF_HUB_OFFLINE=1 to fail fast)"
        ) from None


def position_limit(config: Any, tokenizer: Any) -> int | None:
    """The longest input an encoder accepts (RoBERTa reserves padding_idx + 1 positions).

    >>> from types import SimpleNamespace as NS
    >>> position_limit(NS(max_position_embeddings=514, model_type="roberta", pad_token_id=1),
    ...                NS(model_max_length=10**30))
    512
    """
    limits = []
    positions = getattr(config, "max_position_embeddings", None)
    if positions:
        offset = 0
        if getattr(config, "model_type", "") in ("roberta", "xlm-roberta", "camembert"):
            offset = (getattr(config, "pad_token_id", 1) or 1) + 1
        limits.append(positions - offset)
    model_max = getattr(tokenizer, "model_max_length", None)
    if model_max and model_max < 1_000_000:
        limits.append(model_max)
    return min(limits) if limits else None


def member_weights(directory: Path, what: str) -> Any:
    """The ``encoder`` or ``classifier`` network saved in a member folder.

    A member folder is data: safetensors weights only (never a pickled
    ``pytorch_model.bin``), no code shipped with it, nothing fetched from the hub, no link
    leading out of the folder.
    """
    transformers = require("transformers", "transformer", "a transformer model", torch=True)
    auto = (
        transformers.AutoModel
        if what == "encoder"
        else transformers.AutoModelForSequenceClassification
    )
    directory = check_member(directory)  # transformers opens what it finds there
    with quiet_transformers(keep_report=what != "encoder"):
        return auto.from_pretrained(
            str(directory), trust_remote_code=False, use_safetensors=True, local_files_only=True
        )


@contextlib.contextmanager
def quiet_transformers(*, keep_report: bool = False) -> Iterator[None]:
    """No "Loading weights" or "Writing model shards" progress bar (a fraction of a second
    per model, once per fold member), and unless ``keep_report`` no load report: an encoder
    loaded without the pooler it never uses is not news, but a sequence-classification head
    initialised at random would be. Transformers' own settings are restored after.

    Example:
        >>> with quiet_transformers():  # doctest: +SKIP
        ...     encoder = AutoModel.from_pretrained("./e5-small")
    """
    from transformers.utils import logging

    bars, verbosity = logging.is_progress_bar_enabled(), logging.get_verbosity()
    logging.disable_progress_bar()
    if not keep_report:
        logging.set_verbosity_error()
    try:
        yield
    finally:
        logging.set_verbosity(verbosity)
        if bars:
            logging.enable_progress_bar()
