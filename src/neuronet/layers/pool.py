"""Subsampling layers (MISSION D2): max and average pooling, LeNet's trainable
subsampling.

Windows ``kh × kw`` with stride ``sh × sw`` (default: the window, i.e. no
overlap); non-square windows such as ``(2, 3)``, overlapping strides, and sizes
that do not divide are allowed. The output size is PyTorch's floor mode
``Ho = (H − kh) // sh + 1``: rows and columns that fit no window are dropped
(their gradient is zero). Each window offset ``(i, j)`` is one strided slice
of the image, so pooling is ``kh·kw`` element-wise operations on whole maps
(for tiling windows too, where this beats a reshape and an axis reduction) and
the backward pass adds ``kh·kw`` strided slices, never a scatter.
"""
from __future__ import annotations

import numpy as np

from ..backend import get_array_module, get_default_dtype
from ..module import Module, Parameter
from ..validation import as_float_array, check_int, check_upstream
from .conv import _check_image, _output_size, _pair

__all__ = ["MaxPool2d", "AvgPool2d", "Subsampling"]


class _Pool2d(Module):
    """Shared geometry: window, stride, output size; window offsets as strided slices."""

    def _setup(self, kernel_size, stride):
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride")

    def _prepare(self, x):
        xp = get_array_module(x)
        x = xp.asarray(x)
        if x.dtype.kind != "f":
            x = as_float_array(x, get_default_dtype(), f"{type(self).__name__} input")
        _check_image(x, f"{type(self).__name__} input", None, self.kernel_size)
        kh, kw = self.kernel_size
        sh, sw = self.stride
        ho, wo = _output_size(x.shape[2], kh, sh), _output_size(x.shape[3], kw, sw)
        self._in_shape, self._out_hw = x.shape, (ho, wo)
        return x

    def _upstream(self, d, what):
        shape = getattr(self, "_in_shape", None)
        out = (0,) if shape is None else tuple(shape[:2]) + tuple(self._out_hw)
        return check_upstream(d, shape, out, f"{type(self).__name__} {what}")

    def _pieces(self, x):
        """The ``kh·kw`` strided slices ``x[:, :, r·sh + i, s·sw + j]`` (over r, s), one per offset.

        Pooling reads each window offset as one strided slice, so a reduction
        over windows is ``kh·kw`` element-wise operations on whole maps.
        """
        (ho, wo), (kh, kw), (sh, sw) = self._out_hw, self.kernel_size, self.stride
        for i in range(kh):
            for j in range(kw):
                yield x[:, :, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw]

    def _scatter(self, piece):
        """Adjoint of :meth:`_pieces`: ``dx[slice k] += piece(k)`` for every window offset ``k``."""
        (ho, wo), (kh, kw), (sh, sw) = self._out_hw, self.kernel_size, self.stride
        first = piece(0)
        xp = get_array_module(first)
        out = xp.zeros(self._in_shape, dtype=first.dtype)
        for k in range(kh * kw):
            i, j = divmod(k, kw)
            out[:, :, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw] += first if k == 0 else piece(k)
        return out


class MaxPool2d(_Pool2d):
    """``y[n,c,r,s] = max_{i<kh, j<kw} x[n,c,r·sh+i, s·sw+j]``.

    The gradient (and the curvature) goes to the first maximal element of each
    window only, as in PyTorch: ``∂E/∂x = Σ_windows [x = argmax]·∂E/∂y``.
    """

    def __init__(self, kernel_size, stride=None):
        self._setup(kernel_size, stride)

    def forward(self, x):
        x = self._prepare(x)
        xp = get_array_module(x)
        pieces = self._pieces(x)
        best = next(pieces).copy()
        window = self.kernel_size[0] * self.kernel_size[1]
        arg = xp.zeros(best.shape, dtype=np.int8 if window <= 127 else np.intp)
        # a running maximum over the kh·kw window offsets; strict '>' keeps the first maximum;
        # a NaN wins (as in PyTorch): a window holding NaN gives NaN, never a number
        for k, piece in enumerate(pieces, start=1):
            better = (piece > best) | (xp.isnan(piece) & ~xp.isnan(best))
            xp.copyto(best, piece, where=better)
            arg[better] = k
        self._arg = arg
        return best

    def _route(self, dy):
        return self._scatter(lambda k: dy * (self._arg == k))

    def backward(self, dy):
        dy = self._upstream(dy, "gradient")
        return self._route(dy)

    def backward_curvature(self, d2y):
        d2y = self._upstream(d2y, "curvature")
        return self._route(d2y)


class AvgPool2d(_Pool2d):
    """``y[n,c,r,s] = (1/(kh·kw))·Σ_{i,j} x[n,c,r·sh+i, s·sw+j]``.

    ``∂E/∂x = Σ_windows ∂E/∂y / (kh·kw)``; curvature ``Σ_windows ∂²E/∂y² / (kh·kw)²``.
    """

    def __init__(self, kernel_size, stride=None):
        self._setup(kernel_size, stride)

    def forward(self, x):
        x = self._prepare(x)
        kh, kw = self.kernel_size
        pieces = self._pieces(x)
        total = next(pieces).copy()
        for piece in pieces:
            total += piece
        total *= 1.0 / (kh * kw)
        return total

    def _spread(self, dy, scale):
        scaled = dy * scale
        return self._scatter(lambda k: scaled)

    def backward(self, dy):
        dy = self._upstream(dy, "gradient")
        k = self.kernel_size[0] * self.kernel_size[1]
        return self._spread(dy, 1.0 / k)

    def backward_curvature(self, d2y):
        d2y = self._upstream(d2y, "curvature")
        k = self.kernel_size[0] * self.kernel_size[1]
        return self._spread(d2y, 1.0 / (k * k))


class Subsampling(Module):
    """LeNet's trainable subsampling (S2, S4): an average over each window,
    times a learned coefficient, plus a learned bias, per map:

        ``y[n,c,r,s] = a[c]·avg_window(x)[n,c,r,s] + b[c]``

    ``∂E/∂a[c] = Σ ∂E/∂y·avg``, ``∂E/∂b[c] = Σ ∂E/∂y``,
    ``∂E/∂x = AvgPool.backward(a[c]·∂E/∂y)``. Coefficients start at 1, biases at 0.
    """

    def __init__(self, channels, kernel_size=2, stride=None, dtype=None):
        self.channels = check_int(channels, "channels", 1)
        dtype = np.dtype(dtype) if dtype is not None else get_default_dtype()
        self.pool = AvgPool2d(kernel_size, stride)
        self.a = Parameter(np.ones(self.channels, dtype=dtype), name="a")
        self.b = Parameter(np.zeros(self.channels, dtype=dtype), name="b")

    def forward(self, x):
        x = as_float_array(x, self.a.data.dtype, "Subsampling input")
        _check_image(x, "Subsampling input", self.channels, self.pool.kernel_size)
        self._p = self.pool.forward(x)
        return self._p * self.a.data[:, None, None] + self.b.data[:, None, None]

    def backward(self, dy):
        dy = self.pool._upstream(dy, "gradient (in Subsampling)")
        self.a.grad += (dy * self._p).sum(axis=(0, 2, 3))
        self.b.grad += dy.sum(axis=(0, 2, 3))
        return self.pool.backward(dy * self.a.data[:, None, None])

    def backward_curvature(self, d2y):
        d2y = self.pool._upstream(d2y, "curvature (in Subsampling)")
        self.a.add_curv((d2y * self._p * self._p).sum(axis=(0, 2, 3)))
        self.b.add_curv(d2y.sum(axis=(0, 2, 3)))
        a = self.a.data[:, None, None]
        return self.pool.backward_curvature(d2y * a * a)
