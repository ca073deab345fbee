"""Shared test fixtures."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

_SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder of real data sets: ``$NEURONET_DATA``, else ``../shared/datasets``."""
    env = os.environ.get("NEURONET_DATA")
    path = Path(env) if env else _SHARED
    if not path.is_dir():
        pytest.fail(f"real data sets are needed: set NEURONET_DATA (looked in {path})")
    return path


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
