"""Annealed importance sampling of an RBM's partition function (Salakhutdinov & Murray, 2008).

The path runs from a base-rate model ``A`` (no weights, visible biases ``a_A``
fitted to the data's marginals, so ``Z_A`` is known) to the RBM ``B``::

    p*_β(v) = exp(−β_v(v) + ((1−β) a_A + β a)ᵀv) · Π_j exp A_h(β (b_j + vᵀW_j)),

``0 = β_0 < β_1 < … < β_K = 1`` (``A_h`` the hidden log-partition; for Bernoulli
hiddens ``Π_j (1 + e^{β(b_j + vᵀW_j)})``). Only the interaction and bias terms are
scaled, so the hidden units stay proper at every ``β`` for every unit type.
``M`` runs go in parallel: ``v_1 ~ p_A``, and for ``k = 1..K``
``log w += log p*_{β_k}(v_k) − log p*_{β_{k−1}}(v_k)``, then ``v_{k+1} ~ T_k(v_k)``
by one block Gibbs step at ``β_k`` (``h ~ P_β(h|v)``, ``v ~ P_β(v|h)``).

``Ẑ_B = Z_A · mean(w)``; the interval is ``log(Ẑ_B ± 3σ̂)`` with
``σ̂ = std(w)/√M`` (the paper's ±3 standard deviations).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import validation as V
from ..backend import asnumpy, get_array_module
from ..random import make_rng
from .annealing import linear_schedule
from .monitors import _is_dbm, free_energy64

__all__ = ["AISResult", "LogLikelihoodEstimate", "ais_betas", "ais_log_partition",
           "ais_log_likelihood"]

#: Salakhutdinov & Murray's schedule in spirit: (end of segment, step) pairs from β = 0.
DEFAULT_SEGMENTS = ((0.5, 1e-3), (0.9, 1e-4), (1.0, 1e-4))


@dataclass
class AISResult:
    """``log Z`` estimate with its ``±3σ`` interval and the raw log importance weights."""

    log_z: float
    log_z_low: float
    log_z_high: float
    log_z_base: float
    log_weights: np.ndarray
    n_betas: int

    def __repr__(self):
        return (f"AISResult(log_z={self.log_z:.4f}, 3σ interval=[{self.log_z_low:.4f}, "
                f"{self.log_z_high:.4f}], runs={len(self.log_weights)}, betas={self.n_betas})")


@dataclass
class LogLikelihoodEstimate:
    """Mean test log-likelihood ``mean(−F(x)) − log Ẑ`` in nats, with the AIS interval."""

    mean: float
    low: float
    high: float
    ais: AISResult

    def __repr__(self):
        return f"LogLikelihoodEstimate({self.mean:.3f} nats, 3σ [{self.low:.3f}, {self.high:.3f}])"


def ais_betas(segments=DEFAULT_SEGMENTS) -> np.ndarray:
    """Inverse temperatures ``β_0 = 0 < … < β_K = 1`` rising linearly within segments.

    ``segments``: ``(end, step)`` pairs, e.g. the default ``0→0.5`` by ``1e-3``,
    ``0.5→0.9`` by ``1e-4``, ``0.9→1`` by ``1e-4`` (5,500 intermediate distributions;
    the paper's 14,500 uses ``1e-5`` in the last segment).
    """
    betas, start = [np.zeros(1)], 0.0
    for end, step in segments:
        V.check_positive(step, "step")
        if not start < end <= 1.0:
            raise ValueError(f"AIS segments must rise from 0 to 1, got a segment {start} → {end}")
        n = max(1, int(round((end - start) / step)))
        # the shared linear schedule (it starts above 0: β_0 = 0 is prepended once)
        betas.append(linear_schedule(start + (end - start) / n, end, n))
        start = end
    if start != 1.0:
        raise ValueError(f"the last AIS segment must end at β = 1, got {start}")
    return np.concatenate(betas)


def ais_log_partition(rbm, data=None, base_visible_bias=None, n_runs: int = 100, betas=None,
                      rng=None, seed=None, dtype=np.float64) -> AISResult:
    """Estimate ``log Z`` of ``rbm`` by AIS from the base-rate model (a DBM goes to
    :func:`neuronet.energy.dbm_ais.dbm_ais_log_partition`: odd layers summed out).

    ``base_visible_bias``: ``a_A`` (default: fitted to ``data`` by the visible units'
    ``init_bias``, i.e. ``log(p/(1−p))`` for Bernoulli units; zeros without data).
    ``n_runs`` parallel runs, ``betas`` from :func:`ais_betas`. Work in ``dtype``
    (float64 keeps the summed log-weights accurate).
    """
    if _is_dbm(rbm):
        from .dbm_ais import dbm_ais_log_partition
        return dbm_ais_log_partition(rbm, data, base_visible_bias, n_runs, betas, rng, seed, dtype)
    V.check_int(n_runs, "n_runs", minimum=2)
    rng = make_rng(rng, seed)
    betas = check_betas(betas)
    xp = get_array_module(rbm.W.data)  # the runs go on the model's device
    W = rbm.W.data.astype(dtype)
    a = rbm.a.data.astype(dtype)
    b = rbm.b.data.astype(dtype)
    if base_visible_bias is None:
        base_visible_bias = (rbm.visible.init_bias(rbm._check_data(data).astype(dtype))
                             if data is not None else xp.zeros_like(a))
    a_A = V.as_float_array(base_visible_bias, dtype, "base_visible_bias", like=a)
    V.check_features(a_A[None], rbm.n_visible, name="base_visible_bias", what="visible units")
    vis, hid = rbm.visible, rbm.hidden
    log_z_base = float(vis.log_partition(a_A[None])[0] + hid.log_partition(xp.zeros((1, rbm.n_hidden), dtype))[0])
    d = a - a_A

    v = vis.sample(vis.mean(xp.repeat(a_A[None], n_runs, axis=0)), rng)
    x = xp.empty((n_runs, rbm.n_hidden), dtype)
    xin = xp.empty((n_runs, rbm.n_visible), dtype)
    log_w = xp.zeros(n_runs)
    for k in range(1, len(betas)):
        bk, bprev = betas[k], betas[k - 1]
        xp.matmul(v, W, out=x)
        x += b
        # log p*_k(v) − log p*_{k−1}(v): the bias part is (β_k − β_{k−1}) (a − a_A)ᵀv
        log_w += (bk - bprev) * (v @ d) + hid.log_partition(bk * x) - hid.log_partition(bprev * x)
        if k < len(betas) - 1:
            x *= bk
            h = hid.sample(hid.mean(x, out=x), rng, out=x)
            # visible input (1 − β_k) a_A + β_k (a + W h)
            xp.matmul(h, W.T, out=xin)
            xin *= bk
            xin += (1.0 - bk) * a_A + bk * a
            v = vis.sample(vis.mean(xin, out=xin), rng, out=v if v.dtype == dtype else None)
    return ais_result(log_w, log_z_base, len(betas))


def check_betas(betas) -> np.ndarray:
    """``betas`` as float64, checked to rise strictly from 0 to 1 (default :func:`ais_betas`)."""
    betas = ais_betas() if betas is None else np.asarray(betas, dtype=np.float64)
    if betas.ndim != 1 or len(betas) < 2 or betas[0] != 0 or betas[-1] != 1 or np.any(np.diff(betas) <= 0):
        raise ValueError("betas must rise strictly from 0 to 1")
    return betas


def ais_result(log_w, log_z_base: float, n_betas: int) -> AISResult:
    """``log Ẑ = log Z_A + log mean(w)`` and ``log(Ẑ ± 3σ̂)``, ``σ̂ = std(w)/√M``, from the log-weights
    (taken to the host here, once, at the end of the runs)."""
    log_w = asnumpy(log_w)
    top = float(log_w.max())
    w = np.exp(log_w - top)
    mean, sd = float(w.mean()), float(w.std()) / math.sqrt(len(w))
    log_z = log_z_base + top + math.log(mean)
    low = log_z_base + top + math.log(mean - 3 * sd) if mean > 3 * sd else -math.inf
    high = log_z_base + top + math.log(mean + 3 * sd)
    return AISResult(log_z, low, high, log_z_base, log_w, n_betas)


def ais_log_likelihood(rbm, X, data=None, result: AISResult | None = None, **kwargs) -> LogLikelihoodEstimate:
    """Mean log-likelihood of the rows of ``X``: ``mean(−F(x)) − log Ẑ`` (nats); for a DBM the
    mean-field lower bound ``mean(−E(x, q) + H(q)) − log Ẑ`` (the paper's test figure).

    ``data`` (training data) sets the base-rate model; a finished ``result``
    is reused instead of running AIS again. Other keywords go to
    :func:`ais_log_partition`. The interval follows ``log Ẑ``'s ``±3σ``.
    """
    X = rbm._check_data(X)
    if result is None:
        result = ais_log_partition(rbm, data=data, **kwargs)
    # a DBM has no free energy in closed form: its mean-field bound stands in (a lower bound)
    neg_f = rbm.log_likelihood_bound(X, 0.0) if _is_dbm(rbm) else -float(free_energy64(rbm, X).mean())
    return LogLikelihoodEstimate(neg_f - result.log_z, neg_f - result.log_z_high,
                                 neg_f - result.log_z_low, result)
