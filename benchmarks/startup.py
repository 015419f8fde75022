"""Start-up time of odio's commands and imports, each a fresh process, median of N rounds.

    python benchmarks/startup.py --rounds 5
    python benchmarks/startup.py --rounds 5 --baseline /tmp/odio-main/src   # side by side

Each case runs in a fresh interpreter (``python -c`` or ``python -m odio.cli``), so what it
measures is what a user waits for: interpreter start, imports, argument parsing. With
``--baseline SRC`` every case also runs with another checkout's ``src`` first on
``PYTHONPATH``, alternating (A B A B ...) so both see the same machine, and the table gives
the ratio. The ONNX case needs ``--onnx MODEL_DIR`` (an ``odio export`` folder).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def cases(onnx: str | None) -> dict[str, list[str]]:
    """Name -> command line, each run in a fresh process."""
    py = sys.executable
    out = {
        "odio --help": [py, "-m", "odio.cli", "--help"],
        "odio --version": [py, "-m", "odio.cli", "--version"],
        "odio train --help": [py, "-m", "odio.cli", "train", "--help"],
        "from odio import Detector": [py, "-c", "from odio import Detector; Detector.load"],
        "import odio; odio.fit": [py, "-c", "import odio; odio.fit"],
    }
    if onnx:
        code = f"from odio import Detector; Detector.load({onnx!r}).predict_proba(['hola weon'])"
        out["load + score an ONNX model"] = [py, "-c", code]
    return out


def run_once(command: list[str], src: Path) -> float:
    """Seconds of one fresh process; NaN when it fails (a case the baseline lacks)."""
    env = {**os.environ, "PYTHONPATH": str(src), "HF_HUB_OFFLINE": "1"}
    start = time.perf_counter()
    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start if done.returncode == 0 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="another checkout's src folder")
    parser.add_argument("--onnx", help="an ONNX model folder (odio export) to load and score")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    header = "| case | this checkout, s (median) |"
    header += " baseline, s | ratio |" if args.baseline else ""
    print(header)
    print("|---" * (4 if args.baseline else 2) + "|")
    for name, command in cases(args.onnx).items():
        run_once(command, SRC)  # warm the file cache
        mine, theirs = [], []
        for _ in range(args.rounds):
            mine.append(run_once(command, SRC))
            if args.baseline:
                theirs.append(run_once(command, args.baseline))
        row = f"| `{name}` | {statistics.median(mine):.2f} |"
        if args.baseline:
            a, b = statistics.median(mine), statistics.median(theirs)
            row += " n/a | |" if b != b else f" {b:.2f} | {b / a:.1f}x faster |"
        print(row, flush=True)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
