"""Monitors of RBM training (Hinton's practical guide, §5–6) and exact likelihoods.

* :func:`reconstruction_error`: ``mean_n ‖x_n − E[v | E[h | x_n]]‖²``; cheap, but not
  the objective.
* :func:`free_energy_gap`: ``mean F(validation) − mean F(training subset)``; it
  grows when the model starts to overfit (``Z`` cancels).
* :func:`pseudo_likelihood`: ``n · log σ(F(ṽ) − F(v))`` with ``ṽ`` = ``v`` with one
  random unit flipped, scikit-learn's ``BernoulliRBM.score_samples`` estimator.
* :func:`log_partition`, :func:`exact_log_likelihood`, :func:`exact_gradient`: exact
  values by enumerating the smaller discrete layer (``2^m`` states, chunked and
  vectorised), or the closed form for a Gaussian–Gaussian RBM.
* :class:`ValidationStopping`: stop training when a monitored value stops improving.
"""
from __future__ import annotations

import math

import numpy as np

from .. import validation as V
from ..backend import asnumpy, get_array_module
from ..random import make_rng
from ..train.callbacks import EarlyStopping

__all__ = ["reconstruction_error", "free_energy_gap", "pseudo_likelihood", "log_partition",
           "exact_log_likelihood", "exact_gradient", "classify_by_free_energy", "ValidationStopping"]

_MAX_STATES = 2 ** 25


def reconstruction_error(rbm, X) -> float:
    """``mean_n ‖x_n − E[v | h = E[h | x_n]]‖²`` (sum over visible units, mean over rows)."""
    return rbm.reconstruction_error(X)


def free_energy_gap(rbm, X_train, X_val, n: int | None = 1000) -> float:
    """``mean F(X_val) − mean F(X_train)`` over the first ``n`` rows of each.

    Positive and growing: the model assigns the training data more probability
    than held-out data, i.e. it overfits (Hinton's guide §6).
    """
    sl = slice(None) if n is None else slice(0, n)
    return float(rbm.free_energy(X_val[sl]).mean() - rbm.free_energy(X_train[sl]).mean())


def pseudo_likelihood(rbm, X, rng=None, seed=None, index=None):
    """Stochastic log pseudo-likelihood of each row: ``n · log σ(F(ṽ) − F(v))``.

    ``ṽ`` is ``v`` with one unit ``i`` (uniform per row) set to ``1 − v_i``:
    ``log P(v_i | v_{−i}) = −log(1 + e^{F(v) − F(ṽ)})``, times the number of units
    (scikit-learn's ``BernoulliRBM.score_samples``). Bernoulli visibles only.
    ``index`` (one unit per row) fixes the flipped units instead of drawing them.
    """
    if rbm.visible.name != "bernoulli":
        raise ValueError(f"pseudo-likelihood is defined here for Bernoulli visibles, "
                         f"the model has {rbm.visible.name} visibles")
    rng = make_rng(rng, seed)
    X = rbm._check_data(X)
    xp = get_array_module(X)
    flipped = X.copy()
    rows = xp.arange(len(X))
    cols = rng.integers(0, X.shape[1], len(X)) if index is None else np.asarray(index)  # host
    cols = xp.asarray(cols)
    flipped[rows, cols] = 1 - flipped[rows, cols]
    d = rbm.free_energy(flipped).astype(np.float64) - rbm.free_energy(X).astype(np.float64)
    # log σ(d) = −softplus(−d)
    return -X.shape[1] * (xp.maximum(-d, 0) + xp.log1p(xp.exp(-xp.abs(d))))


def classify_by_free_energy(rbm, X, n_classes: int, return_scores: bool = False):
    """Labels of the rows of ``X`` for an RBM whose last ``n_classes`` visible units
    are a softmax label group: ``ŷ = argmin_y F([x, e_y])`` (``P(y | x) ∝ e^{−F([x, e_y])}``).

    With ``return_scores`` also returns ``log P(y | x)``, shape ``(N, n_classes)``.
    """
    V.check_int(n_classes, "n_classes", minimum=2)
    xp = get_array_module(rbm.W.data)
    X = xp.asarray(X)
    V.check_features(X, rbm.n_visible - n_classes, name="X", what="non-label visible units")
    N = len(X)
    full = xp.zeros((N * n_classes, rbm.n_visible), dtype=rbm.dtype)
    full[:, :-n_classes] = xp.repeat(X, n_classes, axis=0)
    full[xp.arange(N * n_classes), rbm.n_visible - n_classes + xp.tile(xp.arange(n_classes), N)] = 1
    scores = -free_energy64(rbm, full).reshape(N, n_classes)
    pred = scores.argmax(axis=1)
    if not return_scores:
        return pred
    if xp is np:
        return pred, scores - np.logaddexp.reduce(scores, axis=1, keepdims=True)  # host: NumPy's branch
    top = scores.max(axis=1, keepdims=True)  # CuPy's logaddexp has no reduce
    return pred, scores - (top + xp.log(xp.exp(scores - top).sum(axis=1, keepdims=True)))


# ---------------------------------------------------------------- enumeration
def _is_dbm(model) -> bool:
    from .dbm import DBM  # here, not at the top: dbm_exact imports this module
    return isinstance(model, DBM)


def _params64(rbm):
    """The parameters in float64 on the host: enumeration is an oracle for small models."""
    return (asnumpy(rbm.W.data).astype(np.float64), asnumpy(rbm.a.data).astype(np.float64),
            asnumpy(rbm.b.data).astype(np.float64))


def _enumerated_layer(rbm, max_states):
    """Which layer to sum over: the discrete one with fewer joint states."""
    options = []
    if rbm.hidden.discrete:
        options.append((rbm.hidden.n_states(rbm.n_hidden), "hidden"))
    if rbm.visible.discrete:
        options.append((rbm.visible.n_states(rbm.n_visible), "visible"))
    if not options:
        raise ValueError(f"exact values need a discrete layer to enumerate; a {rbm.visible.name}–"
                         f"{rbm.hidden.name} RBM has none (Gaussian–Gaussian has a closed form)")
    n_states, layer = min(options)
    if n_states > max_states:
        raise ValueError(f"exact enumeration of the {layer} layer needs {n_states} states, more "
                         f"than max_states={max_states}; use AIS (neuronet.energy.ais_log_partition)")
    return layer, n_states


def _chunks(units, n, n_states, width):
    step = max(256, min(n_states, (1 << 22) // max(width, 1)))
    for start in range(0, n_states, step):
        yield units.states(n, start, min(n_states, start + step))


def _log_unnormalised(rbm, layer, S, W, a, b):
    """``log Σ_other e^{−E}`` for each enumerated state row of ``S`` (float64)."""
    if layer == "hidden":  # −β_h(h) + hᵀb + A_v(a + Wh)
        return -rbm.hidden.base_energy(S) + S @ b + rbm.visible.log_partition(S @ W.T + a)
    return -rbm.visible.base_energy(S) + S @ a + rbm.hidden.log_partition(S @ W + b)


def _gaussian_gaussian(rbm):
    """Joint precision ``P = [[I, −W], [−Wᵀ, I]]`` and linear term ``c = [a; b]``."""
    W, a, b = _params64(rbm)
    n, m = W.shape
    P = np.eye(n + m)
    P[:n, n:] = -W
    P[n:, :n] = -W.T
    sign, logdet = np.linalg.slogdet(P)
    if sign <= 0 or np.linalg.eigvalsh(P).min() <= 0:
        raise ValueError("a Gaussian–Gaussian RBM is normalisable only while the largest singular "
                         f"value of W is below 1; it is {np.linalg.norm(W, 2):.4g}")
    c = np.concatenate([a, b])
    return P, c, logdet


def log_partition(rbm, max_states: int = _MAX_STATES) -> float:
    """Exact ``log Z`` (float64) of an RBM or, by :mod:`.dbm_exact`, of a :class:`~neuronet.energy.DBM`.

    Enumerating hiddens: ``Z = Σ_h exp(−β_h(h) + hᵀb + A_v(a + Wh))``; visibles:
    ``Z = Σ_v e^{−F(v)}``; Gaussian–Gaussian: ``log Z = ½(n+m) log 2π − ½ log det P
    + ½ cᵀP⁻¹c`` with ``P = [[I, −W], [−Wᵀ, I]]``, ``c = [a; b]``.
    """
    if _is_dbm(rbm):
        from .dbm_exact import log_partition as dbm_log_partition
        return dbm_log_partition(rbm, max_states)
    if rbm.visible.name == "gaussian" and rbm.hidden.name == "gaussian":
        P, c, logdet = _gaussian_gaussian(rbm)
        return float(0.5 * len(c) * math.log(2 * math.pi) - 0.5 * logdet + 0.5 * c @ np.linalg.solve(P, c))
    layer, n_states = _enumerated_layer(rbm, max_states)
    W, a, b = _params64(rbm)
    units, n = (rbm.hidden, rbm.n_hidden) if layer == "hidden" else (rbm.visible, rbm.n_visible)
    width = rbm.n_visible if layer == "hidden" else rbm.n_hidden
    return running_logsumexp(_log_unnormalised(rbm, layer, S, W, a, b)
                             for S in _chunks(units, n, n_states, width))


def running_logsumexp(chunks) -> float:
    """``log Σ exp(x)`` over all entries of the arrays ``chunks`` (an iterable), one chunk at a
    time, without overflow: an enumeration never holds all its states at once."""
    top, acc = -np.inf, 0.0
    for lu in chunks:
        m = float(np.max(lu))
        if m > top:
            acc *= math.exp(top - m) if np.isfinite(top) else 0.0
            top = m
        acc += float(np.exp(lu - top).sum())
    return float(top + math.log(acc))


def exact_log_likelihood(rbm, X, log_z: float | None = None, max_states: int = _MAX_STATES) -> float:
    """Mean exact log-likelihood ``mean_n(−F(x_n)) − log Z`` (nats per case); for a DBM
    ``mean_n log Σ_h e^{−E(x_n, h)} − log Z`` (:mod:`.dbm_exact`)."""
    if _is_dbm(rbm):
        from .dbm_exact import exact_log_likelihood as dbm_exact_log_likelihood
        return dbm_exact_log_likelihood(rbm, X, log_z, max_states)
    X = rbm._check_data(X)
    if log_z is None:
        log_z = log_partition(rbm, max_states)
    return float(-free_energy64(rbm, X).mean() - log_z)


def free_energy64(rbm, X):
    """``F(x)`` of each row in float64 (likelihoods are differences of large sums)."""
    W, a, b = (p.data.astype(np.float64) for p in (rbm.W, rbm.a, rbm.b))
    X64 = get_array_module(W).asarray(X, dtype=np.float64)
    return rbm.visible.base_energy(X64) - X64 @ a - rbm.hidden.log_partition(X64 @ W + b)


def exact_gradient(rbm, X, max_states: int = _MAX_STATES) -> dict:
    """Exact gradient of the negative mean log-likelihood, ``{'W', 'a', 'b'}`` (float64).

    ``∂/∂W = −(M[v hᵀ]_data − M[v hᵀ]_model)`` with ``M[·]_data`` over the rows of
    ``X`` and ``h`` replaced by ``E[h | v]``; the model term by enumeration (or
    the Gaussian–Gaussian closed form: mean ``μ = P⁻¹c``, covariance ``P⁻¹``).
    These are the values a CD/PCD update writes into ``Parameter.grad``, in expectation
    as the chain length grows.
    """
    X = asnumpy(rbm._check_data(X)).astype(np.float64)
    W, a, b = _params64(rbm)
    H = rbm.hidden.mean(X @ W + b)
    data_vh, data_v, data_h = X.T @ H / len(X), X.mean(0), H.mean(0)
    if rbm.visible.name == "gaussian" and rbm.hidden.name == "gaussian":
        P, c, _ = _gaussian_gaussian(rbm)
        cov = np.linalg.inv(P)
        mu = cov @ c
        n = rbm.n_visible
        model_vh = cov[:n, n:] + np.outer(mu[:n], mu[n:])
        model_v, model_h = mu[:n], mu[n:]
    else:
        layer, n_states = _enumerated_layer(rbm, max_states)
        log_z = log_partition(rbm, max_states)
        units, n = (rbm.hidden, rbm.n_hidden) if layer == "hidden" else (rbm.visible, rbm.n_visible)
        width = rbm.n_visible if layer == "hidden" else rbm.n_hidden
        model_vh = np.zeros_like(W)
        model_v, model_h = np.zeros_like(a), np.zeros_like(b)
        for S in _chunks(units, n, n_states, width):
            p = np.exp(_log_unnormalised(rbm, layer, S, W, a, b) - log_z)
            if layer == "hidden":
                Vm, Hm = rbm.visible.mean(S @ W.T + a), S
            else:
                Vm, Hm = S, rbm.hidden.mean(S @ W + b)
            model_vh += (Vm * p[:, None]).T @ Hm
            model_v += p @ Vm
            model_h += p @ Hm
    return {"W": -(data_vh - model_vh), "a": -(data_v - model_v), "b": -(data_h - model_h)}


# ------------------------------------------------------------------ stopping
class ValidationStopping(EarlyStopping):
    """Stop RBM training when the validation reconstruction error stops falling.

    The lecture's stopping rule (cross-validation of reconstructions): the
    training loop's :class:`~neuronet.train.EarlyStopping` with ``monitor``
    defaulting to ``'val_recon_error'`` (``'free_energy_gap'`` or any key of the
    epoch record works too), ``patience`` epochs without improvement, and the
    best weights put back at the end. ``rbm.fit(X, validation=Xv,
    callbacks=[ValidationStopping()])``.
    """

    def __init__(self, monitor: str = "val_recon_error", patience: int = 3, min_delta: float = 0.0,
                 mode: str = "min", restore_best: bool = True):
        super().__init__(monitor=monitor, patience=patience, min_delta=min_delta, mode=mode,
                         restore_best=restore_best)
