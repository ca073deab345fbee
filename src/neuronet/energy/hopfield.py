"""Hopfield network: an associative memory that minimises an energy (lectures 000, 001).

States ``s_i ∈ {−1, +1}``, symmetric weights ``w_ij = w_ji`` with ``w_ii = 0`` and
thresholds ``θ_i``. The energy (lecture 000)::

    E(s) = −½·Σ_ij w_ij s_i s_j + Σ_i θ_i s_i

and the update of one neuron::

    s_i := +1 if Σ_j w_ji s_j > θ_i, else −1

never raises ``E`` when neurons are updated one at a time (asynchronously),
so the dynamics end in a local minimum: a stored pattern, if the memory is
below capacity (the lecture's ≈ 0.15·N; theory 0.138·N: :mod:`.capacity`).
On the energy-model protocol: ``sample`` runs the dynamics from random states
(a draw of the attractors), ``reconstruct`` completes probes to a fixed point.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..backend import asnumpy, get_array_module, get_default_dtype
from ..module import Parameter
from ..random import make_rng
from ..validation import (as_float_array, as_symmetric_weights, check_features, check_finite,
                          check_int, check_ndim)
from .annealing import sequential_sweep
from .base import EnergyModel

__all__ = ["Hopfield", "RecallResult"]

RULES = ("hebb", "storkey", "pseudoinverse")


class RecallResult(NamedTuple):
    """What :meth:`Hopfield.recall` returns.

    ``states``: final states, shaped like the probes (±1). ``converged``: per
    probe, True when a whole sweep changed no neuron (a fixed point).
    ``energies``: ``(sweeps + 1, B)``, row 0 the probes' energy, row k the energy
    after sweep k (converged probes keep their last value). ``sweeps``: sweeps
    run. ``oscillating``: per probe, True when synchronous updates entered a
    2-cycle ``s(t+2) = s(t) ≠ s(t+1)`` (always False for async).
    """

    states: np.ndarray
    converged: np.ndarray
    energies: np.ndarray
    sweeps: int
    oscillating: np.ndarray


class Hopfield(EnergyModel):
    """Hopfield network of ``n`` ±1 neurons.

    ``rule`` picks how :meth:`store` sets ``W`` from patterns ``ξ^μ``:

    * ``'hebb'`` (lecture 001, eq. 5): ``w_ij = (1/n)·Σ_μ ξ_i^μ ξ_j^μ``, ``w_ii = 0``;
    * ``'storkey'``: pattern by pattern, ``w_ij += (1/n)(ξ_iξ_j − ξ_i h_ji − h_ij ξ_j)``
      with ``h_ij = Σ_{k≠i,j} w_ik ξ_k`` (local and incremental, stores more);
    * ``'pseudoinverse'`` (projection rule): ``W = Ξᵀ(ΞΞᵀ)⁺Ξ`` with the diagonal
      set to 0; every linearly independent pattern is a fixed point while
      ``P`` stays well below ``n``.

    ``thresholds`` is ``None`` (all θ = 0), a number, or an ``(n,)`` array. ``rng``,
    ``seed``: the generator of the asynchronous update order (``self.rng``).
    """

    def __init__(self, n: int, rule: str = "hebb", thresholds=None, dtype=None, rng=None, seed=None):
        self.n = check_int(n, "n", minimum=1)
        self.rng = make_rng(rng, seed)
        if rule not in RULES:
            raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
        self.rule = rule
        dtype = np.dtype(dtype or get_default_dtype())
        self.W = Parameter(np.zeros((self.n, self.n), dtype=dtype), name="W")
        self.theta = Parameter(self._as_thresholds(thresholds, dtype), name="theta")
        self.n_patterns = 0

    # ------------------------------------------------------------ construction
    def _as_thresholds(self, thresholds, dtype):
        if thresholds is None:
            return np.zeros(self.n, dtype=dtype)
        t = as_float_array(np.asarray(thresholds), dtype, "thresholds")
        if t.ndim == 0:
            t = np.full(self.n, t, dtype=dtype)
        check_ndim(t, 1, "thresholds")
        check_features(t, self.n, name="thresholds", what="neurons")
        check_finite(t, "thresholds")
        return t.copy()

    @classmethod
    def from_weights(cls, W, thresholds=None, dtype=None, atol: float = 1e-8):
        """A network with the given weights: ``W`` must be square, symmetric and zero on the diagonal.

        Asymmetric weights or self-connections break the energy argument (the
        dynamics may cycle), so they are refused rather than silently fixed.
        """
        W = as_symmetric_weights(W, np.dtype(dtype or get_default_dtype()), atol)
        net = cls(W.shape[0], thresholds=thresholds, dtype=W.dtype.name)
        net.W.data[...] = (W + W.T) / 2
        np.fill_diagonal(net.W.data, 0)
        return net

    def check_state(self, source: str = "state") -> None:
        """Loaded weights obey what :meth:`from_weights` demands: ``w_ij = w_ji``, ``w_ii = 0``
        (to a tolerance relative to the largest weight: a Hebbian sum is symmetric only to rounding)."""
        from ..spec import CheckpointError
        W = self.W.data
        atol = 1e-6 * max(1.0, float(abs(W).max()) if W.size else 0.0)
        try:
            as_symmetric_weights(W, W.dtype, atol)
        except ValueError as e:
            raise CheckpointError(f"{source}: Hopfield {e}") from None

    def _as_states(self, x, binary: bool, name: str):
        """``x`` as ±1 floats, checked: values in {−1, +1} (or {0, 1} with ``binary=True``)."""
        x = as_float_array(x, self.W.data.dtype, name, like=self.W.data)
        check_ndim(x, (1, 2), name, "(n,) or (batch, n)")
        check_features(x, self.n, name=name, what="neurons")
        if binary:
            if not _only(x, 0, 1):
                raise ValueError(f"{name} with binary=True must hold only 0 and 1, got values "
                                 f"{_some_values(x)}")
            return 2 * x - 1
        if not _only(x, -1, 1):
            hint = (" (pass binary=True for {0, 1} patterns)" if _only(x, 0, 1) else "")
            raise ValueError(f"{name} must hold only −1 and +1{hint}, got values {_some_values(x)}")
        return x

    # ------------------------------------------------------------ learning
    def store(self, patterns, binary: bool = False):
        """Set ``W`` so that ``patterns`` (P, n) become fixed points (replaces what was stored)."""
        X = self._as_states(patterns, binary, "patterns")
        xp = get_array_module(X)
        X = xp.atleast_2d(X).astype(np.float64)
        if self.rule == "hebb":
            W = X.T @ X / self.n
        elif self.rule == "storkey":
            W = _storkey(X)
        else:
            W = X.T @ xp.linalg.pinv(X @ X.T) @ X
        xp.fill_diagonal(W, 0)
        self.W.data[...] = W
        self.n_patterns = X.shape[0]
        return self

    # ------------------------------------------------------------ energy
    def energy(self, s, binary: bool = False):
        """``E(s) = −½·sᵀWs + θᵀs`` for one state (n,) or a batch (B, n)."""
        S = self._as_states(s, binary, "s")
        return self._energy(S, S @ self.W.data)

    def _energy(self, S, H):
        return -0.5 * get_array_module(S).einsum("...i,...i->...", S, H) + S @ self.theta.data

    def update_sync(self, s, binary: bool = False):
        """One synchronous step: every neuron at once, ``s := sgn(W s − θ)`` (ties → −1)."""
        S = self._as_states(s, binary, "s")
        return self._threshold(S @ self.W.data)

    def _threshold(self, H):
        return get_array_module(H).where(H > self.theta.data, 1, -1).astype(self.W.data.dtype)

    # ------------------------------------------------------------ recall
    def recall(self, x, mode: str = "async", max_sweeps: int = 100, rng=None, seed=None,
               binary: bool = False, block: int = 64) -> RecallResult:
        """Run the dynamics from probes ``x`` ((n,) or (B, n)) until a fixed point or ``max_sweeps``.

        ``mode='async'``: each sweep visits the neurons one at a time in a fresh
        random order (the same order for every probe of the batch; drawn from
        ``rng``/``seed``, else the net's ``rng``), each update seeing all earlier
        ones; ``E`` never rises. Local fields ``h = S·W`` are kept and changed by a
        rank-1 term per flipped neuron (blocks of ``block`` neurons, then one GEMM:
        see :func:`annealing.sequential_sweep`). ``mode='sync'``: all neurons at
        once, ``s(t+1) = sgn(W s(t) − θ)``; can settle into a 2-cycle, which is
        reported in ``oscillating``.
        """
        if mode not in ("async", "sync"):
            raise ValueError(f"mode must be 'async' or 'sync', got {mode!r}")
        max_sweeps = check_int(max_sweeps, "max_sweeps", minimum=1)
        X = self._as_states(x, binary, "x")
        xp = get_array_module(X)
        S = xp.atleast_2d(X).copy()
        rng = self.rng if rng is None and seed is None else make_rng(rng, seed)
        B = S.shape[0]
        energies = [self._energy(S, S @ self.W.data)]
        converged, oscillating = xp.zeros(B, dtype=bool), xp.zeros(B, dtype=bool)
        prev = S.copy()
        sweeps = 0
        for sweeps in range(1, max_sweeps + 1):
            energies.append(self._sweep(S, prev, converged, oscillating, energies[-1], mode, rng, block))
            if (converged | oscillating).all():  # on a GPU the one host copy per sweep
                break
        energies = xp.stack(energies)
        if X.ndim == 1:
            return RecallResult(S[0], converged[0], energies[:, 0], sweeps, oscillating[0])
        return RecallResult(S, converged, energies, sweeps, oscillating)

    def _sweep(self, S, prev, converged, oscillating, E_last, mode, rng, block):
        """One sweep of the probes still moving (in place); returns every probe's energy."""
        W, theta = self.W.data, self.theta.data
        xp = get_array_module(W)
        one = W.dtype.type(1)
        active = xp.flatnonzero(~(converged | oscillating))
        Sa = S[active]
        before = Sa.copy()
        if mode == "async":
            Ha = Sa @ W  # fresh fields each sweep: no drift from the rank-1 updates
            sequential_sweep(Sa, W, Ha, rng.permutation(self.n),
                             lambda h, s, i: xp.where(h > theta[i], one, -one), block=block)
        else:
            Sa = self._threshold(Sa @ W)
            Ha = Sa @ W
            oscillating[active] = (Sa == prev[active]).all(1) & (Sa != before).any(1)
            prev[active] = before
        S[active] = Sa
        converged[active] = (Sa == before).all(1)
        E = E_last.copy()
        E[active] = self._energy(Sa, Ha)
        return E

    # ------------------------------------------------------------ protocol
    def sample(self, n: int, steps: int = 100, init=None, rng=None, binary: bool = False):
        """``n`` states ``(n, neurons)``: asynchronous recall for at most ``steps`` sweeps from
        ``init`` (default: uniformly random ±1 states), i.e. a draw of the net's attractors."""
        rng = self._rng_or(rng)
        n = check_int(n, "n", minimum=1)
        if init is None:
            init = rng.choice(np.array([-1, 1], dtype=self.W.data.dtype), size=(n, self.n))
            binary = False
        return self.recall(init, max_sweeps=steps, rng=rng, binary=binary).states

    def reconstruct(self, X, max_sweeps: int = 100, binary: bool = False):
        """Each probe of ``X`` completed by asynchronous recall to a fixed point (±1 states)."""
        return self.recall(X, max_sweeps=max_sweeps, binary=binary).states


def _storkey(X):
    """Storkey's rule, one pattern at a time (X: (P, n) float64 ±1)."""
    xp = get_array_module(X)
    n = X.shape[1]
    W = xp.zeros((n, n))
    for xi in X:
        h = W @ xi  # h_i = Σ_k w_ik ξ_k; h_ij removes k = j: h_i − w_ij ξ_j
        # with ξ² = 1: ΔW = (ξξᵀ − ξhᵀ − hξᵀ + 2W)/n  (the +2W restores the k = i, j terms)
        W += (xp.outer(xi, xi) - xp.outer(xi, h) - xp.outer(h, xi) + 2 * W) / n
        xp.fill_diagonal(W, 0)
    return W


def _only(x, a, b) -> bool:
    """Every entry of ``x`` is ``a`` or ``b``."""
    return bool(((x == a) | (x == b)).all())


def _some_values(x, k: int = 5):
    u = np.unique(asnumpy(x))  # for an error message: on the host
    shown = ", ".join(f"{v:g}" for v in u[:k])
    return "{" + shown + (", ..." if u.size > k else "") + "}"
