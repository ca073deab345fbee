"""Hopfield network: an associative memory that minimises an energy (lectures 000, 001).

States ``s_i ∈ {−1, +1}``, symmetric weights ``w_ij = w_ji`` with ``w_ii = 0`` and
thresholds ``θ_i``. The energy (lecture 000)::

    E(s) = −½·Σ_ij w_ij s_i s_j + Σ_i θ_i s_i

and the update of one neuron::

    s_i := +1 if Σ_j w_ji s_j > θ_i, else −1

never raises ``E`` when neurons are updated one at a time (asynchronously),
so the dynamics end in a local minimum: a stored pattern, if the memory is
below capacity (the lecture's ≈ 0.15·N; theory 0.138·N).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..backend import get_default_dtype
from ..module import Module, Parameter
from ..random import make_rng
from ..validation import (as_float_array, as_symmetric_weights, check_features, check_finite,
                          check_int, check_ndim, check_probability)
from .annealing import sequential_sweep

__all__ = ["Hopfield", "RecallResult", "CapacityResult", "hopfield_capacity", "theoretical_bit_error",
           "flip_bits"]

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


class Hopfield(Module):
    """Hopfield network of ``n`` ±1 neurons.

    ``rule`` picks how :meth:`store` sets ``W`` from patterns ``ξ^μ``:

    * ``'hebb'`` (lecture 001, eq. 5): ``w_ij = (1/n)·Σ_μ ξ_i^μ ξ_j^μ``, ``w_ii = 0``;
    * ``'storkey'``: pattern by pattern, ``w_ij += (1/n)(ξ_iξ_j − ξ_i h_ji − h_ij ξ_j)``
      with ``h_ij = Σ_{k≠i,j} w_ik ξ_k`` (local and incremental, stores more);
    * ``'pseudoinverse'`` (projection rule): ``W = Ξᵀ(ΞΞᵀ)⁺Ξ`` with the diagonal
      set to 0; every linearly independent pattern is a fixed point while
      ``P`` stays well below ``n``.

    ``thresholds`` is ``None`` (all θ = 0), a number, or an ``(n,)`` array.
    """

    def __init__(self, n: int, rule: str = "hebb", thresholds=None, dtype=None):
        self.n = check_int(n, "n", minimum=1)
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

    def _as_states(self, x, binary: bool, name: str):
        """``x`` as ±1 floats, checked: values in {−1, +1} (or {0, 1} with ``binary=True``)."""
        x = as_float_array(x, self.W.data.dtype, name)
        check_ndim(x, (1, 2), name, "(n,) or (batch, n)")
        check_features(x, self.n, name=name, what="neurons")
        if binary:
            if not np.isin(x, (0, 1)).all():
                raise ValueError(f"{name} with binary=True must hold only 0 and 1, got values "
                                 f"{_some_values(x)}")
            return 2 * x - 1
        if not np.isin(x, (-1, 1)).all():
            hint = (" (pass binary=True for {0, 1} patterns)" if np.isin(x, (0, 1)).all() else "")
            raise ValueError(f"{name} must hold only −1 and +1{hint}, got values {_some_values(x)}")
        return x

    # ------------------------------------------------------------ learning
    def store(self, patterns, binary: bool = False):
        """Set ``W`` so that ``patterns`` (P, n) become fixed points (replaces what was stored)."""
        X = self._as_states(patterns, binary, "patterns")
        X = np.atleast_2d(X).astype(np.float64)
        if self.rule == "hebb":
            W = X.T @ X / self.n
        elif self.rule == "storkey":
            W = _storkey(X)
        else:
            W = X.T @ np.linalg.pinv(X @ X.T) @ X
        np.fill_diagonal(W, 0)
        self.W.data[...] = W
        self.n_patterns = X.shape[0]
        return self

    # ------------------------------------------------------------ energy
    def energy(self, s, binary: bool = False):
        """``E(s) = −½·sᵀWs + θᵀs`` for one state (n,) or a batch (B, n)."""
        S = self._as_states(s, binary, "s")
        return self._energy(S, S @ self.W.data)

    def _energy(self, S, H):
        return -0.5 * np.einsum("...i,...i->...", S, H) + S @ self.theta.data

    def update_sync(self, s, binary: bool = False):
        """One synchronous step: every neuron at once, ``s := sgn(W s − θ)`` (ties → −1)."""
        S = self._as_states(s, binary, "s")
        return self._threshold(S @ self.W.data)

    def _threshold(self, H):
        return np.where(H > self.theta.data, 1, -1).astype(self.W.data.dtype)

    # ------------------------------------------------------------ recall
    def recall(self, x, mode: str = "async", max_sweeps: int = 100, rng=None, seed=None,
               binary: bool = False, block: int = 64) -> RecallResult:
        """Run the dynamics from probes ``x`` ((n,) or (B, n)) until a fixed point or ``max_sweeps``.

        ``mode='async'``: each sweep visits the neurons one at a time in a fresh
        random order (the same order for every probe of the batch), each update
        seeing all earlier ones; ``E`` never rises. Local fields ``h = S·W`` are
        kept and changed by a rank-1 term per flipped neuron (blocks of
        ``block`` neurons, then one GEMM: see :func:`annealing.sequential_sweep`).
        ``mode='sync'``: all neurons at once, ``s(t+1) = sgn(W s(t) − θ)``; can
        settle into a 2-cycle, which is reported in ``oscillating``.
        """
        if mode not in ("async", "sync"):
            raise ValueError(f"mode must be 'async' or 'sync', got {mode!r}")
        max_sweeps = check_int(max_sweeps, "max_sweeps", minimum=1)
        X = self._as_states(x, binary, "x")
        single = X.ndim == 1
        S = np.atleast_2d(X).copy()
        rng = make_rng(rng, seed)
        B = S.shape[0]
        W = self.W.data
        H = S @ W
        energies = [self._energy(S, H)]
        converged = np.zeros(B, dtype=bool)
        oscillating = np.zeros(B, dtype=bool)
        prev = S.copy()
        theta = self.theta.data
        one = W.dtype.type(1)

        def decide(h, s, i):
            return np.where(h > theta[i], one, -one)

        sweeps = 0
        for sweeps in range(1, max_sweeps + 1):
            active = np.flatnonzero(~(converged | oscillating))
            Sa = S[active]
            before = Sa.copy()
            if mode == "async":
                Ha = Sa @ W  # fresh fields each sweep: no drift from the rank-1 updates
                sequential_sweep(Sa, W, Ha, rng.permutation(self.n), decide, block=block)
            else:
                Sa = self._threshold(Sa @ W)
                Ha = Sa @ W
                oscillating[active] = (Sa == prev[active]).all(1) & (Sa != before).any(1)
                prev[active] = before
            S[active] = Sa
            converged[active] = (Sa == before).all(1)
            E = energies[-1].copy()
            E[active] = self._energy(Sa, Ha)
            energies.append(E)
            if converged.all() or (converged | oscillating).all():
                break
        energies = np.stack(energies)
        if single:
            return RecallResult(S[0], converged[0], energies[:, 0], sweeps, oscillating[0])
        return RecallResult(S, converged, energies, sweeps, oscillating)


def _storkey(X):
    """Storkey's rule, one pattern at a time (X: (P, n) float64 ±1)."""
    n = X.shape[1]
    W = np.zeros((n, n))
    for xi in X:
        h = W @ xi  # h_i = Σ_k w_ik ξ_k; h_ij removes k = j: h_i − w_ij ξ_j
        # with ξ² = 1: ΔW = (ξξᵀ − ξhᵀ − hξᵀ + 2W)/n  (the +2W restores the k = i, j terms)
        W += (np.outer(xi, xi) - np.outer(xi, h) - np.outer(h, xi) + 2 * W) / n
        np.fill_diagonal(W, 0)
    return W


def _some_values(x, k: int = 5):
    u = np.unique(x)
    shown = ", ".join(f"{v:g}" for v in u[:k])
    return "{" + shown + (", ..." if u.size > k else "") + "}"


# ---------------------------------------------------------------- capacity
class CapacityResult(NamedTuple):
    """Per load ``α = P/N``: measured one-step bit-error rate (mean and s.e. over
    trials), the theory ``Φ(−1/√α)``, the fraction of noisy probes recalled
    exactly, the fraction retrieved (final overlap ``m = ξ·s/N ≥ 0.9``) and the
    mean final overlap."""

    loads: np.ndarray
    n_patterns: np.ndarray
    bit_error: np.ndarray
    bit_error_se: np.ndarray
    theory: np.ndarray
    recall_exact: np.ndarray
    recall_overlap: np.ndarray
    overlap: np.ndarray


def theoretical_bit_error(alpha):
    """``Φ(−1/√α)``: for Hebb storage of random patterns, the crosstalk on a bit is
    ≈ N(0, α) against a signal of 1, so a bit flips in one step with this probability."""
    alpha = np.asarray(alpha, dtype=np.float64)
    return 0.5 * _erfc(1 / np.sqrt(2 * alpha))


def _erfc(x):
    return np.vectorize(math.erfc, otypes=[np.float64])(x)


def hopfield_capacity(n: int, loads, trials: int = 5, noise: float = 0.1, rule: str = "hebb",
                      max_sweeps: int = 50, recall_probes: int | None = None,
                      rng=None, seed=None, dtype=np.float32, progress: bool = False) -> CapacityResult:
    """The capacity experiment: for each load ``α = P/N`` and each of ``trials`` random memories.

    ``P = round(α·n)`` random ±1 patterns are stored; (1) each stored pattern is
    presented and one synchronous step taken: the fraction of bits that flip is
    the one-step bit-error rate (theory ``Φ(−1/√α)``); (2) each pattern (at most
    ``recall_probes`` per trial; 0 skips part 2, whose results are then NaN) with
    ``round(noise·n)`` bits flipped is recalled asynchronously: recalled exactly
    when the final state equals the pattern, retrieved when the overlap
    ``m = ξ·s/N`` is at least 0.9.
    """
    n = check_int(n, "n", minimum=2)
    trials = check_int(trials, "trials", minimum=1)
    check_probability(noise, "noise")
    if recall_probes is not None:
        check_int(recall_probes, "recall_probes", minimum=0)
    loads = np.atleast_1d(np.asarray(loads, dtype=np.float64))
    if loads.ndim != 1 or not np.all((loads > 0) & np.isfinite(loads)):
        raise ValueError(f"loads must be positive numbers α = P/N, got {loads}")
    rng = make_rng(rng, seed)
    n_flip = int(round(noise * n))
    fields = {k: np.full((loads.size, trials), np.nan) for k in ("err", "exact", "ret", "m")}
    P = np.maximum(1, np.round(loads * n)).astype(int)
    it = [(a, t) for a in range(loads.size) for t in range(trials)]
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(it, desc="capacity")
    for a, t in it:
        net = Hopfield(n, rule=rule, dtype=dtype)
        xi = rng.choice(np.array([-1, 1], dtype=dtype), size=(P[a], n))
        net.store(xi)
        fields["err"][a, t] = np.mean(net.update_sync(xi) != xi)
        if recall_probes == 0:
            continue
        probes = xi[:recall_probes] if recall_probes else xi
        noisy = flip_bits(probes, n_flip, rng)
        res = net.recall(noisy, max_sweeps=max_sweeps, rng=rng)
        m = np.mean(res.states * probes, axis=1)
        fields["exact"][a, t] = np.mean(m == 1)
        fields["ret"][a, t] = np.mean(m >= 0.9)
        fields["m"][a, t] = np.mean(m)
    err = fields["err"]
    se = err.std(axis=1, ddof=1) / np.sqrt(trials) if trials > 1 else np.full(loads.size, np.nan)
    return CapacityResult(loads, P, err.mean(1), se, theoretical_bit_error(loads),
                          fields["exact"].mean(1), fields["ret"].mean(1), fields["m"].mean(1))


def flip_bits(X, k, rng=None, seed=None):
    """A copy of ±1 patterns ``X`` ((n,) or (B, n)) with exactly ``k`` random entries of each row negated.

    ``k`` may be an int or a fraction in [0, 1) of the row length (rounded).
    """
    rng = make_rng(rng, seed)
    X = np.array(X, copy=True)
    single = X.ndim == 1
    X = np.atleast_2d(X)
    if isinstance(k, float):
        k = int(round(check_probability(k, "k") * X.shape[1]))
    k = check_int(k, "k", minimum=0)
    if k > X.shape[1]:
        raise ValueError(f"cannot flip {k} of {X.shape[1]} entries")
    if k > 0:
        idx = np.argsort(rng.random(X.shape), axis=1)[:, :k]
        X[np.arange(X.shape[0])[:, None], idx] *= -1
    return X[0] if single else X
