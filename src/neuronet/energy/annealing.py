"""Shared by every energy model: stochastic binary units and temperature schedules.

One implementation, used by the Hopfield/Boltzmann machines, the RBM (block Gibbs)
and annealed importance sampling. ``sigmoid`` is the layers' own (re-exported here).
"""
from __future__ import annotations

import numpy as np

from ..backend import get_array_module
from ..layers.activations import sigmoid  # noqa: F401  (re-exported: the one σ)
from ..random import generator_for


def sample_bernoulli(p, rng: np.random.Generator, out=None):
    """``s = 1[u < p]`` with ``u ~ U(0, 1)`` drawn in ``p``'s dtype (float32 stays float32).

    ``out`` (same shape and dtype as ``p``) is reused when given: no allocation
    per call in a training loop. ``u`` is drawn on ``p``'s device (:func:`~neuronet.random.generator_for`).
    """
    xp = get_array_module(p)
    u = generator_for(rng, xp).random(p.shape, dtype=p.dtype if p.dtype in (np.float32, np.float64)
                                      else np.float64)
    if out is None:
        return (u < p).astype(p.dtype)
    xp.less(u, p, out=out, casting="unsafe")
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


def sequential_sweep(S, W, H, order, decide, block: int = 64):
    """One sequential (asynchronous) sweep over fully connected units, for a batch of chains.

    ``S`` (B, n) holds the states of B independent chains (±1 or {0, 1}) and ``H``
    (B, n) their local fields ``h_j = Σ_i s_i w_ij (+ bias)``; both are updated in
    place. Units are visited one at a time in ``order``; unit ``i`` takes
    ``s_i := decide(h_i, s_i, i)`` (a (B,) column), so every update sees all earlier
    ones, exactly as the one-unit-at-a-time rule requires.

    Why blocks: after unit ``i`` changes by ``δ`` every field changes by
    ``δ·w_i`` (rank 1). Inside a block of ``block`` units only the block's own
    fields are updated per unit (O(B·block)); the rest of ``H`` gets one GEMM
    ``H += ΔS_block · W_block`` at the block's end. A sweep so costs
    O(B·n·block) elementwise + O(B·n²) in BLAS instead of n separate O(B·n) updates.
    On a GPU (CuPy) every update is the dense one: skipping unchanged chains would need
    their count on the host, a device-to-host copy per unit.
    """
    xp = get_array_module(S)
    if xp is not np:
        return _dense_sweep(S, W, H, np.asarray(order), decide, block, xp)
    order = np.asarray(order)
    B = S.shape[0]
    for start in range(0, order.size, block):
        idx = order[start:start + block]
        # the block's states and fields transposed, (k, B): unit j's column is a contiguous row
        Sb = np.ascontiguousarray(S[:, idx].T)
        Sb0 = Sb.copy()
        Hb = np.ascontiguousarray(H[:, idx].T)
        Wbb = W[np.ix_(idx, idx)]
        for j, unit in enumerate(idx):
            new = decide(Hb[j], Sb[j], int(unit))
            d = new - Sb[j]
            rows = np.flatnonzero(d)
            if rows.size == 0:
                continue
            Sb[j] = new
            if 4 * rows.size > B:  # many chains changed (sampling): one dense rank-1 update
                Hb += Wbb[:, j, None] * d
            else:  # few changed (deterministic descent near a fixed point): only those chains
                Hb[:, rows] += Wbb[:, j, None] * d[rows]
        dS = Sb - Sb0
        rows = np.flatnonzero(dS.any(axis=0))
        if rows.size == 0:
            continue
        S[rows[:, None], idx] = Sb[:, rows].T
        H[rows] += dS[:, rows].T @ W[idx]
    return S, H


def _dense_sweep(S, W, H, order, decide, block, xp):
    """:func:`sequential_sweep` with dense updates only (the same states and fields, no host sync)."""
    for start in range(0, order.size, block):
        host_idx = order[start:start + block]
        idx = xp.asarray(host_idx)
        Sb = xp.ascontiguousarray(S[:, idx].T)
        Sb0 = Sb.copy()
        Hb = xp.ascontiguousarray(H[:, idx].T)
        Wbb = W[idx][:, idx]
        for j, unit in enumerate(host_idx):
            new = decide(Hb[j], Sb[j], int(unit))
            Hb += Wbb[:, j, None] * (new - Sb[j])
            Sb[j] = new
        dS = Sb - Sb0
        S[:, idx] = Sb.T
        H += dS.T @ W[idx]
    return S, H


def gibbs_sweep(S, W, b, T: float, rng: np.random.Generator, order=None, H=None, block: int = 64):
    """One Gibbs sweep over binary {0, 1} units with symmetric ``W`` (zero diagonal), in place.

    Each visited unit is resampled from ``p_i = σ(ΔE_i / T)`` (drawn as
    ``u < σ(ΔE_i/T)``, evaluated as ``ΔE_i > T·logit(u)``) with the energy gap
    ``ΔE_i = b_i + Σ_j w_ij s_j`` (Hinton's stochastic neuron, lecture 001), one
    unit at a time (units are coupled) and vectorised over the B chains (rows of
    ``S``). ``order`` lists the units to visit (default: all, in a fresh random
    order; pass the hidden units only for a clamped phase). ``H`` (B, n), the
    fields ``S·W + b``, is reused when given. Returns ``(S, H)``.
    """
    if not (np.isfinite(T) and T > 0):  # host: a number
        raise ValueError(f"temperature T must be positive and finite, got {T}")
    n = W.shape[0]
    order = rng.permutation(n) if order is None else np.asarray(order)  # host: the visiting order
    if H is None:
        H = S @ W + b
    # u < σ(ΔE/T)  ⇔  ΔE > T·ln(u/(1−u)): the uniforms of the whole sweep become thresholds
    # in one vectorised call, and each unit's draw is a comparison (no σ per unit).
    xp = get_array_module(S)
    U = generator_for(rng, xp).random((order.size, S.shape[0]),
                                      dtype=S.dtype if S.dtype == np.float32 else np.float64)
    with np.errstate(divide="ignore"):
        Z = (T * (xp.log(U) - xp.log1p(-U))).astype(H.dtype, copy=False)
    pos = np.empty(n, dtype=np.int64)  # host: each unit's row of Z
    pos[order] = np.arange(order.size)  # host
    one = S.dtype.type(1)

    def decide(h, s, i):
        return (h > Z[pos[i]]) * one

    return sequential_sweep(S, W, H, order, decide, block=block)
