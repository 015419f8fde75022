"""Flags generated from the typed settings: a setting is a pydantic field, and its flag's
help, value shape, choices and default are read from the field.

Two models have flags: :class:`~odio.config.RunConfig` (the settings listed in
:data:`odio.config.FLAGS`, for ``odio train`` and ``odio evaluate``) and
:class:`~odio.serve.settings.ServeSettings` (every field but the token, for ``odio
serve``). Run settings stay text on the command line: the config validates them and its
error names the key and the flag (``setting 'cv.folds' (--folds): ...``), exactly as for a
YAML file; a server setting is parsed with the bounds of its field.

Precedence is the same everywhere: a flag given overrides the config file (or the
environment, for the server), which overrides the default.

>>> setting_help("cv.seed")
'Seed of the fold split and of training.'
"""

from __future__ import annotations

import argparse
import types
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal, Union, get_args, get_origin

from odio.cli.common import bounded

if TYPE_CHECKING:
    from pydantic import BaseModel
    from pydantic.fields import FieldInfo

    from odio.config import RunConfig

GROUPS = {"transformer": "transformer settings (more in --config)"}
"""Sections whose flags are listed under a title of their own in ``--help``."""


def dest(key: str) -> str:
    """The argparse destination of a dotted setting.

    >>> dest("transformer.lr")
    'setting__transformer__lr'
    """
    return "setting__" + key.replace(".", "__")


def describe(info: FieldInfo) -> str:
    """A field's help: the first paragraph of its docstring, on one line, markup removed."""
    first = (info.description or "").split("\n\n")[0]
    return " ".join(first.replace("``", "").split())


def _field(key: str) -> FieldInfo:
    """The field of a dotted setting of :class:`~odio.config.RunConfig`."""
    from pydantic import BaseModel

    from odio.config import RunConfig

    model: type[BaseModel] = RunConfig
    *sections, name = key.split(".")
    for section in sections:
        annotation = model.model_fields[section].annotation
        assert isinstance(annotation, type) and issubclass(annotation, BaseModel), key
        model = annotation
    return model.model_fields[name]


def setting_help(key: str) -> str:
    """The description of a dotted setting (its docstring), for ``--help``."""
    return describe(_field(key))


def setting_default(key: str) -> Any:
    """The default value of a dotted setting.

    >>> setting_default("transformer.lr")
    3e-05
    """
    from odio.config import RunConfig

    value: Any = RunConfig()
    for part in key.split("."):
        value = getattr(value, part)
    return value


def _shape(annotation: Any) -> tuple[str, tuple[Any, ...]]:
    """``("list" | "bool" | "value", choices)`` of a field's type, ``X | None`` unwrapped."""
    if get_origin(annotation) in (Union, types.UnionType):
        kinds = [a for a in get_args(annotation) if a is not type(None)]
        annotation = kinds[0] if len(kinds) == 1 else annotation
    if get_origin(annotation) is list:
        return "list", ()
    if get_origin(annotation) is Literal:
        return "value", get_args(annotation)
    return ("bool" if annotation is bool else "value"), ()


def add_setting_flags(
    parser: argparse.ArgumentParser, keys: Sequence[str] | None = None, default: str | None = None
) -> None:
    """One flag per setting of :data:`odio.config.FLAGS` (or of ``keys``): its help the
    setting's docstring, its choices and default (or ``default``, e.g. "as the model was
    trained") the field's; a list is ``nargs="+"``, a bool a switch.

    Values stay strings here: the config validates them and names the flag on a mistake.
    """
    from odio.config import FLAGS

    groups: dict[str, Any] = {}
    for key, flag in FLAGS.items():
        if keys is not None and key not in keys:
            continue
        section = key.split(".")[0] if "." in key else "run"
        if section not in groups:
            title = GROUPS.get(section)
            groups[section] = parser.add_argument_group(title) if title else parser
        value = setting_default(key)
        shown = default or (" ".join(value) if isinstance(value, list) else value)
        help_text = setting_help(key)
        if "(default:" not in help_text:
            help_text += f" (default: {shown})"
        kind, choices = _shape(_field(key).annotation)
        name = key.split(".")[-1].upper()
        options: dict[str, Any] = {"dest": dest(key), "help": help_text}
        if kind == "bool":
            options.update(action="store_true", default=None)
        elif kind == "list":
            options.update(nargs="+", metavar=name.rstrip("S"))
        else:
            options["metavar"] = "{" + ",".join(map(str, choices)) + "}" if choices else name
        groups[section].add_argument(flag, **options)


def given_settings(args: argparse.Namespace, keys: Iterable[str]) -> dict[str, Any]:
    """The settings of ``keys`` given as flags, as nested plain data.

    >>> given_settings(argparse.Namespace(setting__cv__folds="3", setting__model=None),
    ...                ["cv.folds", "model"])
    {'cv': {'folds': '3'}}
    """
    out: dict[str, Any] = {}
    for key in keys:
        value = getattr(args, dest(key), None)
        if value is not None:
            *sections, name = key.split(".")
            target = out
            for section in sections:
                target = target.setdefault(section, {})
            target[name] = value
    return out


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``base`` with the values of ``over`` (nested sections merged, other values replaced).

    >>> merge({"cv": {"folds": 4, "seed": 7}, "model": "tfidf"}, {"cv": {"folds": "2"}})
    {'cv': {'folds': '2', 'seed': 7}, 'model': 'tfidf'}
    """
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def run_config(
    args: argparse.Namespace, config: str | None = None, sources: Sequence[str] = ()
) -> RunConfig:
    """The run settings of a command line: the flags given, over the ``config`` YAML file
    (``--config``), over the defaults; ``sources`` are extra training files appended to
    ``data.sources``. A mistake is an :class:`~odio.errors.OdioError` naming the setting.
    """
    from odio.config import FLAGS, RunConfig

    base = RunConfig.from_yaml(config).to_dict() if config else {}
    values = merge(base, given_settings(args, FLAGS))
    if sources:
        data = values.setdefault("data", {})
        data["sources"] = [*(data.get("sources") or []), *({"path": p} for p in sources)]
    return RunConfig.from_dict(values)


def add_model_flags(
    parser: argparse.ArgumentParser, model: type[BaseModel], *, exclude: Iterable[str] = ()
) -> None:
    """One typed flag per field of a settings model (``max_texts`` -> ``--max-texts``): its
    help the field's docstring, parsed with the field's bounds, not set unless given (so that
    the environment a pydantic-settings model reads is overridden only by a flag given)."""
    prefix = str(model.model_config.get("env_prefix", ""))
    for name, info in model.model_fields.items():
        if name in exclude:
            continue
        low = next((m.ge for m in info.metadata if hasattr(m, "ge")), None)
        parse: Callable[[str], Any] = str
        if info.annotation is int:
            parse = int if low is None else bounded(int, low)
        elif info.annotation is float:
            parse = float if low is None else bounded(float, float(low))
        shown = f"default: {info.default}" + (f"; env {prefix}{name.upper()}" if prefix else "")
        parser.add_argument(
            "--" + name.replace("_", "-"), type=parse, help=f"{describe(info)} ({shown})"
        )


def model_flags(args: argparse.Namespace, model: type[BaseModel]) -> dict[str, Any]:
    """The fields of ``model`` given as flags (those left out keep their environment value
    or default)."""
    return {
        name: getattr(args, name)
        for name in model.model_fields
        if getattr(args, name, None) is not None
    }
