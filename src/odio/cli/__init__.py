"""The ``odio`` command: a thin layer over :mod:`odio.training`, :mod:`odio.inference`,
:mod:`odio.models.export`, :mod:`odio.serve` and :mod:`odio.reports`.

One module per subcommand (``odio.cli.train``, ``odio.cli.predict``...), each a parser
part and a ``run(args)`` that calls the Python API, so anything the CLI does can be done
from Python too. Flags of settings are generated from the typed settings
(:mod:`odio.cli.flags`); the parser is built in :mod:`odio.cli.parser`. Libraries are
imported inside the ``run`` functions, so ``odio --help`` imports none of them.

>>> main(["--version"])  # doctest: +SKIP
odio ...
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from odio.cli.parser import build_parser, parse
from odio.errors import OdioError

__all__ = ["Terminated", "build_parser", "main"]

log = logging.getLogger("odio")


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived: unwinds like Ctrl-C, so outputs being built are removed."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated(signum)


def _catch_termination() -> dict[int, Any]:
    """Turn SIGTERM and SIGHUP into :class:`Terminated` (main thread only); the previous
    handlers, to restore."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    names = ("SIGTERM", "SIGHUP")
    signums = [getattr(signal, name) for name in names if hasattr(signal, name)]
    return {signum: signal.signal(signum, _terminate) for signum in signums}


def _silence_stdout() -> None:
    """Point standard output at the null device, so that the interpreter's last flush does
    not fail again on a closed pipe."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):  # not a real file (tests): nothing to do
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``odio`` console script; returns the exit status."""
    args = parse(sys.argv[1:] if argv is None else list(argv))
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    saved = log.level, log.propagate
    log.addHandler(handler)
    log.setLevel(logging.WARNING if args.quiet else logging.DEBUG if args.verbose else logging.INFO)
    log.propagate = False
    # uvicorn shuts the server down gracefully on SIGTERM itself, then lets it end the process
    previous = _catch_termination() if args.command != "serve" else {}
    try:
        status: int = args.module.run(args)
        sys.stdout.flush()  # a closed pipe fails here, not in the interpreter's last flush
        return status
    except OdioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # odio explain ... | head: the reader left
        _silence_stdout()
        print("error: cannot write standard output: Broken pipe", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Terminated as exc:
        print(f"terminated by {signal.Signals(exc.signum).name}", file=sys.stderr)
        return 128 + exc.signum
    finally:
        for signum, previous_handler in previous.items():
            signal.signal(signum, previous_handler)
        log.removeHandler(handler)
        log.level, log.propagate = saved
