"""Accuracy kept by int8: a trained transformer model vs int8 ONNX exports, on a test set.

Exports ``--model`` to ONNX fp32 once and builds int8 graphs from it by several schemes,
side by side: the shipped one (``odio export --quantize int8``: static, MatMul inputs
smoothed, weights per channel, activation ranges calibrated on the run's training tweets;
see ``odio.models.quantize``) and the alternatives it
was chosen against (dynamic quantisation, activation ranges measured per batch; with the
feed-forward down-projections kept fp32 or not). Each scores the labelled test file at the
model's tuned thresholds; printed: test f1_custom, label decisions and rows agreeing with
PyTorch, the largest probability difference, and how far a tweet's probabilities move when
it is scored alone instead of in its batch.

    python benchmarks/int8_accuracy.py --model runs/e5small/model \\
        --test ../shared/data/datathon2022/tweets_test.csv
    python benchmarks/int8_accuracy.py --model runs/e5small/model --shipped-only
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pandas as pd
from onnxruntime.quantization import QuantType, quantize_dynamic

from odio.config import DataConfig
from odio.data.labelled import load_labelled
from odio.inference.detector import Detector
from odio.metrics import f1_custom
from odio.models.export import export_onnx

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "datathon2022"


def narrowing_matmuls(path: Path) -> list[str]:
    """MatMul nodes whose weight maps more features to fewer (feed-forward down-projections)."""
    graph = onnx.load(str(path)).graph
    shapes = {init.name: tuple(init.dims) for init in graph.initializer}
    return [
        node.name
        for node in graph.node
        if node.op_type == "MatMul"
        and any(len(shapes.get(i, ())) == 2 and shapes[i][0] > shapes[i][1] for i in node.input)
    ]


def dynamic(keep_down_fp32: bool) -> Callable[[Path, Path], None]:
    def build(fp32: Path, out: Path) -> None:
        quantize_dynamic(
            fp32,
            out,
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul"],
            per_channel=True,
            nodes_to_exclude=narrowing_matmuls(fp32) if keep_down_fp32 else None,
        )

    return build


def variant_of(fp32_dir: Path, out: Path, build: Callable[[Path, Path], None]) -> Path:
    """A copy of the fp32 export whose member graphs ``build`` rewrote."""
    shutil.copytree(fp32_dir, out)
    for graph in sorted(out.glob("*/model.onnx")):
        build(fp32_dir / graph.parent.name / graph.name, graph.with_suffix(".tmp"))
        graph.with_suffix(".tmp").replace(graph)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a trained transformer model (RUN/model)")
    parser.add_argument("--test", default=str(DATA / "tweets_test.csv"))
    parser.add_argument("--calibration", help="tweets to calibrate on (default RUN/oof.csv)")
    parser.add_argument("--min-votes", type=int, help="override the model's min_votes")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--alone", type=int, default=64, help="tweets also scored one by one")
    parser.add_argument(
        "--shipped-only", action="store_true", help="skip the dynamic schemes compared with it"
    )
    args = parser.parse_args()
    print(f"load average at start {os.getloadavg()}")

    reference = Detector.load(args.model, runtime="torch", threads=args.threads)
    data_info = reference.info.get("data", {})
    config = DataConfig(
        text_column=data_info.get("text_column", "text"),
        labels=reference.labels,
        min_votes=args.min_votes or data_info.get("min_votes", 2),
    )
    data = load_labelled(args.test, config, training=False)
    print(data.report.summary())
    model_dir = Path(args.model)
    calibration_file = args.calibration or next(
        str(p / "oof.csv") for p in (model_dir, model_dir.parent) if (p / "oof.csv").is_file()
    )
    calibration = pd.read_csv(calibration_file)["text"].tolist()

    rows = {}
    with tempfile.TemporaryDirectory(prefix="odio-int8-") as tmp:
        tmp = Path(tmp)
        fp32 = Path(export_onnx(args.model, tmp / "fp32").output)
        exports = {
            "static, every MatMul (shipped)": lambda: Path(
                export_onnx(args.model, tmp / "static", int8=True, calibration=calibration).output
            ),
            "dynamic, down-projections fp32 (before)": lambda: variant_of(
                fp32, tmp / "dyn_excl", dynamic(True)
            ),
            "dynamic, every MatMul": lambda: variant_of(fp32, tmp / "dyn_all", dynamic(False)),
        }
        if args.shipped_only:
            exports = dict(list(exports.items())[:1])
        detectors = {"PyTorch fp32": reference, "ONNX fp32": Detector.load(fp32)}
        for name, build in exports.items():
            start = time.perf_counter()
            detectors[name] = Detector.load(build(), threads=args.threads)
            print(f"built {name} in {time.perf_counter() - start:.0f}s", flush=True)
        for name, detector in detectors.items():
            P = detector.predict_proba(data.texts)
            alone = np.vstack([detector.predict_proba([t]) for t in data.texts[: args.alone]])
            rows[name] = (P, detector.decide(P), np.abs(alone - P[: args.alone]).max())

    P_ref, D_ref, _ = rows["PyTorch fp32"]
    print(f"\nmodel: {args.model} ({len(reference.model.members)} members); test: {args.test}")
    print(f"calibration: {calibration_file}; load average at end {os.getloadavg()}")
    print(
        "| runtime | test f1_custom (tuned) | label decisions agreeing | rows agreeing "
        f"(all {len(reference.labels)}) | largest prob. diff | alone vs in batch |"
    )
    print("|---|---|---|---|---|---|")
    for name, (P, D, batch_diff) in rows.items():
        print(
            f"| {name} | {f1_custom(data.Y, D):.4f} | {(D == D_ref).mean():.2%} | "
            f"{(D == D_ref).all(axis=1).mean():.2%} | {np.abs(P - P_ref).max():.4f} | "
            f"{batch_diff:.1e} |"
        )


if __name__ == "__main__":
    main()
