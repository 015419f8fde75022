"""odio: hate-speech detection for Spanish tweets.

``from odio import Detector`` is the entry point for using a trained model; it is imported
on first use, so ``import odio`` stays light.

>>> import odio
>>> odio.Detector.__name__
'Detector'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Detector", "__version__"]

if TYPE_CHECKING:
    from odio.detector import Detector


def __getattr__(name: str) -> Any:
    if name == "Detector":
        from odio.detector import Detector

        return Detector
    raise AttributeError(f"module 'odio' has no attribute {name!r}")
