"""Flatten: images (N, C, H, W) to rows (N, C·H·W), between LeNet's maps and its dense layers."""
from __future__ import annotations

from ..module import Module
from ..backend import get_array_module

__all__ = ["Flatten"]


class Flatten(Module):
    """``(N, d1, d2, ...) → (N, d1·d2·...)``; backward reshapes back."""

    def forward(self, x):
        xp = get_array_module(x)
        x = xp.asarray(x)
        if x.ndim < 2:
            raise ValueError(f"Flatten input must be at least 2-D (N, ...), got shape {tuple(x.shape)}")
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dy):
        return dy.reshape(self._shape)

    def backward_curvature(self, d2y):
        return d2y.reshape(self._shape)


# ---------------------------------------------------------------- ScaledTanh
