"""``odio_head.json``, the settings file of an encoder member (PyTorch or ONNX), read and
checked before anything it names is loaded.

Every key a loader reads is checked here, and a bad value is one
:class:`~odio.errors.OdioError` line naming the file and the key: ``n_labels`` and
``max_length`` positive integers (``max_length`` also within the encoder's position limit,
see :func:`check_max_length`), ``head`` a known kind, a checkpoint's ``class_index`` one
class per label, ``base_model``, ``seed``, ``history`` and ``config`` of their types.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from odio.errors import OdioError
from odio.models.modelconfig import read_json_object
from odio.models.protocols import HEAD_CONFIG

HEAD_KINDS = ("odio", "sequence_classification")
"""The ``head`` entries a member folder may hold (see :data:`odio.models.heads.HEADS`)."""


def read_head(folder: Path, *, onnx: bool = False) -> dict[str, Any]:
    """The checked contents of ``folder/odio_head.json``; ``onnx`` for an exported member
    (which needs an ``onnx`` entry and no training ``config``).

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / HEAD_CONFIG).write_text('{"n_labels": 5, "max_length": 0}')
    >>> read_head(folder, onnx=True)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    odio.errors.OdioError: .../odio_head.json: key 'max_length' must be a positive integer, got 0
    """
    path = folder / HEAD_CONFIG
    meta = read_json_object(path, "an odio member's settings")

    def bad(key: str, expected: str) -> OdioError:
        shown = repr(meta.get(key))
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        return OdioError(f"{path}: key {key!r} must be {expected}, got {shown}")

    for key in ("n_labels", "max_length"):
        if not _is_int(meta.get(key)) or meta[key] < 1:
            raise bad(key, "a positive integer")
    if not _is_int(meta.get("seed", 42)):
        raise bad("seed", "an integer")
    if not isinstance(meta.get("history", []), list):
        raise bad("history", "a list of per-epoch losses")
    if onnx:
        if not isinstance(meta.get("onnx"), dict):
            raise OdioError(f"{folder} holds no ONNX model; export it with odio export")
        return meta
    if not isinstance(meta.get("base_model"), str):
        raise bad("base_model", "the name of the base model")
    if not isinstance(meta.get("config"), dict):
        raise bad("config", "the member's fine-tuning settings")
    head = meta.get("head", "odio")
    if head not in HEAD_KINDS:
        raise bad("head", "one of " + ", ".join(HEAD_KINDS))
    index = meta.get("class_index")
    if head == "sequence_classification" and (
        not isinstance(index, dict)
        or len(index) != meta["n_labels"]
        or not all(_is_int(i) and i >= 0 for i in index.values())
    ):
        raise bad("class_index", f"a class index for each of the {meta['n_labels']} labels")
    return meta


def check_max_length(folder: Path, max_length: int, limit: int | None) -> None:
    """Refuse a ``max_length`` beyond ``limit``, the encoder's position limit
    (:func:`odio.models.hub.position_limit`; ``None``: no known limit).

    >>> check_max_length(Path("fold_0"), 100000, 128)
    Traceback (most recent call last):
    ...
    odio.errors.OdioError: fold_0/odio_head.json: key 'max_length' must be at most 128 (the encoder's position limit), got 100000
    """  # noqa: E501 - a doctest output line cannot be wrapped
    if limit is not None and max_length > limit:
        raise OdioError(
            f"{folder / HEAD_CONFIG}: key 'max_length' must be at most {limit} "
            f"(the encoder's position limit), got {max_length}"
        )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
