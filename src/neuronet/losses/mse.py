"""Squared error, the lecture's ``½Σ(a − y)²`` (MISSION A4)."""
from __future__ import annotations

from ..backend import get_array_module
from ..validation import check_finite
from .base import Loss, _batch, _float, _same_shape

__all__ = ["MSE"]


class MSE(Loss):
    """Squared error ``E = (1/N) Σ_n ½ Σ_k (y_nk − t_nk)²``.

    ``∂E/∂y = (y − t)/N``; ``∂²E/∂y² = 1/N`` (exact).
    """

    def forward(self, output, target) -> float:
        y = _float(output, "MSE output")
        _batch(y, "MSE output")
        t = _same_shape(y, _float(target, "MSE target", like=y), "output", "MSE target")
        check_finite(t, "MSE target")  # a NaN target makes the loss meaningless (NaN output is data: it propagates)
        self._n = y.shape[0]
        self._diff = y - t
        return float(0.5 * (self._diff * self._diff).sum() / self._n)

    def backward(self):
        self._cached("backward")
        return self._diff / self._n

    def backward_curvature(self):
        self._cached("backward_curvature")
        xp = get_array_module(self._diff)
        return xp.full(self._diff.shape, 1.0 / self._n, dtype=self._diff.dtype)
