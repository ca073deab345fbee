"""Seeding: no hidden randomness.

Every stochastic object takes ``rng`` (a ``numpy.random.Generator``) or
``seed`` (an int); the same seed gives the same result.
"""
from __future__ import annotations

import numpy as np


def make_rng(rng=None, seed=None) -> np.random.Generator:
    """Return a Generator from ``rng`` or ``seed`` (never both).

    ``rng`` may be a Generator (used as is) or an int (treated as a seed);
    with neither, a fresh unseeded Generator is returned.
    """
    if rng is not None and seed is not None:
        raise ValueError("give either rng= or seed=, not both")
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is not None:
        seed = rng
    if seed is not None and not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    return np.random.default_rng(seed)


def rng_state(rng: np.random.Generator) -> dict:
    """The bit generator state of ``rng`` (JSON-serialisable), for exact resume."""
    return rng.bit_generator.state


def set_rng_state(rng: np.random.Generator, state: dict) -> None:
    """Restore a state taken by :func:`rng_state`."""
    rng.bit_generator.state = state
