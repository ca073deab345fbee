"""Shared by every energy model: stochastic binary units and temperature schedules.

One implementation, used by the Hopfield/Boltzmann machines, the RBM (block Gibbs)
and annealed importance sampling.
"""
from __future__ import annotations

import numpy as np

from ..backend import get_array_module


def sigmoid(x):
    """``σ(x) = 1/(1+e^{-x})``, computed without overflow for large ``|x|``."""
    xp = get_array_module(x)
    out = xp.empty_like(x)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + xp.exp(-x[pos]))
    ex = xp.exp(x[~pos])
    out[~pos] = ex / (1.0 + ex)
    return out


def sample_bernoulli(p, rng: np.random.Generator, out=None):
    """``s = 1[u < p]`` with ``u ~ U(0, 1)`` drawn in ``p``'s dtype (float32 stays float32).

    ``out`` (same shape and dtype as ``p``) is reused when given: no allocation
    per call in a training loop.
    """
    u = rng.random(p.shape, dtype=p.dtype if p.dtype in (np.float32, np.float64) else np.float64)
    if out is None:
        return (u < p).astype(p.dtype)
    np.less(u, p, out=out, casting="unsafe")
    return out


def geometric_schedule(t_start: float, t_end: float, steps: int) -> np.ndarray:
    """Temperatures ``T_k = T_0·(T_end/T_0)^{k/(K-1)}``, k = 0..K-1 (simulated annealing)."""
    _check_schedule(t_start, t_end, steps)
    if steps == 1:
        return np.array([float(t_end)])
    return t_start * (t_end / t_start) ** (np.arange(steps) / (steps - 1))


def linear_schedule(t_start: float, t_end: float, steps: int) -> np.ndarray:
    """Temperatures falling linearly from ``T_0`` to ``T_end`` in ``K`` steps."""
    _check_schedule(t_start, t_end, steps)
    if steps == 1:
        return np.array([float(t_end)])
    return np.linspace(t_start, t_end, steps)


def _check_schedule(t_start, t_end, steps):
    if not (np.isfinite(t_start) and np.isfinite(t_end)) or t_start <= 0 or t_end <= 0:
        raise ValueError(f"temperatures must be positive and finite, got T_start={t_start}, T_end={t_end}")
    if not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
