"""Annealed importance sampling of a DBM's partition function (Salakhutdinov & Hinton 2009, §4;
Salakhutdinov & Murray 2008).

The odd layers are summed out analytically (:mod:`.dbm_exact`), so AIS runs on the
even layers ``x = (v, h², …)`` alone, along the path::

    p*_β(x) = Σ_{odd} e^{−E_β(s)},   E_β: weights β W, biases b(β) = (1 − β) b_A + β b,

from the base-rate model ``A`` at ``β = 0`` (no weights; visible biases ``b_A`` fitted to
the data's marginals, the rest zero, so ``log Z_A = Σ_i A_i(b_A,i)`` is known) to the DBM
at ``β = 1``. For ``M`` parallel runs, ``x_1 ~ p_A`` and for ``k = 1..K``::

    log w += log p*_{β_k}(x_k) − log p*_{β_{k−1}}(x_k)
           = (β_k − β_{k−1}) Σ_{even i} (b_i − b_A,i)ᵀ x_i
             + Σ_{odd j} [A_j(b_j(β_k) + β_k u_j) − A_j(b_j(β_{k−1}) + β_{k−1} u_j)]

with ``u_j = x_{j−1} W_j + x_{j+1} W_{j+1}ᵀ``; then ``x_{k+1} ~ T_k(x_k)``: the odd layers
drawn given ``x`` at ``β_k`` (from the same ``u``), the even layers given those. One
pass of products per temperature serves the weight and the transition.
``Ẑ = Z_A · mean(w)`` with the ``±3σ`` interval of :class:`~neuronet.energy.ais.AISResult`.
"""
from __future__ import annotations

import numpy as np

from .. import validation as V
from ..backend import asnumpy
from ..random import make_rng
from .ais import AISResult, ais_result, check_betas
from .dbm_exact import summed_inputs

__all__ = ["dbm_ais_log_partition"]


def _base_biases(dbm, data, base_visible_bias, dtype):
    if base_visible_bias is None:
        a = dbm.units[0].init_bias(asnumpy(dbm._check_data(data)).astype(dtype)) if data is not None \
            else np.zeros(dbm.sizes[0], dtype)
    else:
        a = np.asarray(base_visible_bias, dtype=dtype)
        V.check_features(a[None], dbm.sizes[0], name="base_visible_bias", what="visible units")
    return [a] + [np.zeros(n, dtype) for n in dbm.widths[1:]]


def dbm_ais_log_partition(dbm, data=None, base_visible_bias=None, n_runs: int = 100, betas=None,
                          rng=None, seed=None, dtype=np.float64) -> AISResult:
    """Estimate ``log Z`` of ``dbm`` by AIS with the odd layers summed out.

    ``data`` fits the base-rate visible biases (``log(p/(1−p))``), or give
    ``base_visible_bias``; ``n_runs`` parallel runs; ``betas`` from :func:`ais_betas`.
    The matrix products run in ``dtype`` (float32 halves their time); the inputs ``u`` are
    then taken to float64, so each weight ``A(b(β_k) + β_k u) − A(b(β_{k−1}) + β_{k−1} u)``
    is a difference of float64 sums over the same ``u``, and the log-weights add up in float64.
    """
    V.check_int(n_runs, "n_runs", minimum=2)
    rng = make_rng(rng, seed)
    betas = check_betas(betas)
    W = [asnumpy(w.data).astype(dtype) for w in dbm.weights]
    b = [asnumpy(x.data).astype(np.float64) for x in dbm.biases]
    base = _base_biases(dbm, data, base_visible_bias, np.float64)
    units, n = dbm.units, dbm.n_chain
    log_z_base = float(sum(u.log_partition(a[None])[0] for u, a in zip(units, base)))
    S = [units[i].sample(units[i].mean(np.repeat(base[i][None], n_runs, axis=0)), rng).astype(dtype)
         if i % 2 == 0 else None for i in range(n)]
    diff = [b[i] - base[i] for i in range(n)]
    log_w = np.zeros(n_runs)
    for k in range(1, len(betas)):
        bk, bp = float(betas[k]), float(betas[k - 1])
        u = {j: x.astype(np.float64) for j, x in summed_inputs(W, S, 0).items()}
        for i in range(0, n, 2):
            log_w += (bk - bp) * (S[i] @ diff[i])
        for j, x in u.items():
            log_w += units[j].log_partition(base[j] + bk * (diff[j] + x)) \
                - units[j].log_partition(base[j] + bp * (diff[j] + x))
        if k < len(betas) - 1:
            _transition(units, W, base, diff, S, u, bk, rng)
    return ais_result(log_w, log_z_base, len(betas))


def _transition(units, W, base, diff, S, u, beta, rng):
    """One Gibbs step at ``β``: odd layers given the even ones (inputs ``u``), then the even."""
    dtype = W[0].dtype
    for j, x in u.items():
        m = units[j].mean((base[j] + beta * (diff[j] + x)).astype(dtype))
        S[j] = units[j].sample(m, rng, out=m)
    for i, x in summed_inputs(W, S, 1).items():
        m = units[i].mean((base[i] + beta * (diff[i] + x)).astype(dtype))
        S[i] = units[i].sample(m, rng, out=m)

