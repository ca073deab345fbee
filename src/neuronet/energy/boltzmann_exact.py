"""Exact enumeration of a small Boltzmann machine's ``2^n`` states (lecture 001).

``Z = Σ_s exp(−E(s)/T)``, ``P(s) = exp(−E(s)/T)/Z``, ``P(v) = Σ_h P(v, h)`` and the
exact expectations ``⟨s sᵀ⟩``, ``⟨s⟩`` (free, or clamped to data) by summing over
every state, in chunks of ``2^16`` rows; refused above ``EXACT_MAX_UNITS`` units.
The oracle that the sampled statistics and the learning rule are tested against.
It runs on the host for a machine on any device (the parameters and data are copied
there once per call: a model small enough to enumerate is small to copy).
"""
from __future__ import annotations

import numpy as np

from ..backend import asnumpy
from ..validation import check_int
from .units import BernoulliUnits

__all__ = ["ExactEnumeration", "enumerate_states", "states_to_index", "data_distribution",
           "kl_divergence", "EXACT_MAX_UNITS"]

#: enumeration is refused above this many units (2^24 states, ~16 M energies).
EXACT_MAX_UNITS = 24
_CHUNK = 1 << 16
_BERNOULLI = BernoulliUnits()


def enumerate_states(n: int, start: int = 0, stop: int | None = None, dtype=np.float64):
    """States ``start..stop-1`` of ``{0,1}^n`` as rows: row ``k`` is ``k`` in binary, unit 0 the
    least significant bit (unit 0 varies fastest). The order of :meth:`BernoulliUnits.states`,
    which builds the rows; :func:`states_to_index` is the inverse."""
    n = check_int(n, "n", minimum=0)
    stop = 1 << n if stop is None else stop
    return _BERNOULLI.states(n, start, stop, dtype)


def states_to_index(S):
    """Row index in :func:`enumerate_states` order of each {0,1} row of ``S``: ``Σ_i s_i·2^i``."""
    S = np.asarray(S)
    return (S.astype(np.int64) << np.arange(S.shape[-1], dtype=np.int64)).sum(-1)


def kl_divergence(p, q, eps: float = 1e-300) -> float:
    """``KL(p‖q) = Σ_x p(x)·ln(p(x)/q(x))`` over the support of ``p`` (nats)."""
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    m = p > 0
    return float(np.sum(p[m] * (np.log(p[m]) - np.log(np.maximum(q[m], eps)))))


def data_distribution(V):
    """Empirical distribution of binary rows ``V`` over all ``2^d`` states."""
    V = np.atleast_2d(V)
    return np.bincount(states_to_index(V), minlength=1 << V.shape[1]) / len(V)


def _logsumexp(a):
    m = np.max(a)
    return m + np.log(np.sum(np.exp(a - m)))


class ExactEnumeration:
    """The exact quantities of a :class:`~neuronet.energy.BoltzmannMachine` (a mixin:
    it uses the machine's ``n``, ``n_visible``, ``n_hidden``, ``W``, ``b``, ``_states``,
    ``_temperature``)."""

    def _check_exact(self, n: int | None = None):
        n = self.n if n is None else n
        if n > EXACT_MAX_UNITS:
            raise ValueError(f"exact enumeration needs 2^n states; allowed up to n = {EXACT_MAX_UNITS} "
                             f"units, this machine has {n}")

    def _chunks(self):
        self._check_exact()
        total = 1 << self.n
        for start in range(0, total, _CHUNK):
            yield start, enumerate_states(self.n, start, min(total, start + _CHUNK))

    def _params64(self):
        return asnumpy(self.W.data).astype(np.float64), asnumpy(self.b.data).astype(np.float64)

    def log_partition(self, T: float = 1.0) -> float:
        """``ln Z = ln Σ_s exp(−E(s)/T)`` by enumerating all ``2^n`` states."""
        return float(_logsumexp(self._neg_energies(T)))

    def _neg_energies(self, T: float = 1.0):
        T = self._temperature(T)
        W, b = self._params64()
        out = np.empty(1 << self.n)
        for start, S in self._chunks():
            out[start:start + S.shape[0]] = (S @ b + 0.5 * np.einsum("ij,ij->i", S @ W, S)) / T
        return out

    def exact_distribution(self, T: float = 1.0):
        """``P(s) = exp(−E(s)/T)/Z`` for all ``2^n`` states, in :func:`enumerate_states` order."""
        a = self._neg_energies(T)
        p = np.exp(a - a.max())
        return p / p.sum()

    def visible_distribution(self, T: float = 1.0):
        """``P(v) = Σ_h P(v, h)`` for all ``2^{n_visible}`` visible states (:func:`enumerate_states` order)."""
        # state index = index(v) + 2^{n_visible}·index(h): the visibles are the low bits
        return self.exact_distribution(T).reshape(-1, 1 << self.n_visible).sum(0)

    def ground_state(self):
        """``(argmin_s E(s), min E)`` by enumeration."""
        a = self._neg_energies(1.0)
        k = int(np.argmax(a))
        return enumerate_states(self.n, k, k + 1)[0], float(-a[k])

    def log_likelihood(self, V) -> float:
        """Mean ``ln P(v)`` of the rows of ``V`` (exact, by enumeration)."""
        V = np.atleast_2d(asnumpy(self._states(V, self.n_visible, "V")))
        logp = np.log(self.visible_distribution())
        return float(np.mean(logp[states_to_index(V)]))

    def kl_to_data(self, V) -> float:
        """``KL(P_data‖P_model)`` over the visibles, P_data the empirical distribution of ``V``."""
        return kl_divergence(data_distribution(np.atleast_2d(asnumpy(self._states(V, self.n_visible, "V")))),
                             self.visible_distribution())

    def exact_statistics(self, V=None):
        """``(⟨s sᵀ⟩, ⟨s⟩)`` exactly: free (``V=None``) or clamped to the rows of ``V``
        (visibles = data, hiddens from the exact ``P(h|v)``), averaged over rows."""
        if V is None:
            p = self.exact_distribution()
            ss = np.zeros((self.n, self.n))
            s = np.zeros(self.n)
            for start, S in self._chunks():
                pw = p[start:start + S.shape[0], None] * S
                ss += S.T @ pw
                s += pw.sum(0)
            return ss, s
        V = np.atleast_2d(asnumpy(self._states(V, self.n_visible, "V"))).astype(np.float64)
        nv = self.n_visible
        if self.n_hidden == 0:
            return V.T @ V / len(V), V.mean(0)
        self._check_exact(self.n_hidden)
        W, b = self._params64()
        Hs = enumerate_states(self.n_hidden)
        # ln P(h|v) up to a per-row constant: terms of E that involve h
        logits = V @ W[:nv, nv:] @ Hs.T + Hs @ b[nv:] + 0.5 * np.einsum("ij,ij->i", Hs @ W[nv:, nv:], Hs)
        P = np.exp(logits - logits.max(1, keepdims=True))
        P /= P.sum(1, keepdims=True)
        Eh = P @ Hs  # E[h | v] per row
        N = len(V)
        ss = np.empty((self.n, self.n))
        ss[:nv, :nv] = V.T @ V / N
        ss[:nv, nv:] = V.T @ Eh / N
        ss[nv:, :nv] = ss[:nv, nv:].T
        ss[nv:, nv:] = Hs.T @ (P.sum(0)[:, None] * Hs) / N
        return ss, np.concatenate([V.mean(0), Eh.mean(0)])
