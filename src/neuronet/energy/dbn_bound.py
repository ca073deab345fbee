"""The variational bound behind greedy DBN training (Hinton, Osindero & Teh 2006, §4),
computed exactly for a two-RBM stack small enough to enumerate.

With the first RBM's posterior ``Q(h|v) = P₁(h|v)`` as the approximation::

    log p(v) ≥ Σ_h Q(h|v) [log p₂(h) + log P₁(v|h)] − Σ_h Q(h|v) log Q(h|v)

where ``p₂(h) = e^{−F₂(h)} / Z₂`` is the second RBM's marginal of its visible
layer. When the second RBM is the first turned over (``W₂ = W₁ᵀ``, ``a₂ = b₁``,
``b₂ = a₁``), ``p₂`` is the first RBM's own marginal of ``h``, ``Q`` is its exact
posterior, and the bound equals ``log p₁(v)``. Only ``p₂`` depends on the second
RBM, so fitting it to samples of ``Q`` over the data raises the bound.
"""
from __future__ import annotations

import numpy as np

from ..backend import asnumpy
from .monitors import free_energy64, log_partition

__all__ = ["greedy_bound"]

_MAX_HIDDEN = 20


def _log_conditional(units, S, X):
    """``log P(s | x) = s·x − β(s) − A(x)`` for every row of ``S`` against every row
    of the total inputs ``X``: shape ``(len(X), len(S))``."""
    return S @ X.T - units.base_energy(S)[:, None] - units.log_partition(X)[None, :]


def greedy_bound(dbn, X) -> float:
    """The mean over the rows of ``X`` of the bound above (float64, exact); see the module."""
    if len(dbn.rbms) != 2 or dbn.n_labels:
        raise ValueError(f"the exact greedy bound needs a stack of exactly two RBMs without labels, "
                         f"this DBN has sizes {dbn.sizes} and n_labels={dbn.n_labels}")
    r1, r2 = dbn.rbms
    if not r1.hidden.discrete or r1.n_hidden > _MAX_HIDDEN:
        raise ValueError(f"the bound enumerates the first hidden layer: it needs at most {_MAX_HIDDEN} "
                         f"discrete units, got {r1.n_hidden} {r1.hidden.name} units")
    X = asnumpy(dbn._check_X(X)).astype(np.float64)  # an oracle on the host (small models)
    W1, a1, b1 = (asnumpy(p.data).astype(np.float64) for p in (r1.W, r1.a, r1.b))
    H = r1.hidden.states(r1.n_hidden, 0, r1.hidden.n_states(r1.n_hidden))  # (S, m)
    log_q = _log_conditional(r1.hidden, H, X @ W1 + b1).T                  # (N, S): log Q(h|v)
    log_pv = _log_conditional(r1.visible, X, H @ W1.T + a1)                # (N, S): log P₁(v|h)
    log_p2 = -asnumpy(free_energy64(r2, H)) - log_partition(r2)            # (S,):   log p₂(h)
    q = np.exp(log_q)
    return float((q * (log_p2[None, :] + log_pv - log_q)).sum(axis=1).mean())
