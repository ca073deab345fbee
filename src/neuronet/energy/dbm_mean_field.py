"""Mean-field inference in a DBM and the variational lower bound (Salakhutdinov & Hinton 2009, §2.2).

``Q(h; q) = Π_l Π_j q_lj^{h_lj} (1 − q_lj)^{1 − h_lj}`` approximates ``P(h | v)``. Since
``E`` is linear in each layer, ``E_Q[E(v, h)] = E(v, q¹, …, qᴸ)`` and::

    log P(v) ≥ −E(v, q) + Σ_l H(q_l) − log Z,   H(q) = −Σ_j [q_j log q_j + (1 − q_j) log(1 − q_j)].

Setting its derivative in ``q_l`` to zero gives the fixed-point equations::

    q_l = σ(b_l + q_{l−1} W_l + q_{l+1} W_{l+1}ᵀ)      (q_0 = v; softmax for free labels)

Each sweep updates the odd layers, then the even ones (a layer's equation involves
only the other parity, so each half-sweep maximises the bound exactly over its
layers: the bound never falls). The start is the bottom-up pass with the weights
from below doubled (:mod:`.dbm`). The input from clamped layers (``v``, and ``y``
when given) does not change between sweeps and is computed once.
"""
from __future__ import annotations

import numpy as np

from .. import validation as V
from ..backend import get_array_module

__all__ = ["mean_field", "log_likelihood_bound"]


def mean_field(dbm, v, y=None, steps: int = 10, tol: float = 1e-7, check: bool = True) -> list:
    """``[q¹, …, qᴸ]`` (``+ [q_y]``; ``y``'s one-hot rows when the labels are clamped).

    At most ``steps`` odd/even sweeps, stopping once no mean moves by more than
    ``tol`` (``dbm.mean_field_steps_`` is the number used; ``steps=0`` returns the start).
    On a GPU all ``steps`` sweeps run: the stopping rule would copy each sweep's change
    to the host, and more sweeps only bring the means closer to the fixed point.
    ``check=False``: ``v`` (and ``y``, one-hot) are taken as checked (a training step's rows:
    the range checks would copy to the host).
    """
    V.check_int(steps, "steps", minimum=0)
    V.check_positive(tol, "tol", allow_zero=True)
    v = dbm._check_data(v, "v") if check else v
    q = [v] + [None] * (dbm.n_chain - 1)
    if y is not None:
        q[-1] = dbm._check_labels(y, len(v)) if check else y
    free = [i for i in range(1, dbm.n_chain) if q[i] is None]
    const = {i: _clamped_input(dbm, i, q) for i in free}
    for i in free:  # the bottom-up start: doubled input from below under the top layer
        q[i] = dbm.conditional_mean(i, q, below=2.0 if i < dbm.n_layers else 1.0)
    moving = [s if i in free else None for i, s in enumerate(q)]
    xp = get_array_module(v)
    stop_early = xp is np
    dbm.mean_field_steps_ = 0
    for step in range(steps):
        change = 0.0
        for parity in (1, 0):
            for i in (j for j in free if j % 2 == parity):
                x = dbm.layer_input(i, moving, bias=False)
                x += const[i]
                new = dbm.units[i].mean(x, out=x)
                if stop_early:
                    change = max(change, float(xp.abs(new - q[i]).max()))
                q[i] = moving[i] = new
        dbm.mean_field_steps_ = step + 1
        if stop_early and change <= tol:
            break
    return q[1:]


def _clamped_input(dbm, i, q):
    """``b_i`` plus the input from clamped neighbours (fixed through the sweeps)."""
    if (i > 0 and q[i - 1] is not None) or (i + 1 < dbm.n_chain and q[i + 1] is not None):
        return dbm.layer_input(i, q)
    return dbm.biases[i].data


def log_likelihood_bound(dbm, X, log_z: float, y=None, steps: int = 30, tol: float = 1e-6,
                         per_case: bool = False):
    """Mean over rows of ``−E(v, q) + Σ_l H(q_l) − log Z`` (nats), ``q`` from :func:`mean_field`.

    ``log_z`` exact (:func:`~neuronet.energy.log_partition`) or estimated
    (:func:`~neuronet.energy.ais_log_partition`); ``per_case`` returns every row's value.
    """
    X = dbm._check_data(X)
    q = mean_field(dbm, X, y=y, steps=steps, tol=tol)
    x64 = [X.astype(np.float64)] + [s.astype(np.float64) for s in q]
    value = -dbm.energy(*x64)
    for i, s in enumerate(x64[1:], start=1):
        value = value + dbm.units[i].entropy(s)
    value = value - float(log_z)
    return value if per_case else float(value.mean())
