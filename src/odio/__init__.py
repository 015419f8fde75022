"""odio: hate-speech detection for Spanish tweets.

``from odio import Detector`` is the entry point for using a trained model; it is imported
on first use, so ``import odio`` stays light.

The package is layered, each layer importing only those below it (checked in CI with
import-linter, see ``pyproject.toml``)::

    cli                      the odio command
    serve | reports          HTTP API | reports, plots, run comparison
    checks                   functional test suites, scoring a Detector on them
    training | inference     k-fold training (Lightning) | Detector, batch scoring, explanations
    models                   what a saved model is made of (members, blend, stack, model dir)
    data                     reading labelled files, folds
    config                   typed run settings
    text                     tweet normalisation, tokenisation
    cluster                  connecting to Ray (optional), shipping folders to its workers
    errors, extras, metrics, versions

>>> import odio
>>> odio.Detector.__name__
'Detector'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from odio.versions import VERSION as __version__

__all__ = ["Detector", "__version__"]

if TYPE_CHECKING:
    from odio.inference.detector import Detector


def __getattr__(name: str) -> Any:
    if name == "Detector":
        from odio.inference.detector import Detector

        return Detector
    raise AttributeError(f"module 'odio' has no attribute {name!r}")
