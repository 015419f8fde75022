"""odio: hate-speech detection for Spanish tweets.

``odio.fit(data, config)`` trains (k-fold cross-validation, thresholds tuned on
out-of-fold predictions) and returns a :class:`~odio.training.result.TrainedRun`: its
``detector``, typed scores, predictions, and ``save(dir)`` for the run directory;
``odio.evaluate(model, data)`` scores a model on labelled tweets; ``odio.Detector`` loads
and uses a saved model. Each is imported on first use, so ``import odio`` stays light.

The package is layered, each layer importing only those below it (checked in CI with
import-linter, see ``pyproject.toml``)::

    cli                      the odio command, one module per subcommand
    serve | reports          HTTP API | reports, plots, run comparison
    checks                   functional test suites, scoring a Detector on them
    training                 odio.fit: k-fold training (TF-IDF, Lightning), the run directory
    inference                Detector, batch scoring, evaluation, explanations
    models                   what a saved model is made of (members, blend, stack, model dir)
    data | runs              reading labelled files, folds | reading a run directory
    config, sections         typed run settings
    text                     tweet normalisation, tokenisation
    cluster                  connecting to Ray (optional), shipping folders to its workers
    errors, extras, metrics, scores, versions, files

>>> import odio
>>> odio.Detector.__name__
'Detector'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from odio.versions import VERSION as __version__

__all__ = ["Detector", "RunConfig", "TrainedRun", "__version__", "evaluate", "fit"]

if TYPE_CHECKING:
    from odio.config import RunConfig
    from odio.inference.detector import Detector
    from odio.inference.evaluate import evaluate
    from odio.training.fit import fit
    from odio.training.result import TrainedRun

_LAZY = {
    "Detector": "odio.inference.detector",
    "RunConfig": "odio.config",
    "TrainedRun": "odio.training.result",
    "evaluate": "odio.inference.evaluate",
    "fit": "odio.training.fit",
}
"""Public name -> the module that defines it, imported on first use."""


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'odio' has no attribute {name!r}")
