"""Activations in which the units of a group compete: maxout and softmax (MISSION A3).

Unlike the element-wise activations (activations.py), each output here depends on
a whole group of inputs: the largest of ``k`` (maxout) or all of them (softmax).
"""
from __future__ import annotations

from ..backend import get_array_module
from ..module import Module
from ..validation import check_int, check_ndim
from .activations import _as_float

__all__ = ["Maxout", "Softmax"]


class Maxout(Module):
    """Maxout (Goodfellow et al. 2013): the maximum over consecutive groups of ``pieces``.

    ``(N, n·pieces) → (N, n)``, ``y_nk = max_{j<pieces} a_{n, k·pieces + j}``. The
    gradient (and curvature) goes to the arg-max of each group only. Put a
    ``Dense(n_in, n·pieces)`` below it to get ``n`` maxout units.
    """

    def __init__(self, pieces: int):
        self.pieces = check_int(pieces, "pieces", minimum=1)

    def forward(self, x):
        a = _as_float(x, "Maxout input")
        check_ndim(a, 2, "Maxout input", "(N, n·pieces)")
        if a.shape[1] % self.pieces:
            raise ValueError(f"Maxout input must have a multiple of pieces={self.pieces} features, "
                             f"got shape {tuple(a.shape)}")
        groups = a.reshape(a.shape[0], -1, self.pieces)
        xp = get_array_module(a)
        self._arg = groups.argmax(axis=2)[..., None]
        self._shape = a.shape
        return xp.take_along_axis(groups, self._arg, axis=2)[..., 0]

    def _route(self, d, what):
        if getattr(self, "_arg", None) is None:
            raise RuntimeError(f"Maxout.{what} called before forward()")
        n, k = self._shape[0], self._shape[1] // self.pieces
        if d.shape != (n, k):
            raise ValueError(f"Maxout.{what} input must have shape {(n, k)}, got {tuple(d.shape)}")
        xp = get_array_module(d)
        out = xp.zeros((n, k, self.pieces), dtype=d.dtype)
        xp.put_along_axis(out, self._arg, d[..., None], axis=2)
        return out.reshape(self._shape)

    def backward(self, dy):
        return self._route(dy, "backward")

    def backward_curvature(self, d2y):
        return self._route(d2y, "backward_curvature")


class Softmax(Module):
    """``y_i = e^{a_i} / Σ_j e^{a_j}`` along ``axis`` (default: the last, the features).

    Backward: ``∂E/∂a = y ⊙ (dy − Σ_i y_i dy_i)``. Curvature, Gauss-Newton with
    the Jacobian ``J_ij = y_i(δ_ij − y_j)``: ``∂²E/∂a_j² = Σ_i J_ij² d2y_i
    = y_j² ((1 − 2y_j) d2y_j + Σ_i y_i² d2y_i)``. For classification prefer
    :class:`~neuronet.losses.SoftmaxCrossEntropy` on logits (fused, stable).
    """

    def __init__(self, axis: int = -1):
        self.axis = int(axis)

    def forward(self, x):
        a = _as_float(x, "Softmax input")
        xp = get_array_module(a)
        e = xp.exp(a - a.max(axis=self.axis, keepdims=True))
        e /= e.sum(axis=self.axis, keepdims=True)
        self._y = e
        return e

    def _check(self, d, what):
        if getattr(self, "_y", None) is None:
            raise RuntimeError(f"Softmax.{what} called before forward()")
        if d.shape != self._y.shape:
            raise ValueError(f"Softmax.{what} input must have shape {tuple(self._y.shape)}, "
                             f"got {tuple(d.shape)}")

    def backward(self, dy):
        self._check(dy, "backward")
        y = self._y
        return y * (dy - (y * dy).sum(axis=self.axis, keepdims=True))

    def backward_curvature(self, d2y):
        self._check(d2y, "backward_curvature")
        y = self._y
        s = (y * y * d2y).sum(axis=self.axis, keepdims=True)
        return y * y * ((1 - 2 * y) * d2y + s)
