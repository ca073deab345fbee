"""Ridge regression from sufficient statistics (the upper weights of a DSN module).

For features ``H`` (N×h) and targets ``T`` (N×C) the ridge solution

    U = (HᵀH + λI)⁻¹ HᵀT

depends on the data only through ``G = HᵀH`` (h×h) and ``B = HᵀT`` (h×C), which
are sums over the rows: ``G = Σ_batches H_bᵀH_b``, ``B = Σ_batches H_bᵀT_b``. So
the data can be streamed in batches, and the statistics of several processes
are summed (an MPI ``Allreduce`` of the two arrays) before the one h×h solve.
"""
from __future__ import annotations

import numpy as np

from ..backend import get_array_module
from ..validation import as_float_array, check_finite, check_ndim, check_positive

__all__ = ["RidgeStatistics", "ridge_solve"]


def ridge_solve(G, B, ridge: float):
    """``U = (G + λI)⁻¹ B``; with ``λ = 0`` and a singular ``G`` the least-squares
    (pseudo-inverse) solution."""
    xp = get_array_module(G)
    A = G + ridge * xp.eye(G.shape[0], dtype=G.dtype) if ridge else G
    try:
        return xp.linalg.solve(A, B)
    except xp.linalg.LinAlgError:
        if ridge:
            raise
        return xp.linalg.lstsq(A, B, rcond=None)[0]


class RidgeStatistics:
    """The sums ``HtH = Σ HᵀH`` and ``HtT = Σ HᵀT`` (and the row count ``n``).

    ``add(H, T)`` adds one batch; ``merge(other)`` (or ``+``) adds another
    accumulator's sums (e.g. another process's); ``solve(λ)`` returns
    ``U = (HtH + λI)⁻¹ HtT``. The two arrays are plain arrays, so a distributed
    run may sum them with any reduction and assign them back.
    """

    def __init__(self, n_features: int, n_targets: int, dtype=None, xp=None):
        xp = np if xp is None else xp
        dtype = np.float64 if dtype is None else dtype
        self.HtH = xp.zeros((n_features, n_features), dtype=dtype)
        self.HtT = xp.zeros((n_features, n_targets), dtype=dtype)
        self.n = 0

    @property
    def shape(self):
        """``(h, C)``: the shape of the solution ``U``."""
        return self.HtT.shape

    def add(self, H, T) -> "RidgeStatistics":
        """``HtH += HᵀH``, ``HtT += HᵀT`` for one batch (rows of ``H`` and ``T`` paired)."""
        H = as_float_array(H, self.HtH.dtype, "H")
        T = as_float_array(T, self.HtH.dtype, "T")
        check_ndim(H, 2, "H", "(N, h)")
        check_ndim(T, 2, "T", "(N, C)")
        h, c = self.shape
        if H.shape[1] != h:
            raise ValueError(f"H must have {h} columns, got shape {tuple(H.shape)}")
        if T.shape != (H.shape[0], c):
            raise ValueError(f"T must have shape {(H.shape[0], c)} (one row per row of H, "
                             f"{c} targets), got {tuple(T.shape)}")
        self.HtH += H.T @ H
        self.HtT += H.T @ T
        self.n += H.shape[0]
        return self

    def merge(self, other: "RidgeStatistics") -> "RidgeStatistics":
        """Add ``other``'s sums into these (statistics of disjoint data add)."""
        if not isinstance(other, RidgeStatistics):
            raise TypeError(f"merge takes RidgeStatistics, got {type(other).__name__}")
        if other.shape != self.shape:
            raise ValueError(f"cannot merge statistics of shape {other.shape} into {self.shape}")
        self.HtH += other.HtH
        self.HtT += other.HtT
        self.n += other.n
        return self

    def __add__(self, other: "RidgeStatistics") -> "RidgeStatistics":
        out = RidgeStatistics(*self.shape, dtype=self.HtH.dtype, xp=get_array_module(self.HtH))
        return out.merge(self).merge(other)

    def solve(self, ridge: float = 0.0):
        """``U = (HtH + λI)⁻¹ HtT`` with ``λ = ridge ≥ 0``."""
        check_positive(ridge, "ridge", allow_zero=True)
        if self.n == 0:
            raise ValueError("no data added: call add(H, T) before solve()")
        check_finite(self.HtH, "HtH")
        return ridge_solve(self.HtH, self.HtT, ridge)
