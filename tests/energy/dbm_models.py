"""Small DBMs with random parameters for the DBM tests (imported, not collected)."""
from __future__ import annotations

import numpy as np

from neuronet.energy import DBM


def random_dbm(sizes, n_labels=0, seed=0, scale=0.8, bias_scale=0.5):
    """A float64 DBM with weights ``N(0, scale²)`` and biases ``N(0, bias_scale²)``."""
    rng = np.random.default_rng(seed)
    d = DBM(list(sizes), n_labels=n_labels, seed=seed, dtype=np.float64)
    for p in d.parameters():
        p.data[...] = rng.normal(0, scale if p.name.startswith(("W", "U")) else bias_scale, p.shape)
    return d
