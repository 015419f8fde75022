"""``odio export``: write an ONNX copy (fp32 or int8) of a transformer model."""

from __future__ import annotations

import argparse
from pathlib import Path

from odio.cli import common
from odio.errors import OdioError

SUMMARY = "write an ONNX copy (fp32 or int8) of a model"
DESCRIPTION = (
    "Export every fold member of a transformer model to ONNX, checked against PyTorch; "
    "the export is a self-contained model directory that runs without PyTorch."
)
EXAMPLES = [
    "odio export runs/e5",
    "odio export runs/e5 --quantize int8",
    "odio export runs/e5-student --quantize int8 --calibration tweets.csv -o out/",
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from odio.models.export import OPSET

    parser.add_argument("model", metavar="MODEL", help=common.MODEL_HELP)
    parser.add_argument("--format", choices=["onnx"], default="onnx", help="export format")
    parser.add_argument(
        "--quantize",
        choices=["int8"],
        help="int8 static quantisation (weights and activations; see --calibration)",
    )
    parser.add_argument(
        "--calibration",
        metavar="FILE",
        help="tweets that calibrate int8 activation ranges (default: the run's training "
        "tweets, oof.csv)",
    )
    parser.add_argument("--text-column", default="text", help="text column of --calibration")
    parser.add_argument(
        "-o",
        "--output",
        metavar="OUT_DIR",
        help="directory to write (default: beside the model, model-onnx[-int8])",
    )
    parser.add_argument("--opset", type=common.positive, default=OPSET, help="ONNX opset")
    parser.add_argument("--overwrite", action="store_true", help="replace OUT_DIR")


def run(args: argparse.Namespace) -> int:
    """Export and print what was written."""
    from odio.models.export import export_onnx

    int8 = args.quantize == "int8"
    report = export_onnx(
        args.model,
        args.output or default_export_dir(args.model, int8),
        int8=int8,
        calibration=calibration_texts(args.model, args.calibration, args.text_column)
        if int8
        else None,
        opset=args.opset,
        overwrite=args.overwrite,
    )
    print(report.summary())
    return 0


def default_export_dir(model: str, int8: bool) -> str:
    """``RUN/model`` -> ``RUN/model-onnx`` (or ``RUN/model-onnx-int8``), beside the model.

    >>> default_export_dir("runs/e5/model", int8=True)
    'runs/e5/model-onnx-int8'
    """
    source = Path(model)
    if source.name != "model" and (source / "model").is_dir():
        source = source / "model"
    return str(source.with_name(source.name + ("-onnx-int8" if int8 else "-onnx")))


def calibration_texts(model: str, calibration: str | None, text_column: str) -> list[str]:
    """The tweets of ``--calibration FILE``, or else the training tweets of the run the model
    comes from (its ``oof.csv``; for a distilled model, its teacher's)."""
    from odio.data.tables import read_table, require_columns
    from odio.models.modeldir import find_model_dir, read_config

    if calibration:
        frame = read_table(calibration)
        require_columns(calibration, frame, [text_column])
        return frame[text_column].tolist()
    found = find_model_dir(model)
    teacher = read_config(found).get("distilled_from", {}).get("run")
    for run_dir in (found, found.parent, *([Path(teacher)] if teacher else [])):
        if (run_dir / "oof.csv").is_file():
            return read_table(run_dir / "oof.csv")["text"].tolist()
    raise OdioError(
        f"an int8 export calibrates on tweets like the ones the model will score, and "
        f"{model} is not in a run directory with its training tweets (oof.csv): "
        "give --calibration FILE"
    )
