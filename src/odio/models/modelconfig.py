"""Finding a model directory and reading its ``config.json``, checked before anything loads.

A problem with the file is one :class:`~odio.errors.OdioError` line naming ``config.json``
and the key: a label without a threshold, a threshold outside [0, 1], an unknown decision
rule, a member folder that is not there or would lead outside the directory, a stack's
meta-model of the wrong shape.

A model directory holds its own files: :func:`inside` is the one rule every loader applies
before it opens a file or folder. A link that resolves inside the model directory (say
``fold_1`` linked to ``fold_0``) is followed; one that leads outside it is refused with one
line naming the link, so loading a model never reads a file elsewhere on the machine.
Writing a model directory and loading its parts is :mod:`odio.models.modeldir`'s job.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from odio.errors import OdioError
from odio.metrics import DECISION_RULES
from odio.text.preprocess import PreprocessOptions

CONFIG_FILE = "config.json"


def find_model_dir(directory: str | Path) -> Path:
    """The model directory at ``directory`` or in its ``model/``, with a clear error.

    >>> find_model_dir("no/such/run")
    Traceback (most recent call last):
    ...
    odio.errors.OdioError: model directory not found: no/such/run
    """
    directory = Path(directory)
    if not (directory / CONFIG_FILE).exists() and (directory / "model" / CONFIG_FILE).exists():
        directory = directory / "model"
    if not directory.exists():
        raise OdioError(f"model directory not found: {directory}")
    if not (directory / CONFIG_FILE).exists():
        raise OdioError(
            f"{directory} is not an odio model: it has no {CONFIG_FILE} "
            "(give the run's model/ directory)"
        )
    return directory


def read_json_object(path: Path, what: str) -> dict[str, Any]:
    """A JSON file that must hold an object; anything else is one line naming ``path``.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "x.json"; _ = path.write_text("[1]")
    >>> read_json_object(path, "a model config")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    odio.errors.OdioError: .../x.json: not a model config (not a JSON object)
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise OdioError(f"{path}: cannot be read ({first_line(exc)})") from None
    if not isinstance(data, dict):
        raise OdioError(f"{path}: not {what} (not a JSON object)")
    return data


def read_config(directory: Path) -> dict[str, Any]:
    """The ``config.json`` of a model directory, checked for what loading needs: labels,
    a threshold in [0, 1] for each, the member (or base) folders present, normalisation
    options, a stack's meta-model of the right shape. A problem is one line naming the
    file and the key.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / CONFIG_FILE).write_text(
    ...     '{"backend": "tfidf", "labels": ["Odio"], "thresholds": {"Odio": 1.5}, "members": []}')
    >>> read_config(folder)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    odio.errors.OdioError: .../config.json: key 'thresholds.Odio' must be a number in [0, 1], got 1.5
    """  # noqa: E501 - a doctest output line cannot be wrapped
    path = directory / CONFIG_FILE
    config = read_json_object(path, "an odio model config")
    needed = ["backend", "labels", "thresholds"]
    needed += ["bases", "meta"] if config.get("backend") == "stack" else ["members"]
    missing = [key for key in needed if key not in config]
    if missing:
        raise OdioError(f"{path}: not an odio model config ({missing[0]!r} is missing)")
    check_config(directory, config)
    return config


def check_config(directory: Path, config: dict[str, Any]) -> None:
    """Raise an :class:`OdioError` naming ``config.json`` and the key of the first problem."""
    path = directory / CONFIG_FILE

    def bad(key: str, expected: str, value: Any) -> OdioError:
        shown = repr(value)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        return OdioError(f"{path}: key {key!r} must be {expected}, got {shown}")

    labels = config["labels"]
    if (
        not isinstance(labels, list)
        or not labels
        or not all(isinstance(label, str) and label for label in labels)
        or len(set(labels)) != len(labels)
    ):
        raise bad("labels", "a list of distinct label names", labels)
    thresholds = config["thresholds"]
    if not isinstance(thresholds, dict):
        raise bad("thresholds", "a mapping of label to threshold", thresholds)
    for label in labels:
        if label not in thresholds:
            raise OdioError(f"{path}: key 'thresholds' has no threshold for label {label!r}")
        if not _is_probability(thresholds[label]):
            raise bad(f"thresholds.{label}", "a number in [0, 1]", thresholds[label])
    if not isinstance(config.get("backend"), str):
        raise bad("backend", "a backend name", config.get("backend"))
    for key, kind, expected in _TYPED_KEYS:
        if config.get(key) is not None and not isinstance(config[key], kind):
            raise bad(key, expected, config[key])
    versions = config.get("versions") or {}
    for name, version in versions.items():
        if not isinstance(version, str | None):
            raise bad(f"versions.{name}", "a version string", version)
    for split, scores in (config.get("metrics") or {}).items():
        if not isinstance(scores, dict):
            raise bad(f"metrics.{split}", "a mapping of scores", scores)
    rule = config.get("decision_rule", "independent")
    if not isinstance(rule, str) or rule not in DECISION_RULES:
        raise bad("decision_rule", "one of " + ", ".join(DECISION_RULES), rule)
    if config["backend"] == "stack":
        _check_stack(directory, config, bad)
        return
    members = config["members"]
    if not isinstance(members, list) or not members:
        raise bad("members", "a non-empty list of member folders", members)
    for i, name in enumerate(members):
        if not child(directory, name).is_dir():
            raise OdioError(
                f"{path}: key 'members[{i}]' names {name!r}, which is not in {directory}"
            )
    try:
        PreprocessOptions.from_dict(config.get("preprocess"))
    except (ValueError, TypeError) as exc:
        raise bad("preprocess", "normalisation options", config.get("preprocess")) from exc


_TYPED_KEYS = (
    ("odio_version", str, "a version string"),
    ("versions", dict, "a mapping of library to version"),
    ("base_model", str, "the name of the base model"),
    ("metric", str, "a metric name"),
    ("metrics", dict, "a mapping of split to scores"),
    ("distilled_from", dict, "a mapping describing the teacher"),
)
"""Keys of ``config.json`` that loading, ``odio info`` or the model card read, by type."""


def _check_stack(directory: Path, config: dict[str, Any], bad: Callable[..., OdioError]) -> None:
    bases, meta, n_labels = config["bases"], config["meta"], len(config["labels"])
    if not isinstance(bases, list) or len(bases) < 2:
        raise bad("bases", "a list of two or more bases", bases)
    for i, entry in enumerate(bases):
        if not isinstance(entry, dict) or not isinstance(entry.get("model"), str):
            raise bad(f"bases[{i}]", "a mapping with 'dir' and 'model'", entry)
        if not child(directory, entry.get("dir")).is_dir():
            raise OdioError(
                f"{directory / CONFIG_FILE}: key 'bases[{i}].dir' names {entry.get('dir')!r}, "
                f"which is not in {directory}"
            )
    if not isinstance(meta, dict) or meta.get("features") not in ("label", "all"):
        raise bad("meta.features", "'label' or 'all'", meta.get("features") if meta else meta)
    width = len(bases) * (n_labels if meta["features"] == "all" else 1)
    coef, intercept = meta.get("coef"), meta.get("intercept")
    if (
        not isinstance(coef, list)
        or len(coef) != n_labels
        or not all(isinstance(row, list) and len(row) == width for row in coef)
        or not all(_is_finite(w) for row in coef for w in row)
    ):
        raise bad("meta.coef", f"{n_labels} rows of {width} finite numbers", coef)
    if (
        not isinstance(intercept, list)
        or len(intercept) != n_labels
        or not all(_is_finite(b) for b in intercept)
    ):
        raise bad("meta.intercept", f"{n_labels} finite numbers", intercept)


def _is_finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_probability(value: Any) -> bool:
    return _is_finite(value) and 0.0 <= value <= 1.0


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]


def child(directory: Path, name: Any) -> Path:
    """The folder ``name`` of a model directory, refused when it would lead elsewhere.

    >>> child(Path("model"), "fold_0").as_posix()
    'model/fold_0'
    >>> child(Path("model"), "../x")
    Traceback (most recent call last):
    ...
    odio.errors.OdioError: model/config.json names '../x': a part must be a folder name inside the model directory
    """  # noqa: E501 - a doctest output line cannot be wrapped
    if (
        not isinstance(name, str)
        or name in ("", ".", "..")
        or Path(name).name != name
        or "\\" in name
    ):
        raise OdioError(
            f"{directory / CONFIG_FILE} names {name!r}: a part must be a folder name inside "
            "the model directory"
        )
    return inside(directory, directory / name)


def inside(directory: Path, path: Path) -> Path:
    """``path``, checked to resolve inside the model ``directory``: a link within the folder
    is followed, one that leads out of it is refused (one line naming the link).

    >>> inside(Path("model"), Path("model/fold_0")).as_posix()
    'model/fold_0'
    """
    try:
        root, target = directory.resolve(), path.resolve()
    except (OSError, RuntimeError) as exc:  # a loop of links
        raise OdioError(f"{path}: cannot be resolved ({first_line(exc)})") from None
    if target != root and root not in target.parents:
        raise OdioError(
            f"{path} links to {target}, outside the model directory {directory}: "
            "a model folder must hold its own files"
        )
    return path


def check_links(directory: Path, folder: Path | None = None) -> Path:
    """Refuse any link in ``folder`` (default: the whole model ``directory``), at any depth,
    that leads outside ``directory`` (see :func:`inside`); returns ``folder``.

    >>> import tempfile
    >>> model = Path(tempfile.mkdtemp())
    >>> (model / "vocabulary.json").symlink_to("/etc/hostname")
    >>> check_links(model)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    odio.errors.OdioError: .../vocabulary.json links to ..., outside the model directory ...
    """  # noqa: E501 - a doctest output line cannot be wrapped
    folder = inside(directory, directory if folder is None else folder)
    for parent, dirs, files in os.walk(folder):  # links to folders are checked, not walked
        for name in sorted(dirs + files):
            path = Path(parent) / name
            if path.is_symlink():
                inside(directory, path)
    return folder


def check_member(folder: Path) -> Path:
    """:func:`check_links` for a member folder, loaded on its own: its links must resolve
    inside the model directory that holds it (its parent); returns ``folder``."""
    return check_links(folder.parent, folder)
