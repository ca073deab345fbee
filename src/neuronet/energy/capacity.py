"""The capacity of a Hopfield memory: how many random patterns it holds (lectures 000, 001).

For ``P`` random ±1 patterns stored by Hebb's rule in ``N`` neurons, the
crosstalk on a bit is about ``N(0, α)`` against a signal of 1 (``α = P/N``), so
one synchronous step flips a bit with probability ``Φ(−1/√α)``; recall of noisy
probes breaks down near the lecture's ``α ≈ 0.15`` (theory 0.138).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..backend import asnumpy
from ..random import make_rng
from ..validation import check_int, check_probability
from .hopfield import Hopfield

__all__ = ["CapacityResult", "hopfield_capacity", "theoretical_bit_error", "flip_bits"]


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
                      rng=None, seed=None, dtype=np.float32, progress: bool = False,
                      device: str = "cpu") -> CapacityResult:
    """The capacity experiment: for each load ``α = P/N`` and each of ``trials`` random memories.

    ``P = round(α·n)`` random ±1 patterns are stored; (1) each stored pattern is
    presented and one synchronous step taken: the fraction of bits that flip is
    the one-step bit-error rate (theory ``Φ(−1/√α)``); (2) each pattern (at most
    ``recall_probes`` per trial; 0 skips part 2, whose results are then NaN) with
    ``round(noise·n)`` bits flipped is recalled asynchronously: recalled exactly
    when the final state equals the pattern, retrieved when the overlap
    ``m = ξ·s/N`` is at least 0.9. ``device``: where the nets run (``'cuda'``: CuPy; the
    patterns are drawn on the host and each trial's results come back there).
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
        net = Hopfield(n, rule=rule, dtype=dtype).to(device)
        xi = rng.choice(np.array([-1, 1], dtype=dtype), size=(P[a], n))
        net.store(xi)
        fields["err"][a, t] = np.mean(asnumpy(net.update_sync(xi)) != xi)
        if recall_probes == 0:
            continue
        probes = xi[:recall_probes] if recall_probes else xi
        noisy = flip_bits(probes, n_flip, rng)
        res = net.recall(noisy, max_sweeps=max_sweeps, rng=rng)
        m = np.mean(asnumpy(res.states) * probes, axis=1)
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
