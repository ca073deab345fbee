"""Boltzmann machine: the stochastic, generative Hopfield net (lectures 000, 001).

Binary units ``s_i ∈ {0, 1}``, visible and hidden, all connected: symmetric
``W`` with zero diagonal and biases ``b``. Energy (lecture 001, eq. 4)::

    E(s) = −Σ_i b_i s_i − Σ_{i<j} w_ij s_i s_j = −bᵀs − ½·sᵀWs

Boltzmann–Gibbs distribution at temperature T: ``P(s) = exp(−E(s)/T) / Z``.
A unit's energy gap ``ΔE_i = E(s_i=0) − E(s_i=1) = b_i + Σ_j w_ij s_j`` gives the
stochastic neuron ``p(s_i = 1) = σ(ΔE_i / T)``; Gibbs sampling updates units one
at a time, simulated annealing lowers T along a schedule.

Learning (maximum likelihood of the visible data)::

    Δw_ij = η·(⟨s_i s_j⟩_clamped − ⟨s_i s_j⟩_free),   Δb_i = η·(⟨s_i⟩_clamped − ⟨s_i⟩_free)

clamped: visibles fixed to data, hiddens sampled; free: every unit sampled.
Small machines (≤ ``EXACT_MAX_UNITS`` units) also get exact probabilities,
partition function and expectations by enumerating all ``2^n`` states.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..backend import get_default_dtype
from ..module import Module, Parameter
from ..random import make_rng
from ..validation import (as_float_array, as_symmetric_weights, check_features, check_int, check_ndim,
                          check_positive)
from .annealing import gibbs_sweep
from .units import BernoulliUnits

__all__ = ["BoltzmannMachine", "AnnealResult", "enumerate_states", "states_to_index", "data_distribution",
           "kl_divergence",
           "EXACT_MAX_UNITS"]

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


class AnnealResult(NamedTuple):
    """Final states (C, n) of the chains, their energies (C,), and the mean energy after each sweep."""

    states: np.ndarray
    energies: np.ndarray
    trace: np.ndarray


class BoltzmannMachine(Module):
    """Boltzmann machine with ``n_visible`` visible and ``n_hidden`` hidden binary units.

    Units ``0..n_visible-1`` are visible, the rest hidden. ``W`` (n, n) starts as
    small symmetric Gaussian noise (std ``init_std``) with zero diagonal, kept
    zero by the parameter's mask; biases ``b`` start at 0.
    """

    def __init__(self, n_visible: int, n_hidden: int = 0, init_std: float = 0.01, dtype=None,
                 rng=None, seed=None):
        self.n_visible = check_int(n_visible, "n_visible", minimum=1)
        self.n_hidden = check_int(n_hidden, "n_hidden", minimum=0)
        self.n = self.n_visible + self.n_hidden
        check_positive(init_std, "init_std", allow_zero=True)
        dtype = np.dtype(dtype or get_default_dtype())
        self.rng = make_rng(rng, seed)
        A = self.rng.normal(0.0, init_std, size=(self.n, self.n))
        W = np.triu(A, 1)
        self.W = Parameter((W + W.T).astype(dtype), mask=~np.eye(self.n, dtype=bool), name="W")
        self.b = Parameter(np.zeros(self.n, dtype=dtype), name="b")
        self._chains = None  # persistent free-phase chains

    @classmethod
    def from_weights(cls, W, b=None, n_visible: int | None = None, dtype=None, atol: float = 1e-8):
        """A machine with given ``W`` (symmetric, zero diagonal: checked) and biases ``b``."""
        W = as_symmetric_weights(W, np.dtype(dtype or get_default_dtype()), atol)
        n = W.shape[0]
        nv = n if n_visible is None else check_int(n_visible, "n_visible", minimum=1)
        if nv > n:
            raise ValueError(f"n_visible must be <= {n} (the size of W), got {nv}")
        bm = cls(nv, n - nv, init_std=0.0, dtype=W.dtype.name)
        bm.W.data[...] = (W + W.T) / 2
        bm.W.apply_mask()
        if b is not None:
            b = as_float_array(b, W.dtype, "b")
            check_ndim(b, 1, "b")
            check_features(b, n, name="b", what="units")
            bm.b.data[...] = b
        return bm

    # ----------------------------------------------------------------- checks
    def _states(self, s, n: int, name: str):
        s = as_float_array(s, self.W.data.dtype, name)
        check_ndim(s, (1, 2), name, f"(n,) or (batch, n) with n = {n}")
        check_features(s, n, name=name, what="units")
        if not np.isin(s, (0, 1)).all():
            raise ValueError(f"{name} must hold binary states 0 and 1, got values {np.unique(s)[:5]}")
        return s

    @staticmethod
    def _temperature(T):
        return check_positive(T, "temperature T")

    # ----------------------------------------------------------------- energy
    def energy(self, s):
        """``E(s) = −bᵀs − ½·sᵀWs`` for (n,) or (B, n) states in {0, 1}."""
        S = self._states(s, self.n, "s")
        return self._energy(S)

    def _energy(self, S):
        return -(S @ self.b.data) - 0.5 * np.einsum("...i,...i->...", S @ self.W.data, S)

    def energy_gap(self, s):
        """``ΔE_i = b_i + Σ_j w_ij s_j`` for every unit (B, n): the input of ``p_i = σ(ΔE_i/T)``."""
        S = self._states(s, self.n, "s")
        return S @ self.W.data + self.b.data

    # ----------------------------------------------------------------- sampling
    def gibbs(self, S, temperatures=(1.0,), clamp_visible: bool = False, rng=None, trace: bool = False):
        """Gibbs sweeps on chains ``S`` (C, n) in place, one sweep per temperature in ``temperatures``.

        A sweep visits every free unit once in a fresh random order and samples
        ``s_i ~ Bernoulli(σ(ΔE_i/T))``; with ``clamp_visible`` only the hidden units
        move (the clamped phase). Returns ``S`` (and the mean energy after each
        sweep when ``trace``).
        """
        rng = self.rng if rng is None else make_rng(rng)
        temps = np.atleast_1d(np.asarray(temperatures, dtype=np.float64))
        if not np.all(np.isfinite(temps) & (temps > 0)):
            raise ValueError(f"temperatures must be positive and finite, got {temps[~(temps > 0)][:3]}")
        units = np.arange(self.n_visible, self.n) if clamp_visible else np.arange(self.n)
        W, b = self.W.data, self.b.data
        H = S @ W + b
        energies = []
        for T in temps:
            if units.size:
                gibbs_sweep(S, W, b, float(T), rng, order=rng.permutation(units), H=H)
            if trace:
                energies.append(float(np.mean(self._energy(S))))
        return (S, np.array(energies)) if trace else S

    def random_states(self, n_chains: int, rng=None):
        """``n_chains`` uniformly random states (C, n)."""
        rng = self.rng if rng is None else make_rng(rng)
        n_chains = check_int(n_chains, "n_chains", minimum=1)
        return (rng.random((n_chains, self.n)) < 0.5).astype(self.W.data.dtype)

    def sample(self, n_chains: int = 100, sweeps: int = 100, T: float = 1.0, schedule=None,
               init=None, rng=None):
        """States (C, n) after ``sweeps`` Gibbs sweeps at temperature ``T`` from ``init``
        (default uniform random), or along ``schedule`` (an array of temperatures,
        e.g. :func:`geometric_schedule`) when given."""
        rng = self.rng if rng is None else make_rng(rng)
        if schedule is None:
            self._temperature(T)
            schedule = np.full(check_int(sweeps, "sweeps", minimum=1), float(T))
        S = self.random_states(n_chains, rng) if init is None else self._states(init, self.n, "init").copy()
        return self.gibbs(np.atleast_2d(S), schedule, rng=rng)

    def anneal(self, n_chains: int, schedule, rng=None) -> AnnealResult:
        """Simulated annealing: Gibbs sweeps along the falling ``schedule`` from random states.

        At high T the chains roam freely; as T falls they settle into low-energy
        states, ideally the ground state ``argmin_s E(s)``.
        """
        rng = self.rng if rng is None else make_rng(rng)
        S = self.random_states(n_chains, rng)
        S, trace = self.gibbs(S, schedule, rng=rng, trace=True)
        return AnnealResult(S, self._energy(S), trace)

    # ----------------------------------------------------------------- exact
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
        return self.W.data.astype(np.float64), self.b.data.astype(np.float64)

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
        V = np.atleast_2d(self._states(V, self.n_visible, "V"))
        logp = np.log(self.visible_distribution())
        return float(np.mean(logp[states_to_index(V)]))

    def kl_to_data(self, V) -> float:
        """``KL(P_data‖P_model)`` over the visibles, P_data the empirical distribution of ``V``."""
        return kl_divergence(data_distribution(np.atleast_2d(self._states(V, self.n_visible, "V"))),
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
        V = np.atleast_2d(self._states(V, self.n_visible, "V")).astype(np.float64)
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

    # ----------------------------------------------------------------- learning
    def sampled_statistics(self, V=None, sweeps: int = 10, n_chains: int = 100, rng=None):
        """``(⟨s sᵀ⟩, ⟨s⟩)`` estimated by Gibbs sampling at T = 1.

        Clamped (``V`` given): one chain per row of ``V``, hiddens started at
        random and swept ``sweeps`` times with the visibles fixed. Free: the
        persistent chains (``n_chains``, kept between calls) are swept ``sweeps``
        times.
        """
        rng = self.rng if rng is None else make_rng(rng)
        if V is not None:
            V = np.atleast_2d(self._states(V, self.n_visible, "V"))
            S = np.concatenate([V, self.random_states(len(V), rng)[:, self.n_visible:]], axis=1)
            if self.n_hidden:
                self.gibbs(S, np.ones(sweeps), clamp_visible=True, rng=rng)
        else:
            if self._chains is None or self._chains.shape != (n_chains, self.n):
                self._chains = self.random_states(n_chains, rng)
            S = self.gibbs(self._chains, np.ones(sweeps), rng=rng)
        S = S.astype(np.float64)
        return S.T @ S / len(S), S.mean(0)

    def accumulate_gradient(self, V, method: str = "gibbs", sweeps: int = 10, n_chains: int = 100,
                            rng=None):
        """Add ``−(⟨·⟩_clamped − ⟨·⟩_free)`` (the gradient of −mean ln P(v)) into ``W.grad``, ``b.grad``.

        Any optimiser then applies the Boltzmann rule; plain SGD with rate η is
        exactly ``Δw_ij = η(⟨s_i s_j⟩_clamped − ⟨s_i s_j⟩_free)``.
        """
        if method == "exact":
            pos, neg = self.exact_statistics(V), self.exact_statistics()
        elif method == "gibbs":
            pos = self.sampled_statistics(V, sweeps=sweeps, rng=rng)
            neg = self.sampled_statistics(None, sweeps=sweeps, n_chains=n_chains, rng=rng)
        else:
            raise ValueError(f"method must be 'gibbs' or 'exact', got {method!r}")
        gW = -(pos[0] - neg[0])
        np.fill_diagonal(gW, 0)
        self.W.grad += gW.astype(self.W.grad.dtype)
        self.b.grad += -(pos[1] - neg[1]).astype(self.b.grad.dtype)

    def fit(self, X, epochs: int = 100, lr: float = 0.1, method: str = "gibbs", batch_size: int | None = None,
            sweeps: int = 10, n_chains: int = 100, optimizer=None, progress: bool = True,
            monitor_kl: bool | None = None, rng=None, seed=None, checkpoint=None, resume_from=None):
        """Learn the distribution of the binary rows of ``X`` (N, n_visible).

        Each update: clamped and free statistics (``method='gibbs'``: sampled, free
        phase on persistent chains; ``'exact'``: enumeration), gradient into
        ``p.grad``, then ``optimizer.step()`` (default: plain gradient step
        ``Δθ = η·(⟨·⟩_clamped − ⟨·⟩_free)``). ``monitor_kl`` (default: when the
        machine is small enough) records the exact ``KL(P_data‖P_model)`` per epoch.
        Returns the history dict ``{'kl': [...]}``. Shows a tqdm bar when ``progress``.

        ``checkpoint`` (a path): after every epoch the weights, the optimiser state,
        the generator state, the persistent chains and the history are written
        (atomically, :func:`neuronet.save`); ``resume_from`` continues from such a
        file up to ``epochs`` in total, giving the same result as an uninterrupted run.
        """
        X = np.atleast_2d(self._states(X, self.n_visible, "X"))
        epochs = check_int(epochs, "epochs", minimum=1)
        check_positive(lr, "lr")
        if rng is not None or seed is not None:
            self.rng = make_rng(rng, seed)
        rng = self.rng
        bs = len(X) if batch_size is None else check_int(batch_size, "batch_size", minimum=1)
        if monitor_kl is None:
            monitor_kl = self.n <= 16
        history = {"kl": []}
        first = 0
        if resume_from is not None:
            first, history = self._resume(resume_from, optimizer)
            rng = self.rng
        bar = range(first, epochs)
        if progress:
            from tqdm.auto import tqdm
            bar = tqdm(bar, desc=f"BM fit ({method})", initial=first, total=epochs)
        for epoch in bar:
            order = rng.permutation(len(X))
            for start in range(0, len(X), bs):
                self.zero_grad()
                self.accumulate_gradient(X[order[start:start + bs]], method, sweeps, n_chains, rng)
                if optimizer is None:
                    for p in (self.W, self.b):
                        p.data -= lr * p.grad
                        p.apply_mask()
                else:
                    optimizer.step()
            if monitor_kl:
                history["kl"].append(self.kl_to_data(X))
                if progress:
                    bar.set_postfix(kl=f"{history['kl'][-1]:.4f}")
            if checkpoint is not None:
                from ..io import save
                save(checkpoint, self, optimizer, epoch=epoch + 1,
                     extra={"chains": self._chains, "kl": list(history["kl"])})
        return history

    def _resume(self, path, optimizer):
        """Load weights, generator, chains and history from a :meth:`fit` checkpoint."""
        from ..io import load_checkpoint

        ck = load_checkpoint(path)
        if not isinstance(ck.model, BoltzmannMachine) or ck.model.n != self.n:
            raise ValueError(f"{path}: not a checkpoint of a Boltzmann machine with {self.n} units")
        self.load_state_dict(ck.model.state_dict())
        self.rng.bit_generator.state = ck.model.rng.bit_generator.state
        chains = ck.extra.get("chains")
        self._chains = None if chains is None else np.asarray(chains, dtype=self.W.data.dtype)
        if optimizer is not None and ck.optimizer_state is not None:
            optimizer.load_state_dict(ck.optimizer_state)
        return int(ck.epoch or 0), {"kl": [float(k) for k in ck.extra.get("kl", [])]}


def data_distribution(V):
    """Empirical distribution of binary rows ``V`` over all ``2^d`` states."""
    V = np.atleast_2d(V)
    return np.bincount(states_to_index(V), minlength=1 << V.shape[1]) / len(V)


def _logsumexp(a):
    m = np.max(a)
    return m + np.log(np.sum(np.exp(a - m)))
