"""Fixtures of the training tests."""

from __future__ import annotations

import numpy as np
import pytest

from odio.text.preprocess import preprocess_many

DATATHON = ["Odio", "Mujeres", "Comunidad LGBTQ+", "Comunidades Migrantes", "Pueblos Originarios"]


@pytest.fixture(scope="session")
def data(sample_frame) -> tuple[list[str], np.ndarray]:
    """The sample tweets normalised for an encoder, and their five labels as 0/1 (votes >= 2)."""
    texts = preprocess_many(sample_frame["text"].tolist())
    return texts, (sample_frame[DATATHON].to_numpy() >= 2).astype(int)
