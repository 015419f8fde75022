"""One distilled model against the fold ensemble it learnt from: throughput and test score.

Scores the labelled test file with the teacher (the run's k-member Detector) and the
student (``odio distill RUN --out STUDENT``), each in PyTorch and as an int8 ONNX export
(``odio export --quantize int8``, calibrated on the run's training tweets), all in one
process; rounds alternate the four so machine noise hits each alike. Prints tweets/s (the
median over rounds), the student's speed-up over the teacher in each runtime, and each
model's test f1_custom at the teacher's tuned thresholds.

    odio distill runs/e5small --out runs/e5small-student
    python benchmarks/distill_speed.py --run runs/e5small --student runs/e5small-student
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from odio.config import DataConfig
from odio.data.labelled import load_labelled
from odio.inference.detector import Detector
from odio.metrics import f1_custom
from odio.models.export import export_onnx

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "datathon2022"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="the teacher run (odio train)")
    parser.add_argument("--student", required=True, help="the distilled model (odio distill)")
    parser.add_argument("--test", default=str(DATA / "tweets_test.csv"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    load_start = os.getloadavg()

    teacher = Detector.load(args.run, runtime="torch", threads=args.threads)
    info = teacher.info.get("data", {})
    config = DataConfig(
        text_column=info.get("text_column", "text"),
        labels=teacher.labels,
        min_votes=info.get("min_votes", 2),
    )
    data = load_labelled(args.test, config, training=False)
    calibration = pd.read_csv(Path(args.run) / "oof.csv")["text"].tolist()
    with tempfile.TemporaryDirectory(prefix="odio-distill-") as tmp:
        models = {
            "teacher, PyTorch": teacher,
            "student, PyTorch": Detector.load(args.student, runtime="torch", threads=args.threads),
        }
        for name, source in (("teacher", args.run), ("student", args.student)):
            out = Path(tmp) / name
            export_onnx(source, out, int8=True, calibration=calibration)
            models[f"{name}, ONNX int8"] = Detector.load(out, threads=args.threads)
        seconds: dict[str, list[float]] = {name: [] for name in models}
        scores = {}
        for model in models.values():
            model.predict_proba(data.texts[:16])  # warm-up
        for r in range(args.rounds):
            for name, model in models.items():
                start = time.perf_counter()
                P = model.predict_proba(data.texts)
                seconds[name].append(time.perf_counter() - start)
                scores[name] = f1_custom(data.Y, teacher.with_thresholds({}).decide(P))
                print(
                    f"round {r + 1} {name:<20} {len(data.texts) / seconds[name][-1]:7.1f} tweets/s"
                )

    rate = {name: len(data.texts) / float(np.median(s)) for name, s in seconds.items()}
    print(
        f"\nteacher {args.run} ({len(teacher.model.members)} members), student {args.student}; "
        f"test {args.test} ({len(data.texts)} tweets); {args.rounds} rounds, median; threads "
        f"{args.threads}; load average {load_start[0]:.2f} at start, {os.getloadavg()[0]:.2f} "
        "at end"
    )
    print("| model | tweets/s | student / teacher | test f1_custom (teacher's thresholds) |")
    print("|---|---|---|---|")
    for name in models:
        runtime = name.split(", ")[1]
        ratio = rate[name] / rate[f"teacher, {runtime}"]
        print(f"| {name} | {rate[name]:.1f} | {ratio:.2f}x | {scores[name]:.4f} |")


if __name__ == "__main__":
    main()
