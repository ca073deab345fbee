"""Seeding: no hidden randomness.

Every stochastic object takes ``rng`` (a ``numpy.random.Generator``) or
``seed`` (an int); the same seed gives the same result.

Arrays on a GPU draw their random numbers on the device: :func:`generator_for`
gives, for a host Generator and an array module, the generator that draws arrays
of that module. For NumPy it is the Generator itself (the CPU results are exactly
those of ``rng``); for CuPy it is a ``cupy.random.Generator`` seeded once from
``rng`` (one 63-bit draw, at its first use) and kept with it, so a seeded run is
reproducible on the GPU too. The device stream is not part of ``rng_state``:
:func:`set_rng_state` drops it, and the next draw re-seeds it from the restored
host state (a resumed GPU run is reproducible, not the uninterrupted stream).
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


#: id(host Generator) -> (host Generator, device Generator); the host one is kept so its id
#: cannot be reused while the entry lives (Generators take no weak references)
_DEVICE_GENERATORS: dict = {}
_MAX_DEVICE_GENERATORS = 256


def generator_for(rng: np.random.Generator, xp=np):
    """The generator drawing ``xp`` arrays for ``rng``: ``rng`` for NumPy, else a generator of
    ``xp`` (CuPy) seeded once from ``rng`` and reused by every later draw for ``rng``."""
    if xp is np:
        return rng
    entry = _DEVICE_GENERATORS.get(id(rng))
    if entry is None or entry[0] is not rng:
        if len(_DEVICE_GENERATORS) >= _MAX_DEVICE_GENERATORS:  # bounded: oldest first
            del _DEVICE_GENERATORS[next(iter(_DEVICE_GENERATORS))]
        entry = (rng, xp.random.default_rng(int(rng.integers(2 ** 63))))
        _DEVICE_GENERATORS[id(rng)] = entry
    return entry[1]


def rng_state(rng: np.random.Generator) -> dict:
    """The bit generator state of ``rng`` (JSON-serialisable), for exact resume."""
    return rng.bit_generator.state


def set_rng_state(rng: np.random.Generator, state: dict) -> None:
    """Restore a state taken by :func:`rng_state` (a device stream of ``rng`` is re-seeded
    from it at its next draw)."""
    rng.bit_generator.state = state
    _DEVICE_GENERATORS.pop(id(rng), None)
