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
partition function and expectations by enumerating all ``2^n`` states
(:mod:`.boltzmann_exact`); ``fit`` is a step on the one loop (:mod:`.boltzmann_step`).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..backend import get_array_module, get_default_dtype, step_scalar
from ..module import Parameter
from ..random import generator_for, make_rng
from ..validation import (as_float_array, as_symmetric_weights, check_features, check_int, check_ndim,
                          check_positive)
from .annealing import gibbs_sweep
from .base import EnergyModel
from .boltzmann_exact import (EXACT_MAX_UNITS, ExactEnumeration, data_distribution,  # noqa: F401
                              enumerate_states, kl_divergence, states_to_index)

__all__ = ["BoltzmannMachine", "AnnealResult"]


class AnnealResult(NamedTuple):
    """Final states (C, n) of the chains, their energies (C,), and the mean energy after each sweep."""

    states: np.ndarray
    energies: np.ndarray
    trace: np.ndarray


class BoltzmannMachine(ExactEnumeration, EnergyModel):
    """Boltzmann machine with ``n_visible`` visible and ``n_hidden`` hidden binary units.

    Units ``0..n_visible-1`` are visible, the rest hidden. ``W`` (n, n) starts as
    small symmetric Gaussian noise (std ``init_std``) with zero diagonal, kept
    zero by the parameter's mask; biases ``b`` start at 0.
    """

    _state_arrays = ("_chains",)  # the persistent free-phase chains

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
        self._chains = None  # persistent free-phase chains (moved and cast with the parameters)

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
        s = as_float_array(s, self.W.data.dtype, name, like=self.W.data)
        check_ndim(s, (1, 2), name, f"(n,) or (batch, n) with n = {n}")
        check_features(s, n, name=name, what="units")
        if not bool(((s == 0) | (s == 1)).all()):
            raise ValueError(f"{name} must hold binary states 0 and 1, got values "
                             f"{get_array_module(s).unique(s)[:5]}")
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
        xp = get_array_module(S)
        return -(S @ self.b.data) - 0.5 * xp.einsum("...i,...i->...", S @ self.W.data, S)

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
        rng = self._rng_or(rng)
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
                energies.append(float(self._energy(S).mean()))  # a trace, not a training step
        return (S, np.array(energies)) if trace else S

    def random_states(self, n_chains: int, rng=None):
        """``n_chains`` uniformly random states (C, n)."""
        rng = self._rng_or(rng)
        n_chains = check_int(n_chains, "n_chains", minimum=1)
        xp = get_array_module(self.W.data)
        return (generator_for(rng, xp).random((n_chains, self.n)) < 0.5).astype(self.W.data.dtype)

    def sample(self, n: int = 100, steps: int = 100, T: float = 1.0, schedule=None,
               init=None, rng=None):
        """States ``(n, units)`` after ``steps`` Gibbs sweeps at temperature ``T`` from ``init``
        (default uniform random), or along ``schedule`` (an array of temperatures,
        e.g. :func:`geometric_schedule`) when given."""
        rng = self._rng_or(rng)
        if schedule is None:
            self._temperature(T)
            schedule = np.full(check_int(steps, "steps", minimum=1), float(T))
        S = self.random_states(n, rng) if init is None else self._states(init, self.n, "init").copy()
        return self.gibbs(S if S.ndim == 2 else S[None, :], schedule, rng=rng)

    def anneal(self, n_chains: int, schedule, rng=None) -> AnnealResult:
        """Simulated annealing: Gibbs sweeps along the falling ``schedule`` from random states.

        At high T the chains roam freely; as T falls they settle into low-energy
        states, ideally the ground state ``argmin_s E(s)``.
        """
        rng = self._rng_or(rng)
        S = self.random_states(n_chains, rng)
        S, trace = self.gibbs(S, schedule, rng=rng, trace=True)
        return AnnealResult(S, self._energy(S), trace)

    # ----------------------------------------------------------------- learning
    def sampled_statistics(self, V=None, sweeps: int = 10, n_chains: int = 100, rng=None,
                           check: bool = True):
        """``(⟨s sᵀ⟩, ⟨s⟩)`` estimated by Gibbs sampling at T = 1.

        Clamped (``V`` given): one chain per row of ``V``, hiddens started at
        random and swept ``sweeps`` times with the visibles fixed. Free: the
        persistent chains (``n_chains``, kept between calls) are swept ``sweeps``
        times. ``check=False``: ``V`` is taken as checked (a training step's rows).
        """
        rng = self._rng_or(rng)
        xp = get_array_module(self.W.data)
        if V is not None:
            V = xp.atleast_2d(self._states(V, self.n_visible, "V") if check else V)
            S = xp.concatenate([V, self.random_states(len(V), rng)[:, self.n_visible:]], axis=1)
            if self.n_hidden:
                self.gibbs(S, np.ones(sweeps), clamp_visible=True, rng=rng)  # host: temperatures
        else:
            if self._chains is None or self._chains.shape != (n_chains, self.n):
                self._chains = self.random_states(n_chains, rng)
            S = self.gibbs(self._chains, np.ones(sweeps), rng=rng)  # host: temperatures
        S = S.astype(np.float64)
        return S.T @ S / len(S), S.mean(0)

    def accumulate_gradient(self, V, method: str = "gibbs", sweeps: int = 10, n_chains: int = 100,
                            rng=None, check: bool = True) -> float:
        """Add ``−(⟨·⟩_clamped − ⟨·⟩_free)`` (the gradient of −mean ln P(v)) into ``W.grad``, ``b.grad``.

        Any optimiser then applies the Boltzmann rule; plain SGD with rate η is
        exactly ``Δw_ij = η(⟨s_i s_j⟩_clamped − ⟨s_i s_j⟩_free)``. Returns the energy
        gap ``⟨E⟩_clamped − ⟨E⟩_free`` (``⟨E⟩ = −bᵀ⟨s⟩ − ½ Σ w_ij ⟨s_i s_j⟩``), whose
        gradient with the statistics held fixed is exactly the one added. ``check=False``: ``V``
        is taken as checked (a training step's rows: the check would copy to the host).
        """
        if method == "exact":
            pos, neg = self.exact_statistics(V), self.exact_statistics()
        elif method == "gibbs":
            pos = self.sampled_statistics(V, sweeps=sweeps, rng=rng, check=check)
            neg = self.sampled_statistics(None, sweeps=sweeps, n_chains=n_chains, rng=rng)
        else:
            raise ValueError(f"method must be 'gibbs' or 'exact', got {method!r}")
        xp = get_array_module(self.W.data)
        dss, ds = xp.asarray(pos[0] - neg[0]), xp.asarray(pos[1] - neg[1])  # exact: from the host
        gW = -dss
        xp.fill_diagonal(gW, 0)
        self.W.grad += gW.astype(self.W.grad.dtype)
        self.b.grad += -ds.astype(self.b.grad.dtype)
        W, b = self.W.data.astype(np.float64), self.b.data.astype(np.float64)
        return step_scalar(-(b @ ds) - 0.5 * xp.sum(W * dss))

    def fit(self, X, epochs: int = 100, lr=None, method: str = "gibbs", batch_size: int | None = None,
            sweeps: int = 10, n_chains: int = 100, optimizer=None, progress: bool = True,
            monitor_kl: bool | None = None, rng=None, seed=None, checkpoint=None, resume_from=None,
            callbacks=None, comm=None) -> dict:
        """Learn the distribution of the binary rows of ``X`` (N, n_visible) on the one loop
        (:class:`~neuronet.energy.boltzmann_step.BoltzmannStep`).

        Each update: clamped and free statistics (``method='gibbs'``: sampled, free
        phase on persistent chains; ``'exact'``: enumeration), gradient into
        ``p.grad``, then ``optimizer.step()`` (default: ``SGD(lr=0.1)``, the plain
        gradient step ``Δθ = η·(⟨·⟩_clamped − ⟨·⟩_free)``; ``lr`` beside an
        ``optimizer`` is a ``ValueError``). ``monitor_kl`` (default: when the machine
        is small enough) records the exact ``KL(P_data‖P_model)`` per epoch.

        ``callbacks``: any :mod:`neuronet.train.callbacks`; ``checkpoint=path`` is
        ``ModelCheckpoint(path)`` and ``resume_from`` continues such a run bit for bit
        (weights, optimiser, generator, persistent chains, history). ``comm``: data-parallel
        as ``RBM.fit`` (``n_chains / R`` chains and a sampling stream per rank). Returns a
        dict of per-epoch lists (``kl``, ``loss`` = the energy gap, ``q``, ``time``, ...).
        """
        from .boltzmann_step import fit_boltzmann

        kw = dict(locals())
        del kw["self"], kw["X"], kw["fit_boltzmann"]
        return fit_boltzmann(self, X, **kw)
