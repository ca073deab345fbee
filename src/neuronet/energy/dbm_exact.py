"""Exact values of a small DBM by summing one parity class out and enumerating the other.

Given the layers of one parity ``p`` (``s_i`` with ``i ≡ p mod 2``), the layers of
the other parity are independent, so they are summed out in closed form::

    log Σ_{s_j, j ≢ p} e^{−E_β(s)} = Σ_{i ≡ p} [b_i(β)ᵀ s_i − β_i(s_i)]
                                    + Σ_{j ≢ p} A_j(b_j(β) + β (s_{j−1} W_j + s_{j+1} W_{j+1}ᵀ))

with ``A_j`` the units' log-partition (``Σ log(1 + eˣ)`` for binary units, ``log Σ eˣ``
for the labels) and ``b(β) = (1 − β) b_A + β b`` (the AIS path of :mod:`.dbm_ais`;
``β = 1`` is the model). ``log Z`` enumerates whichever parity class has fewer
joint states; ``log Σ_h e^{−E(v, h)}`` keeps ``v`` and enumerates the even hidden
layers (the odd ones summed out), so a 784-500-1000 model is out of reach while a
6-4-3 or 5-4-3-2 one takes milliseconds.
"""
from __future__ import annotations

import numpy as np

from ..backend import asnumpy
from .monitors import _MAX_STATES, running_logsumexp

__all__ = ["params64", "summed_inputs", "log_marginal", "log_partition", "log_unnormalised",
           "exact_log_likelihood"]


def params64(dbm):
    """``(weights, biases)`` of ``dbm`` as float64 NumPy arrays along the chain (enumeration
    runs on the host)."""
    return ([asnumpy(w.data).astype(np.float64) for w in dbm.weights],
            [asnumpy(b.data).astype(np.float64) for b in dbm.biases])


def summed_inputs(weights, states, parity: int) -> dict:
    """``{j: s_{j−1} W_j + s_{j+1} W_{j+1}ᵀ}`` for every layer ``j`` of the parity other than
    ``parity`` (the weighted input from its neighbours, biases not included)."""
    n = len(weights) + 1
    out = {}
    for j in range(1 - parity, n, 2):
        x = states[j - 1] @ weights[j - 1] if j > 0 else None
        if j < n - 1:
            t = states[j + 1] @ weights[j].T
            x = t if x is None else x + t
        out[j] = x
    return out


def log_marginal(units, weights, biases, states, parity: int, beta: float = 1.0, base=None):
    """``log Σ_{other parity} e^{−E_β(s)}`` for each row of the layers of ``parity`` in ``states``
    (a list along the chain; the other entries are ignored). ``base``: the biases ``b_A``
    of the path's start (``β = 1`` needs none)."""
    inputs = summed_inputs(weights, states, parity)
    out = 0
    for i, (u, b) in enumerate(zip(units, biases)):
        bias = b if base is None else (1.0 - beta) * base[i] + beta * b
        if i % 2 == parity:
            out = out + states[i] @ bias - u.base_energy(states[i])
        else:
            out = out + u.log_partition(bias + beta * inputs[i])
    return out


def _n_states(dbm, layers) -> int:
    n = 1
    for i in layers:
        n *= dbm.units[i].n_states(dbm.widths[i])
    return n


def _group_states(dbm, layers, start: int, stop: int) -> dict:
    """Joint states ``start .. stop−1`` of ``layers`` (mixed radix, the first layer fastest)."""
    idx = np.arange(start, stop, dtype=np.int64)
    out = {}
    for i in layers:
        k = dbm.units[i].n_states(dbm.widths[i])
        out[i] = dbm.units[i].state_rows(dbm.widths[i], idx % k)
        idx = idx // k
    return out


def _check_size(n_states: int, max_states: int, what: str):
    if n_states > max_states:
        raise ValueError(f"exact enumeration of {what} needs {n_states} states, more than "
                         f"max_states={max_states}; use AIS (neuronet.energy.ais_log_partition)")


def log_partition(dbm, max_states: int = _MAX_STATES) -> float:
    """Exact ``log Z`` (float64): enumerate the parity class with fewer joint states."""
    weights, biases = params64(dbm)
    groups = {p: list(range(p, dbm.n_chain, 2)) for p in (0, 1)}
    parity = min((0, 1), key=lambda p: _n_states(dbm, groups[p]))
    n = _n_states(dbm, groups[parity])
    _check_size(n, max_states, f"the {'even' if parity == 0 else 'odd'} layers")
    step = max(256, min(n, (1 << 22) // max(sum(dbm.widths), 1)))

    def chunks():
        for start in range(0, n, step):
            S = _group_states(dbm, groups[parity], start, min(n, start + step))
            yield log_marginal(dbm.units, weights, biases, [S.get(i) for i in range(dbm.n_chain)], parity)

    return running_logsumexp(chunks())


def log_unnormalised(dbm, X, max_states: int = _MAX_STATES):
    """``log Σ_h e^{−E(x, h)}`` for each row of ``X`` (float64): the even hidden layers enumerated,
    the odd layers (and the labels, as hidden units) summed out."""
    X = asnumpy(dbm._check_data(X)).astype(np.float64)
    weights, biases = params64(dbm)
    layers = list(range(2, dbm.n_chain, 2))
    n = _n_states(dbm, layers)
    _check_size(n, max_states, "the even hidden layers")
    N = len(X)
    step = max(1, min(n, (1 << 20) // max(N * sum(dbm.widths), 1)))
    total = np.full(N, -np.inf)
    for start in range(0, n, step):
        S = _group_states(dbm, layers, start, min(n, start + step))
        k = min(n, start + step) - start
        rows = [np.repeat(X, k, axis=0)] + [None] * (dbm.n_chain - 1)
        for i, s in S.items():
            rows[i] = np.tile(s, (N, 1))
        lu = log_marginal(dbm.units, weights, biases, rows, 0).reshape(N, k)
        top = lu.max(axis=1, keepdims=True)
        total = np.logaddexp(total, top[:, 0] + np.log(np.exp(lu - top).sum(axis=1)))
    return total


def exact_log_likelihood(dbm, X, log_z: float | None = None, max_states: int = _MAX_STATES) -> float:
    """Mean exact ``log P(x) = log Σ_h e^{−E(x, h)} − log Z`` over the rows of ``X`` (nats)."""
    if log_z is None:
        log_z = log_partition(dbm, max_states)
    return float(log_unnormalised(dbm, X, max_states).mean() - log_z)
