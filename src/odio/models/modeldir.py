"""The self-describing model directory: writing it and reading it back.

::

    model/
      config.json      labels, thresholds, backend, runtime, base model, preprocessing,
                       members (or a stack's bases and meta-model), library versions, metrics
      README.md        model card (:mod:`odio.models.card`)
      tokenizer/       encoder models: the tokenizer, once for every member
      fold_0/ ...      one folder per fold member (or base_0/ ... for a stack)

Nothing is pickled and nothing is run from the files, and nothing outside the directory is
read: member and base folders must be plain names inside the directory, no link in it may
lead out of it (:func:`~odio.models.modelconfig.inside`), transformers never runs code
shipped with a model, and ONNX members open only their own graph file. Finding the
directory and checking its ``config.json`` is :mod:`odio.models.modelconfig`'s job.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from odio.errors import OdioError
from odio.extras import require
from odio.files import as_os_error, usual_permissions
from odio.models.blend import TOKENIZER_DIR, Blend
from odio.models.card import model_card
from odio.models.modelconfig import (
    CONFIG_FILE,
    check_links,
    child,
    find_model_dir,
    first_line,
    read_config,
)
from odio.models.protocols import Member, TextModel
from odio.models.stack import Stack, StackMeta
from odio.text.preprocess import PreprocessOptions
from odio.versions import VERSION, check_versions, library_versions

log = logging.getLogger(__name__)

RUNTIMES = ("torch", "onnx")
"""Runtimes of transformer members; TF-IDF members always run with scikit-learn."""
OWN_KEYS = frozenset(
    "odio_version versions backend runtime base_model labels thresholds preprocess members "
    "bases meta decision_rule".split()
)
"""The ``config.json`` keys of the model itself; any other key is run information."""


def model_config(
    description: dict[str, Any],
    labels: Sequence[str],
    thresholds: np.ndarray,
    info: dict[str, Any],
    decision_rule: str = "independent",
) -> dict[str, Any]:
    """What ``config.json`` holds: versions, the model's ``description`` (see
    :meth:`~odio.models.protocols.TextModel.describe`), labels, thresholds, the decision
    rule, then ``info`` (run facts such as metrics and data settings)."""
    return {
        "odio_version": VERSION,
        "versions": library_versions(),
        **description,
        "labels": list(labels),
        "thresholds": {lab: float(t) for lab, t in zip(labels, thresholds, strict=True)},
        "decision_rule": decision_rule,
        **{k: v for k, v in info.items() if k not in OWN_KEYS},
    }


def write_model(
    directory: Path, config: dict[str, Any], write_parts: Callable[[Path], Any]
) -> None:
    """Write a model directory: its parts (members, tokenizer or bases), then ``config.json``
    and the model card."""
    directory.mkdir(parents=True, exist_ok=True)
    try:
        write_parts(directory)
    except Exception as exc:
        error = as_os_error(exc)  # a full disk, as safetensors reports it
        if error is None or error is exc:
            raise
        raise error from exc
    (directory / CONFIG_FILE).write_text(
        json.dumps(config, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    (directory / "README.md").write_text(model_card(config), encoding="utf-8")
    usual_permissions(directory)  # safetensors writes 0600


def save_model(
    directory: Path,
    model: TextModel,
    labels: Sequence[str],
    thresholds: np.ndarray,
    info: dict[str, Any],
    decision_rule: str = "independent",
) -> None:
    """Write ``model`` (a :class:`Blend` or a :class:`Stack`) as a model directory."""
    config = model_config(model.describe(), labels, thresholds, info, decision_rule)
    if isinstance(model, Stack):

        def write_parts(directory: Path) -> None:
            for entry, base, base_thresholds in zip(
                config["bases"], model.bases, model.base_thresholds, strict=True
            ):
                save_model(directory / entry["dir"], base, labels, np.asarray(base_thresholds), {})

        write_model(directory, config, write_parts)
    elif isinstance(model, Blend):
        write_model(directory, config, model.save)
    else:
        raise TypeError(f"cannot save a {type(model).__name__}")


def load_model(
    directory: str | Path, *, runtime: str | None = None, threads: int | None = None
) -> tuple[TextModel, dict[str, Any]]:
    """Read a model directory (or the run directory holding it): the model and its config.

    Args:
        directory: a model directory, or a run directory holding ``model/``.
        runtime: for encoder models, ``torch`` or ``onnx``; ``None`` picks ONNX Runtime when
            the members are ONNX files (written by ``odio export``).
        threads: CPU threads for inference (PyTorch: process-wide; ONNX Runtime: per
            session); ``None`` keeps the default.

    Warns (through logging) when a library that shapes the model's inputs has another
    version than the one the model was saved with.
    """
    directory = check_links(find_model_dir(directory))
    config = read_config(directory)
    check_versions(config.get("versions"), str(directory))
    if runtime is not None and runtime not in RUNTIMES:
        raise OdioError(f"runtime must be one of {', '.join(RUNTIMES)}, got {runtime!r}")
    if config["backend"] == "stack":
        return _load_stack(directory, config, runtime, threads), config
    members = [child(directory, name) for name in config["members"]]
    runtime, load_member = _member_loader(config, directory, members, runtime, threads)
    blend = Blend(
        [load_part(load_member, folder) for folder in members],
        PreprocessOptions.from_dict(config["preprocess"]),
        backend=config["backend"],
        runtime=runtime,
        base_model=config.get("base_model"),
    )
    if blend.n_labels != len(config["labels"]):
        raise OdioError(
            f"{directory / CONFIG_FILE}: key 'labels' has {len(config['labels'])} labels, "
            f"the members {blend.n_labels}"
        )
    return blend, config


T = TypeVar("T")


def load_part(load: Callable[[Path], T], folder: Path) -> T:
    """``load(folder)``, with any problem of the files (missing, truncated, not what they
    should be) as one :class:`OdioError` line naming the folder.

    >>> load_part(lambda f: json.loads((f / "x.json").read_text()), Path("model/fold_0"))
    Traceback (most recent call last):
    ...
    odio.errors.OdioError: model/fold_0: cannot load this part of the model (FileNotFoundError: [Errno 2] No such file or directory: 'model/fold_0/x.json')
    """  # noqa: E501 - a doctest output line cannot be wrapped
    try:
        return load(folder)
    except OdioError:
        raise
    except (NameError, AssertionError, ImportError):
        raise  # odio's own bugs, or an extra missing: not the files' fault
    except Exception as exc:  # every library has its own error types, and a JSON value of
        # the wrong type fails as anything from KeyError to AttributeError
        raise OdioError(
            f"{folder}: cannot load this part of the model "
            f"({type(exc).__name__}: {first_line(exc)})"
        ) from None


def _load_stack(
    directory: Path, config: dict[str, Any], runtime: str | None, threads: int | None
) -> Stack:
    bases: list[Blend] = []
    thresholds: list[list[float]] = []
    for entry in config["bases"]:
        folder = child(directory, entry.get("dir"))
        if not (folder / CONFIG_FILE).is_file():  # never a run's model/ inside the base
            raise OdioError(f"{folder}: a stack base has no {CONFIG_FILE}")
        base_config = read_config(folder)
        if base_config["backend"] == "stack":
            raise OdioError(f"{folder}: a stack base cannot itself be a stack")
        base_runtime = runtime if base_config["backend"] == "transformer" else None
        base, _ = load_model(folder, runtime=base_runtime, threads=threads)
        assert isinstance(base, Blend)  # a base is never a stack (checked above)
        if base_config["labels"] != config["labels"]:
            raise OdioError(
                f"{folder} has labels {base_config['labels']}, the stack {config['labels']}"
            )
        bases.append(base)
        thresholds.append([base_config["thresholds"][lab] for lab in config["labels"]])
    return Stack(
        bases,
        StackMeta.from_dict(config["meta"]),
        specs=[entry["model"] for entry in config["bases"]],
        base_thresholds=thresholds,
    )


def _member_loader(
    config: dict[str, Any],
    directory: Path,
    members: list[Path],
    runtime: str | None,
    threads: int | None,
) -> tuple[str | None, Callable[[Path], Member]]:
    """The runtime to use and the function that loads one member folder with it."""
    backend = config["backend"]
    if backend == "tfidf":
        if runtime is not None:
            raise OdioError(
                f"{directory} is a tfidf model, which runs with scikit-learn; "
                "a runtime applies to transformer models only"
            )
        from odio.models.tfidf import TfidfModel

        return None, TfidfModel.load
    if backend != "transformer":
        raise OdioError(
            f"{directory} was saved by backend {backend!r}, which this odio does not know"
        )
    has_onnx = any(members[0].glob("*.onnx"))
    has_torch = any(members[0].glob("model*.safetensors"))
    runtime = runtime or ("onnx" if has_onnx else "torch")
    if runtime == "onnx" and not has_onnx:
        raise OdioError(f"{directory} has no ONNX files; create them with: odio export {directory}")
    if runtime == "torch" and not has_torch and not has_onnx:
        raise OdioError(
            f"{members[0]} has no model.safetensors: odio loads safetensors weights only, "
            "never pickled ones (pytorch_model.bin)"
        )
    if runtime == "torch" and not has_torch:
        raise OdioError(
            f"{directory} is an ONNX export without PyTorch weights: use the onnx runtime, "
            "or the model directory it was exported from"
        )
    # a missing extra is one sentence naming the extra this runtime needs
    if runtime == "onnx":
        require("onnxruntime", "onnx", "the ONNX runtime")
    else:
        require("torch", "transformer", "a transformer model", torch=True)
        require("transformers", "transformer", "a transformer model", torch=True)
    tokenizer = model_tokenizer(directory, members[0], runtime=runtime)
    n_labels = len(config["labels"])
    if runtime == "onnx":
        from odio.models.onnx import OnnxMember

        return runtime, lambda folder: OnnxMember.load(
            folder, tokenizer, threads=threads, n_labels=n_labels
        )
    from odio.models.encoder import EncoderMember

    return runtime, lambda folder: EncoderMember.load(
        folder, tokenizer, threads=threads, n_labels=n_labels
    )


def tokenizer_folder(directory: Path, first_member: Path) -> Path:
    """Where an encoder model's shared tokenizer is: ``tokenizer/`` (models saved before
    odio 0.2 kept one in every member folder: the first member's), checked to hold one.

    >>> tokenizer_folder(Path("model"), Path("model/fold_0"))
    Traceback (most recent call last):
    ...
    odio.errors.OdioError: model/tokenizer/tokenizer.json is missing: the model's tokenizer was not saved or copied with it
    """  # noqa: E501 - a doctest output line cannot be wrapped
    from odio.text.tokens import TOKENIZER_CONFIG, TOKENIZER_FILE, check_tokenizer_files

    folder = directory / TOKENIZER_DIR
    if not folder.is_dir() and any(
        (first_member / name).is_file() for name in (TOKENIZER_FILE, TOKENIZER_CONFIG)
    ):
        folder = first_member
    check_links(directory, folder)
    check_tokenizer_files(folder)
    return folder


def model_tokenizer(directory: Path, first_member: Path, *, runtime: str = "torch") -> Any:
    """The tokenizer an encoder model's members share (see :func:`tokenizer_folder`).

    The ``onnx`` runtime reads it with the ``tokenizers`` library alone
    (:class:`~odio.text.tokens.SavedTokenizer`), so scoring imports neither transformers nor
    torch; a tokenizer saved without ``tokenizer.json`` is read with transformers.
    """
    from odio.text.tokens import TOKENIZER_FILE, SavedTokenizer, load_tokenizer

    folder = tokenizer_folder(directory, first_member)
    if runtime == "onnx" and (folder / TOKENIZER_FILE).is_file():
        return load_part(SavedTokenizer.load, folder)
    if runtime == "onnx":
        log.info("%s has no %s: its tokenizer is read with transformers", folder, TOKENIZER_FILE)
        require("transformers", "onnx", f"a tokenizer without {TOKENIZER_FILE}")
    return load_part(load_tokenizer, folder)
