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
from typing import Any, NoReturn, TypeVar

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


class Parser(argparse.ArgumentParser):
    """An argument parser whose "arguments are required" error says why when a list option
    took the words after it (``--labels Odio tweet.csv``, with no such file)."""

    list_options: Sequence[str] = ()
    """The list options on the command line being parsed (set by :func:`odio.cli.parser.parse`)."""

    def error(self, message: str) -> NoReturn:
        positionals = [str(a.metavar) for a in self._actions if not a.option_strings]
        missing = message.startswith("the following arguments are required:") and any(
            name in message.split(":", 1)[1].replace(",", " ").split() for name in positionals
        )
        if missing and self.list_options:
            message += f" (the words after {' and '.join(self.list_options)} are its values)"
        super().error(message)


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


def load_detector(args: argparse.Namespace) -> Any:
    """The Detector of ``args.model`` with the runtime, threads and ``--threshold`` values
    the command was given (what predict, check and explain score with)."""
    from odio.inference.detector import Detector

    detector = Detector.load(args.model, runtime=runtime(args.runtime), threads=args.threads)
    return detector.with_thresholds(thresholds(getattr(args, "threshold", None)))


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


def files_before_lists(argv: Sequence[str], options: Sequence[str]) -> list[str]:
    """``argv`` with the files that a list option would swallow read as the files they are.

    argparse lets ``--labels`` take every word up to the next option, so ``odio train
    --labels Odio tweets.csv`` would read ``tweets.csv`` as a label. When the last words
    after one of ``options`` are existing files, the option and its other values move to
    the end of the options (before ``--``), and the files stay where they were, in order.

    >>> files_before_lists(["train", "--labels", "Odio", "Mujeres", "--out", "r"], ["--labels"])
    ['train', '--labels', 'Odio', 'Mujeres', '--out', 'r']
    """
    words = list(argv)
    end = words.index("--") if "--" in words else len(words)
    kept: list[str] = []
    moved: list[str] = []
    i = 0
    while i < end:
        j = i + 1
        if words[i] in options:
            while j < end and not _is_option(words[j]):
                j += 1
            cut = j
            while cut > i + 2 and Path(words[cut - 1]).is_file():
                cut -= 1
            if cut < j:  # files at the end: the option goes after them
                moved += words[i:cut]
                kept += words[cut:j]
            else:
                kept += words[i:j]
        else:
            kept.append(words[i])
        i = j
    return kept + moved + words[end:]


def _is_option(word: str) -> bool:
    """Whether argparse reads ``word`` as an option (``-`` alone and numbers are values)."""
    if not word.startswith("-") or word == "-":
        return False
    try:
        float(word)
    except ValueError:
        return True
    return False
