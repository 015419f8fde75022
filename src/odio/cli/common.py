"""What every subcommand shares: the help layout, -q/-v, the options several commands take
(runtime, thresholds, engine), one typed validator for bounded numbers and the reading of
files that a list option swallowed.

Nothing here imports more than the standard library and :mod:`odio.errors`, so that ``odio
--help`` stays fast.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

from odio.errors import OdioError

Number = TypeVar("Number", int, float)

MODEL_HELP = (
    "run directory, its model/ directory, or hf:ID (a Hugging Face sequence-classification "
    "checkpoint, a hub id or a local directory)"
)


def bounded(kind: type[Number], low: Number, high: Number | None = None) -> Callable[[str], Number]:
    """An argparse ``type``: a whole number (``kind=int``) or a number at least ``low`` (and
    at most ``high``), or the error argparse prints as ``argument --flag: expected ...``.

    >>> bounded(int, 1)("3"), bounded(float, 0.0, 1.0)("0.5")
    (3, 0.5)
    >>> bounded(int, 1)("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected a whole number >= 1, got '0'
    """
    noun = "a whole number" if kind is int else "a number"
    want = f">= {low:g}" if high is None else f"in [{low:g}, {high:g}]"

    def parse(value: str) -> Number:
        try:
            number = kind(value)
        except ValueError:
            number = None
        inside = number is not None and number >= low and (high is None or number <= high)
        if not inside:  # NaN is never inside
            raise argparse.ArgumentTypeError(f"expected {noun} {want}, got {value!r}")
        return number  # type: ignore[return-value]

    parse.__name__ = kind.__name__
    return parse


positive = bounded(int, 1)
non_negative = bounded(int, 0)
resources = bounded(float, 0.0)
fraction = bounded(float, 0.0, 1.0)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and examples as written; every option's default shown."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        silent = action.default in (None, False, argparse.SUPPRESS) or action.required
        if silent or "default" in text or not action.option_strings:
            return text
        return f"{text} (default: %(default)s)"

    def _format_args(self, action: argparse.Action, default_metavar: str) -> str:
        if getattr(action, "shown_required", False):  # see shown_required()
            (metavar,) = self._metavar_formatter(action, default_metavar)(1)
            return metavar if action.nargs == "?" else f"{metavar} [{metavar} ...]"
        return super()._format_args(action, default_metavar)


def command(sub: Any, module: ModuleType) -> argparse.ArgumentParser:
    """The subcommand of a command module (``odio.cli.train``...): its one-line ``SUMMARY``,
    ``DESCRIPTION`` and ``EXAMPLES``, and -q/-v; its own arguments are added by its
    ``add_arguments`` (only for the command being run, see :func:`odio.cli.parser.build_parser`).
    """
    name = module.__name__.rsplit(".", 1)[-1]
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=module.SUMMARY,
        description=module.DESCRIPTION,
        epilog="examples:\n" + "\n".join(f"  {example}" for example in module.EXAMPLES),
        formatter_class=HelpFormatter,
    )
    loudness = parser.add_mutually_exclusive_group()
    loudness.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bars, only warnings and errors"
    )
    loudness.add_argument("-v", "--verbose", action="store_true", help="debug messages too")
    return parser


def add_threshold_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threshold",
        action="append",
        metavar="LABEL=VALUE",
        help="decision threshold of a label, instead of the tuned one (repeatable)",
    )


def thresholds(values: Sequence[str] | None) -> dict[str, float]:
    """``["Odio=0.7"]`` -> ``{"Odio": 0.7}``, with a clear error for a malformed one.

    >>> thresholds(["Odio=0.7", "Comunidad LGBTQ+=0.4"])
    {'Odio': 0.7, 'Comunidad LGBTQ+': 0.4}
    """
    out = {}
    for value in values or []:
        label, _, number = value.rpartition("=")
        try:
            out[label.strip()] = float(number)
        except ValueError:
            label = ""
        if not label.strip():
            raise OdioError(f"--threshold takes LABEL=VALUE, e.g. Odio=0.7; got {value!r}")
    return out


def runtime(value: str) -> str | None:
    """``--runtime auto`` is no preference (``None``)."""
    return None if value == "auto" else value


def add_runtime_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--runtime",
        choices=["auto", "torch", "onnx"],
        default="auto",
        help="transformer runtime (default auto: ONNX when the model holds ONNX files)",
    )
    parser.add_argument(
        "--threads", type=positive, help="CPU threads for inference (default: all cores)"
    )


def add_engine_options(parser: argparse.ArgumentParser, local: str) -> Any:
    group = parser.add_argument_group("engine (ray needs the ray extra: pip install 'odio[ray]')")
    group.add_argument(
        "--engine", choices=["local", "ray"], default="local", help=f"local: {local}"
    )
    group.add_argument(
        "--address",
        help="Ray cluster to use with --engine ray: auto, or ray://HEAD:10001 (default: "
        "RAY_ADDRESS, else a local Ray on this machine's cores)",
    )
    return group


RAY_ONLY = {
    "address": None,
    "fold_cpus": 1.0,
    "fold_gpus": 0.0,
    "actors": None,
    "batch_size": 512,
    "actor_cpus": 1.0,
    "actor_gpus": 0.0,
}
"""Options that only --engine ray reads, with their defaults."""


def check_engine(args: argparse.Namespace) -> None:
    """A Ray option without ``--engine ray`` is a mistake, not something to ignore."""
    if args.engine == "ray":
        return
    for name, default in RAY_ONLY.items():
        if getattr(args, name, default) != default:
            flag = "--" + name.replace("_", "-")
            raise OdioError(f"{flag} is a setting of --engine ray: add --engine ray or drop it")


def shown_required(action: argparse.Action) -> argparse.Action:
    """Show a positional taken with ``nargs="*"`` or ``"?"`` (so that argparse does not stop
    when a list option swallowed it, see :func:`reclaim_files`) as the required argument it
    is: ``FILE [FILE ...]`` or ``FILE`` in the usage."""
    action.shown_required = True  # type: ignore[attr-defined]
    return action


def reclaim_files(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    argv: Sequence[str],
    target: str,
    options: dict[str, str],
    *,
    required: bool = True,
) -> None:
    """Give back to the positional ``target`` the files that a list option swallowed.

    ``odio train --labels Odio tweets.csv`` reads ``tweets.csv`` as a label: argparse lets
    ``--labels`` take every word up to the next option. The existing files at the end of
    each option of ``options`` (dest -> flag) are moved to ``target`` (a list: joined in
    command-line order; a single file: only when it was not given). A ``target`` still
    missing is the usage error argparse would give, with the reason when a list option took
    the words after it.
    """
    current = getattr(args, target)
    single = not isinstance(current, list)
    found: list[str] = []
    for dest, flag in options.items():
        values = getattr(args, dest, None)
        if not values or (single and current is not None):
            continue
        cut = len(values)
        while cut > 0 and Path(values[cut - 1]).is_file():
            cut -= 1
        if cut == len(values):
            continue
        if cut == 0:
            parser.error(f"argument {flag}: expected at least one argument")
        found.extend(values[cut:])
        setattr(args, dest, list(values[:cut]))
    if single and found:
        if len(found) > 1:
            parser.error(f"unrecognized arguments: {' '.join(found[1:])}")
        setattr(args, target, found[0])
    elif found:
        order = {word: i for i, word in reversed(list(enumerate(argv)))}
        files = sorted([*current, *found], key=lambda word: order.get(word, len(order)))
        setattr(args, target, files)
    if required and not getattr(args, target):
        metavar = next(a.metavar for a in parser._actions if a.dest == target)
        given = [flag for dest, flag in options.items() if getattr(args, dest, None)]
        hint = f" (the words after {' and '.join(given)} are its values)" if given else ""
        parser.error(f"the following arguments are required: {metavar}{hint}")
