"""What a saved model depends on: the versions of the libraries that shaped its inputs.

A model directory records :func:`library_versions` in its ``config.json``. On load,
:func:`check_versions` warns when a library that changes how text becomes model input
(normalisation: odio, emoji; tokenisation: tokenizers, transformers) differs from the one
the model was trained with: its probabilities may then drift from the reported scores.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from importlib import metadata

log = logging.getLogger(__name__)

VERSION = "0.2.0"
"""odio's own version: ``odio.__version__`` and the package metadata (pyproject) read it."""

LIBRARIES = (
    "odio",
    "torch",
    "transformers",
    "tokenizers",
    "scikit-learn",
    "emoji",
    "onnxruntime",
)
"""The distributions recorded with every model."""

INPUT_SHAPING = ("odio", "emoji", "tokenizers", "transformers")
"""Those whose version changes normalisation or tokenisation."""


def library_versions() -> dict[str, str | None]:
    """Installed version of each of :data:`LIBRARIES` (``None`` when not installed).

    >>> library_versions()["odio"] == VERSION
    True
    """
    versions: dict[str, str | None] = {"odio": VERSION}
    for name in LIBRARIES[1:]:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def version_drift(
    saved: Mapping[str, str | None], current: Mapping[str, str | None] | None = None
) -> list[str]:
    """One line per input-shaping library whose version differs from ``saved``.

    A library the model did not use (``None`` when saved) or that is not installed now is
    skipped: it cannot have shaped the model's inputs, or it will fail loudly if needed.

    >>> version_drift({"emoji": "2.8.0", "odio": "0.2.0"}, {"emoji": "2.16.0", "odio": "0.2.0"})
    ['emoji 2.8.0 (trained) != 2.16.0 (installed)']
    """
    current = library_versions() if current is None else current
    drift = []
    for name in INPUT_SHAPING:
        was, now = saved.get(name), current.get(name)
        if was and now and was != now:
            drift.append(f"{name} {was} (trained) != {now} (installed)")
    return drift


def check_versions(saved: Mapping[str, str | None] | None, where: str) -> None:
    """Log a warning naming each drifted input-shaping library of the model at ``where``."""
    drift = version_drift(saved or {})
    if drift:
        log.warning(
            "%s was saved with other versions of libraries that shape its inputs (%s); "
            "its probabilities may differ from its reported scores",
            where,
            "; ".join(drift),
        )
