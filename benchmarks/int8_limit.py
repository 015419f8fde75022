"""The int8 encoder path against this CPU's physical limit, and where its time goes.

For an int8 ONNX model directory (``odio export --quantize int8``), scores the test tweets
the way ``Detector.predict_proba`` does, but timing each stage on its own: normalisation,
tokenisation, and the ONNX Runtime graph (length-sorted batches padded to their longest
row). The work of the graph is counted from its shapes: every weight MatMul costs
``rows x K x N`` multiply-adds over the real padded token rows of each batch, and
attention adds ``2 x batch x length^2 x hidden`` per layer (scores and weighted sum);
operations = 2 x multiply-adds. Achieved GOP/s = operations / graph seconds.

Two ceilings are printed beside it:

* the *peak*: cores x clock x int8 operations per cycle per core. An AVX-512 VNNI core
  retires one 512-bit ``vpdpbusd`` per cycle on Zen 4 (two 256-bit halves), 64 uint8 x
  int8 multiply-adds = 128 operations per cycle (``--ops-per-cycle``); the clock is
  ``--ghz`` (default: the kernel's reported MHz, the base clock here);
* the *practical peak*: ONNX Runtime's own int8 GEMM (``MatMulInteger``, the kernel the
  quantised graph runs) on one large product, the best this runtime does on this CPU.

Rounds alternate nothing (one path): the median of ``--rounds`` passes is reported.

    python benchmarks/int8_limit.py --model runs/e5small-int8
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd
from onnx import TensorProto, helper, numpy_helper

from odio.inference.detector import Detector
from odio.models.onnx import session_options
from odio.text.preprocess import preprocess_many
from odio.text.tokens import encode, length_batches, pad, pad_id

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "datathon2022"


def weight_matmuls(graph_path: Path) -> list[tuple[int, int]]:
    """(K, N) of every MatMul whose second input is a weight (int8 or fp32 initializer,
    possibly behind a DequantizeLinear)."""
    graph = onnx.load(str(graph_path)).graph
    shapes = {i.name: tuple(i.dims) for i in graph.initializer}
    dequantized = {
        n.output[0]: shapes.get(n.input[0]) for n in graph.node if n.op_type == "DequantizeLinear"
    }
    out = []
    for node in graph.node:
        if node.op_type in ("MatMul", "MatMulInteger"):
            shape = shapes.get(node.input[1]) or dequantized.get(node.input[1])
            if shape and len(shape) == 2:
                out.append((int(shape[0]), int(shape[1])))
    return out


def gemm_peak(threads: int, m: int = 1024, k: int = 768, n: int = 3072, rounds: int = 5) -> float:
    """GOP/s of ONNX Runtime's MatMulInteger (uint8 x int8) on one large product."""
    rng = np.random.default_rng(0)
    weight = numpy_helper.from_array(rng.integers(-127, 128, (k, n), dtype=np.int8), "B")
    node = helper.make_node("MatMulInteger", ["A", "B"], ["Y"])
    graph = helper.make_graph(
        [node],
        "gemm",
        [helper.make_tensor_value_info("A", TensorProto.UINT8, [m, k])],
        [helper.make_tensor_value_info("Y", TensorProto.INT32, [m, n])],
        [weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    session = ort.InferenceSession(
        model.SerializeToString(), session_options(threads), providers=["CPUExecutionProvider"]
    )
    a = rng.integers(0, 256, (m, k), dtype=np.uint8)
    session.run(None, {"A": a})
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        session.run(None, {"A": a})
        times.append(time.perf_counter() - start)
    return 2 * m * k * n / float(np.median(times)) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="an int8 ONNX model directory")
    parser.add_argument("--test", default=str(DATA / "tweets_test.csv"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--ghz", type=float, help="clock (default: /proc/cpuinfo's MHz)")
    parser.add_argument("--ops-per-cycle", type=int, default=128, help="int8, per core")
    args = parser.parse_args()
    load_start = os.getloadavg()

    detector = Detector.load(args.model, threads=args.threads)
    member = detector.model.members[0]
    graph_file = member.directory / member.meta["onnx"]["file"]
    config = json.loads((member.directory / "config.json").read_text())
    hidden, layers = config["hidden_size"], config["num_hidden_layers"]
    matmuls = weight_matmuls(graph_file)
    texts = pd.read_csv(args.test)["text"].fillna("").tolist()
    padding = pad_id(member.tokenizer)

    stages: dict[str, list[float]] = {"normalise": [], "tokenise": [], "graph": []}
    for _ in range(args.rounds):
        start = time.perf_counter()
        normalised = preprocess_many(texts, detector.model.preprocess)
        stages["normalise"].append(time.perf_counter() - start)
        start = time.perf_counter()
        ids = encode(member.tokenizer, normalised, member.max_length)
        stages["tokenise"].append(time.perf_counter() - start)
        start = time.perf_counter()
        work = 0.0
        for rows in length_batches(ids, member.batch_size):
            input_ids, mask = pad([ids[r] for r in rows], padding)
            member.session.run(["probabilities"], {"input_ids": input_ids, "attention_mask": mask})
            b, length = input_ids.shape
            work += sum(b * length * k * n for k, n in matmuls)
            work += layers * 2 * b * length * length * hidden
        stages["graph"].append(time.perf_counter() - start)
    ops = 2 * work
    graph_s = float(np.median(stages["graph"]))
    total = sum(float(np.median(v)) for v in stages.values())
    ghz = args.ghz or _cpuinfo_ghz()
    cores = args.threads
    peak = cores * ghz * args.ops_per_cycle
    practical = gemm_peak(args.threads)
    tokens = sum(len(i) for i in ids)
    print(
        f"model {args.model}: {layers} layers x {hidden}, {len(matmuls)} weight MatMuls; "
        f"{len(texts)} tweets, {tokens} tokens ({tokens / len(texts):.1f} per tweet); "
        f"batches of {member.batch_size}; {args.threads} threads; {args.rounds} rounds, median"
    )
    print(f"load average {load_start[0]:.2f} at start, {os.getloadavg()[0]:.2f} at end\n")
    print("| stage | seconds | share |\n|---|---:|---:|")
    for name, values in stages.items():
        median = float(np.median(values))
        print(f"| {name} | {median:.2f} | {median / total:.0%} |")
    print(f"| all ({len(texts) / total:.0f} tweets/s) | {total:.2f} | 100% |\n")
    print(f"work: {ops / 1e9:.0f} G int8 operations ({ops / len(texts) / 1e9:.2f} per tweet)")
    print(f"achieved in the graph: {ops / graph_s / 1e9:.0f} GOP/s")
    print(f"ONNX Runtime MatMulInteger 1024x768x3072: {practical:.0f} GOP/s (practical peak)")
    print(
        f"peak: {cores} cores x {ghz:.2f} GHz x {args.ops_per_cycle} = {peak:.0f} GOP/s; "
        f"achieved {ops / graph_s / 1e9 / peak:.0%} of it, {ops / graph_s / 1e9 / practical:.0%} "
        "of the practical peak"
    )


def _cpuinfo_ghz() -> float:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("cpu MHz"):
            return float(line.split(":")[1]) / 1000
    raise SystemExit("no cpu MHz in /proc/cpuinfo: give --ghz")


if __name__ == "__main__":
    main()
