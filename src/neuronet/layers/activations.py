"""Activation functions (MISSION A3), element-wise on arrays of any shape.

Each is a Module without parameters (PReLU has one): ``forward`` caches what the
derivative needs, ``backward(dy) = f'(a) ⊙ dy`` and the curvature pass of OBD
(Gauss-Newton, the ``f''`` term dropped) is ``∂²E/∂a² = f'(a)² ⊙ ∂²E/∂y²``.
Integer input is converted to the default float dtype; float input keeps its dtype.
"""
from __future__ import annotations

import numpy as np

from .. import kernels
from ..backend import get_array_module, get_default_dtype
from ..module import Module, Parameter
from ..validation import as_float_array, check_int, check_ndim, check_real

__all__ = ["Activation", "Threshold", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "PReLU",
           "Softplus"]


def _as_float(x, name):
    """``x`` as a float array: floats keep their dtype, ints/bools get the default dtype."""
    dtype = x.dtype if getattr(x, "dtype", None) is not None and x.dtype.kind == "f" else get_default_dtype()
    return as_float_array(x, dtype, name)


def sigmoid(x, out=None):
    """Logistic ``σ(x) = 1/(1+e^{-x})``, into ``out`` when given (no temporaries).

    For large negative ``x``, ``e^{-x}`` overflows to ∞ and ``σ`` is exactly 0, the
    correctly rounded value; the overflow warning is silenced on purpose. The one
    sigmoid of the library: layers, losses and the energy models all call it.
    """
    if out is None:
        out = get_array_module(x).empty_like(x)
    return kernels.sigmoid(x, out)


class Activation(Module):
    """Base of element-wise activations ``y = f(a)``.

    Subclasses define ``_f(a)`` and ``_df()`` (``f'(a)`` from the cached
    ``self._a`` / ``self._y``); backward and curvature follow from them.
    """

    def forward(self, x):
        a = _as_float(x, f"{type(self).__name__} input")
        self._a = a
        self._y = self._f(a)
        return self._y

    def _f(self, a):
        raise NotImplementedError

    def _df(self):
        raise NotImplementedError

    def _cached(self, what):
        if getattr(self, "_y", None) is None:
            raise RuntimeError(f"{type(self).__name__}.{what} called before forward()")

    def _check_shape(self, d, what):
        if d.shape != self._y.shape:
            raise ValueError(f"{type(self).__name__}.{what} input must have shape "
                             f"{tuple(self._y.shape)} (the forward output), got {tuple(d.shape)}")

    def backward(self, dy):
        self._cached("backward")
        self._check_shape(dy, "backward")
        return dy * self._df()

    def backward_curvature(self, d2y):
        self._cached("backward_curvature")
        self._check_shape(d2y, "backward_curvature")
        df = self._df()
        return d2y * (df * df)


class Threshold(Activation):
    """Threshold neuron, for inference only (its derivative is zero almost everywhere).

    ``kind='sign'``: ``y = +1`` if ``a ≥ 0`` else ``−1`` (McCulloch-Pitts, Rosenblatt);
    ``kind='step'``: ``y = 1`` if ``a ≥ 0`` else ``0``. ``backward`` raises: train
    with a smooth activation (sigmoid, tanh) and swap this one in afterwards.
    """

    def __init__(self, kind: str = "sign"):
        if kind not in ("sign", "step"):
            raise ValueError(f"Threshold kind must be 'sign' or 'step', got {kind!r}")
        self.kind = kind

    def _f(self, a):
        xp = get_array_module(a)
        low = -1.0 if self.kind == "sign" else 0.0
        return xp.where(a >= 0, 1.0, low).astype(a.dtype, copy=False)

    def backward(self, dy):
        raise RuntimeError("Threshold has no useful gradient (it is zero almost everywhere, "
                           "undefined at 0): it is for inference only; train with Sigmoid or Tanh "
                           "and replace the activation after training")

    backward_curvature = backward


class Sigmoid(Activation):
    """``σ(a) = 1/(1+e^{−a})``; ``σ'(a) = σ(a)(1 − σ(a))``."""

    def _f(self, a):
        return sigmoid(a)

    def _df(self):
        return self._y * (1 - self._y)

    def backward(self, dy):
        self._cached("backward")
        self._check_shape(dy, "backward")
        return kernels.sigmoid_backward(dy, self._y, get_array_module(dy).empty_like(dy))


class Tanh(Activation):
    """``th(a) = (e^a − e^{−a})/(e^a + e^{−a})``; ``th'(a) = 1 − th(a)²``."""

    def _f(self, a):
        return get_array_module(a).tanh(a)

    def _df(self):
        return 1 - self._y * self._y

    def backward(self, dy):
        self._cached("backward")
        self._check_shape(dy, "backward")
        return kernels.tanh_backward(dy, self._y, 1.0, get_array_module(dy).empty_like(dy))


class ReLU(Activation):
    """Rectified linear unit ``(a)_+ = max{0, a}``; derivative ``[a > 0]``."""

    def _f(self, a):
        return get_array_module(a).maximum(a, 0)

    def _df(self):
        return (self._y > 0).astype(self._y.dtype)

    def backward(self, dy):
        self._cached("backward")
        self._check_shape(dy, "backward")
        return kernels.relu_backward(dy, self._y, get_array_module(dy).empty_like(dy))


class LeakyReLU(Activation):
    """``max{0, a} + α·min{0, a}`` with a fixed slope ``α`` (default 0.01)."""

    def __init__(self, alpha: float = 0.01):
        self.alpha = check_real(alpha, "LeakyReLU alpha")

    def _f(self, a):
        xp = get_array_module(a)
        return xp.where(a > 0, a, a * self.alpha).astype(a.dtype, copy=False)

    def _df(self):
        xp = get_array_module(self._a)
        return xp.where(self._a > 0, 1.0, self.alpha).astype(self._a.dtype, copy=False)


class PReLU(Activation):
    """Parametric ReLU ``PReLU(a) = max{0, a} + α·min{0, a}`` with a learned slope ``α``.

    ``num_parameters=1``: one slope shared by all features; ``num_parameters=C``:
    one per feature (axis 1: the feature axis of ``(N, D)``, the channel axis of
    ``(N, C, H, W)``), as in PyTorch. ``∂E/∂α = Σ min{0, a} ⊙ ∂E/∂y`` over the
    positions sharing the slope; curvature ``Σ min{0, a}² ⊙ ∂²E/∂y²``.
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, dtype=None):
        self.n_alpha = check_int(num_parameters, "num_parameters", minimum=1)
        xp_dtype = get_default_dtype() if dtype is None else dtype
        self.alpha = Parameter(np.full((self.n_alpha,), float(init), dtype=xp_dtype), name="alpha")

    def _slope(self, ndim):
        """``α`` shaped to broadcast over an input of ``ndim`` dimensions."""
        if self.n_alpha == 1:
            return self.alpha.data[0]
        return self.alpha.data.reshape((1, -1) + (1,) * (ndim - 2))

    def forward(self, x):
        a = as_float_array(x, self.alpha.data.dtype, "PReLU input")
        if self.n_alpha > 1:
            check_ndim(a, tuple(range(2, 9)), "PReLU input", "(N, C, ...)")
            if a.shape[1] != self.n_alpha:
                raise ValueError(f"PReLU input must have {self.n_alpha} features on axis 1, "
                                 f"got shape {tuple(a.shape)}")
        self._a = a
        xp = get_array_module(a)
        self._neg = xp.minimum(a, 0)
        self._y = xp.maximum(a, 0) + self._slope(a.ndim) * self._neg
        return self._y

    def _df(self):
        xp = get_array_module(self._a)
        return xp.where(self._a > 0, 1.0, self._slope(self._a.ndim)).astype(self._a.dtype, copy=False)

    def _reduce(self, t):
        """Sum ``t`` over all axes except the slope's axis."""
        if self.n_alpha == 1:
            return t.sum().reshape(1)
        axes = (0,) + tuple(range(2, t.ndim))
        return t.sum(axis=axes)

    def backward(self, dy):
        dx = super().backward(dy)
        self.alpha.grad += self._reduce(self._neg * dy)
        return dx

    def backward_curvature(self, d2y):
        d2x = super().backward_curvature(d2y)
        self.alpha.add_curv(self._reduce(self._neg * self._neg * d2y))
        return d2x


class Softplus(Activation):
    """``softplus(a) = ln(1 + e^a)`` (a smooth ReLU); derivative ``σ(a)``."""

    def _f(self, a):
        xp = get_array_module(a)
        return xp.logaddexp(0, a).astype(a.dtype, copy=False)

    def _df(self):
        return sigmoid(self._a)
