"""Optional features live behind pip extras; a missing one is one clear sentence.

``import odio`` never imports FastAPI, uvicorn or ONNX Runtime: the modules that need them
(:mod:`odio.serve.app`, :mod:`odio.models.onnx`) import them when they are themselves imported, and
turn an ``ImportError`` into :class:`MissingExtra`.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from odio.errors import OdioError

TORCH_FIRST = "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu && "
"""Prefix for extras that pull torch: PyTorch's CPU build from its own index (a plain
``pip install torch`` on Linux pulls the multi-GB CUDA build; use the CUDA index for a GPU)."""


class MissingExtra(OdioError, ImportError):
    """An optional dependency is not installed; the message says how to install it.

    It is an :class:`ImportError` (what Python code expects from a failed import) and an
    :class:`~odio.errors.OdioError` (the CLI prints it as one ``error:`` line, exit 2).

    Example:
        >>> raise MissingExtra("serve", "odio serve", "fastapi")
        Traceback (most recent call last):
        ...
        odio.extras.MissingExtra: odio serve needs the 'serve' extra (fastapi is not installed): pip install 'odio[serve]'
    """  # noqa: E501 - a doctest output line cannot be wrapped

    def __init__(self, extra: str, feature: str, module: str, *, torch: bool = False) -> None:
        command = (TORCH_FIRST if torch else "") + f"pip install 'odio[{extra}]'"
        super().__init__(
            f"{feature} needs the '{extra}' extra ({module} is not installed): {command}"
        )
        self.extra = extra
        self.name = module


def require(module: str, extra: str, feature: str, *, torch: bool = False) -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtra` naming the extra that provides it.

    Example:
        >>> require("json", "serve", "odio serve").__name__
        'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtra(extra, feature, module, torch=torch) from exc
