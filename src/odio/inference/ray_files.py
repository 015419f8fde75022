"""The files a Ray scoring job reads and writes, checked before any actor starts: the input
files of a path or URI (one format, in name order), a CSV header sniffed as the local reader
does, the output path and the thresholds.

Ray-free (pyarrow only for remote file systems), so mistakes are found and named in this
process before the cluster does any work.

Example:
    >>> check_thresholds(["Odio"], {"Odio": 0.4})
    >>> check_thresholds(["Odio"], {"odio": 0.4})
    Traceback (most recent call last):
    ...
    odio.errors.OdioError: unknown label 'odio'; the model's labels are: Odio
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from odio.data.tables import STDIN, Table, format_of, header_names
from odio.errors import OdioError

__all__ = ["check_output", "check_thresholds", "csv_header", "input_files"]


def csv_header(
    path: str, fs: Any, kind: str, sep: str | None, encoding: str
) -> tuple[list[str], str]:
    """The column names and delimiter of a CSV or TSV, sniffed as the local reader does."""
    with _open(path, fs) as stream:
        head = stream.read(1 << 16)
    try:
        text = head.decode(encoding, errors="strict" if len(head) < 1 << 16 else "ignore")
    except (UnicodeDecodeError, LookupError) as exc:
        raise OdioError(f"{path}: cannot read its header as {encoding} ({exc})") from None
    header = text.splitlines()[0] if text.strip() else ""
    if not header.strip():
        raise OdioError(f"{path} is empty")
    delimiter = Table(path, format=kind, sep=sep).separator(header)
    return header_names(path, header, delimiter), delimiter


def _open(path: str, fs: Any) -> Any:
    return fs.open_input_stream(path) if fs is not None else open(path, "rb")  # noqa: SIM115


def input_files(source: str | Path, input_format: str | None) -> tuple[Any, list[str], str]:
    """``(filesystem or None for local paths, files in name order, format)``."""
    name = str(source)
    if name == STDIN:
        raise OdioError("--engine ray reads files or folders, not standard input")
    fs = None
    if "://" in name:
        import pyarrow.fs as pafs

        fs, base = pafs.FileSystem.from_uri(name)
        info = fs.get_file_info(base)
        if info.type == pafs.FileType.NotFound:
            raise OdioError(f"not found: {name}")
        if info.type == pafs.FileType.Directory:
            listing = fs.get_file_info(pafs.FileSelector(base))
            files = [i.path for i in listing if i.is_file and _is_data(i.base_name)]
        else:
            files = [base]
    else:
        path = Path(name)
        if not path.exists():
            raise OdioError(f"file not found: {path}")
        if path.is_dir():
            files = [str(p) for p in path.iterdir() if p.is_file() and _is_data(p.name)]
        else:
            if path.stat().st_size == 0:
                raise OdioError(f"{path} is empty")
            files = [str(path)]
    files.sort()
    if not files:
        raise OdioError(f"{name}: no data files in this folder")
    if input_format:
        kinds = {Table(files[0], format=input_format).kind}
    else:
        kinds = {format_of(f) for f in files}
    if len(kinds) > 1:
        raise OdioError(
            f"{name}: files of several formats ({', '.join(sorted(kinds))}); "
            "score one format at a time"
        )
    return fs, files, kinds.pop()


def _is_data(name: str) -> bool:
    """Not a hidden file, nor a marker such as Spark's ``_SUCCESS``."""
    return not name.startswith((".", "_"))


def check_output(output: Path, inputs: list[str]) -> None:
    if str(output) == STDIN:
        raise OdioError("--engine ray writes a file: give -o OUTPUT")
    if any(output.resolve() == Path(f).resolve() for f in inputs):
        raise OdioError(f"the output {output} would overwrite the input")
    if output.is_dir():
        raise OdioError(f"the output {output} is a directory; give a file name")
    if not output.parent.exists():
        raise OdioError(f"output directory not found: {output.parent}")


def check_thresholds(labels: list[str], thresholds: Mapping[str, float]) -> None:
    """The checks of :meth:`Detector.with_thresholds`, before any actor starts."""
    for label, value in thresholds.items():
        if label not in labels:
            raise OdioError(f"unknown label {label!r}; the model's labels are: {', '.join(labels)}")
        if not 0 <= value <= 1:
            raise OdioError(f"threshold of {label!r} must be in [0, 1], got {value}")
