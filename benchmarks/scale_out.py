"""Local engine vs Ray on this machine, side by side: odio train and odio predict.

Everything runs in one process against one local Ray (started once, its start-up timed
apart), through the Python API the CLI calls, alternating which engine goes first in each
round so that machine noise hits both alike:

- train: TF-IDF, 5 folds, the training file with its test file; the local engine vs
  ``RayEngine(fold_cpus=1)``. Every Ray run's ``oof.csv`` and ``test_predictions.csv``
  are checked byte for byte against the local run's.
- predict: a model directory scores a large CSV (the test file repeated ``--repeat``
  times, written under ``--work``); ``Detector.load`` and ``predict_file`` vs
  ``predict_on_ray`` with ``--actors`` actors of 1 CPU (shipping the model, starting the
  actors and loading the model in each included). Every Ray output is checked byte for
  byte against the local one. ``--encoder MODEL_DIR`` adds the same for an encoder model
  on ``--encoder-rows`` rows, where the probabilities are compared instead: an int8 model
  quantises activations per batch, so its probabilities depend on which rows share a
  batch; the local engine with ``--chunksize`` = ``--batch-size`` is compared too.

The load average (``/proc/loadavg``) is printed before and after each measurement: on a
shared machine other work changes the figures.

    python benchmarks/scale_out.py --train ../shared/data/datathon2022/tweets_train.csv \\
        --test ../shared/data/datathon2022/tweets_test.csv --runs 3
"""

from __future__ import annotations

import argparse
import filecmp
import logging
import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from odio.config import RunConfig
from odio.inference.batch import predict_file
from odio.inference.detector import Detector
from odio.inference.distributed import predict_on_ray
from odio.training.engines import LocalEngine, RayEngine
from odio.training.run import train_run


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def timed(name: str, job: Callable[[], object], times: dict[str, list[float]]) -> None:
    before = loadavg()
    start = time.perf_counter()
    job()
    seconds = time.perf_counter() - start
    times.setdefault(name, []).append(seconds)
    print(f"  {name:<28} {seconds:7.2f} s   load {before} -> {loadavg()}", flush=True)


def report(title: str, times: dict[str, list[float]], rows: int | None = None) -> None:
    print(f"\n{title}")
    for name, values in times.items():
        median = statistics.median(values)
        rate = f", {rows / median:,.0f} rows/s" if rows else ""
        runs = ", ".join(f"{v:.2f}" for v in values)
        print(f"  {name:<28} median {median:7.2f} s{rate}  (runs: {runs})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=10, help="copies of the test file")
    parser.add_argument("--actors", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--encoder", help="an encoder model directory to score too")
    parser.add_argument("--encoder-rows", type=int, default=1000)
    parser.add_argument("--work", default="/tmp/odio-scale-out")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    print(f"load before anything: {loadavg()}")

    import ray

    start = time.perf_counter()
    ray.init(include_dashboard=False, logging_level="WARNING", log_to_driver=False)
    print(f"local Ray start-up: {time.perf_counter() - start:.1f} s, {ray.cluster_resources()}")

    # train: TF-IDF, 5 folds, with the test file
    config = RunConfig()
    engines = {"train local": LocalEngine(), "train ray (fold_cpus=1)": RayEngine()}
    train_times: dict[str, list[float]] = {}
    for run in range(args.runs):
        print(f"train round {run + 1}")
        order = list(engines) if run % 2 == 0 else list(reversed(engines))
        for name in order:
            out = work / f"run-{name.split()[1]}-{run}"
            timed(
                name,
                lambda out=out, name=name: train_run(
                    config,
                    args.train,
                    out,
                    test_path=args.test,
                    progress=False,
                    engine=engines[name],
                ),
                train_times,
            )
        for file in ("oof.csv", "test_predictions.csv"):
            same = filecmp.cmp(work / f"run-local-{run}" / file, work / f"run-ray-{run}" / file)
            assert same, f"{file} differs in round {run + 1}"
    report("odio train (TF-IDF, 5 folds; oof.csv and test_predictions.csv identical)", train_times)

    model = work / "run-local-0" / "model"
    big = work / "big.csv"
    test = pd.read_csv(args.test)
    pd.concat([test] * args.repeat, ignore_index=True).to_csv(big, index=False)
    rows = len(test) * args.repeat
    predict_jobs(model, big, rows, args, work, "TF-IDF")
    if args.encoder:
        small = work / "encoder.csv"
        pd.read_csv(big, nrows=args.encoder_rows).to_csv(small, index=False)
        predict_jobs(
            Path(args.encoder), small, args.encoder_rows, args, work, "encoder", exact=False
        )
    print(f"\nload after everything: {loadavg()}")


def predict_jobs(
    model: Path,
    source: Path,
    rows: int,
    args: argparse.Namespace,
    work: Path,
    what: str,
    exact: bool = True,
) -> None:
    local_name = "predict local"
    ray_name = f"predict ray ({args.actors} actors)"
    times: dict[str, list[float]] = {}
    for run in range(args.runs):
        print(f"predict {what} round {run + 1}")
        local_out, ray_out = work / f"{what}-local-{run}.csv", work / f"{what}-ray-{run}.csv"
        jobs = {
            local_name: lambda out=local_out: predict_file(
                Detector.load(model), source, out, progress=False
            ),
            ray_name: lambda out=ray_out: predict_on_ray(
                model,
                source,
                out,
                actors=args.actors,
                batch_size=args.batch_size,
                progress=False,
            ),
        }
        for name in list(jobs) if run % 2 == 0 else list(reversed(jobs)):
            timed(name, jobs[name], times)
        if exact:
            assert filecmp.cmp(local_out, ray_out, shallow=False), f"differ, round {run + 1}"
        else:
            compare(local_out, ray_out, f"round {run + 1}: ray vs local")
    if not exact:
        chunked = work / f"{what}-local-chunks.csv"
        predict_file(Detector.load(model), source, chunked, chunksize=args.batch_size)
        compare(local_out, chunked, f"local --chunksize {args.batch_size} vs 4096")
    same = "outputs identical" if exact else "probabilities compared above"
    report(f"odio predict ({what}, {rows:,} rows; {same})", times, rows)


def compare(first: Path, second: Path, what: str) -> None:
    """The largest probability difference and the share of equal 0/1 decisions."""
    a, b = pd.read_csv(first), pd.read_csv(second)
    prob = [c for c in a.columns if c.startswith("prob_")]
    pred = [c for c in a.columns if c.startswith("pred_")]
    diff = (a[prob] - b[prob]).abs().max().max()
    agree = (a[pred].fillna(-1) == b[pred].fillna(-1)).to_numpy().mean()
    print(f"  {what}: max |dp| {diff:.2e}, decisions equal {agree:.2%}", flush=True)


if __name__ == "__main__":
    main()
