"""Subsampling layers (MISSION D2): max and average pooling, LeNet's trainable
subsampling.

Windows ``kh × kw`` with stride ``sh × sw`` (default: the window, i.e. no
overlap); non-square windows such as ``(2, 3)``, overlapping strides, and sizes
that do not divide are allowed. The output size is PyTorch's floor mode
``Ho = (H − kh) // sh + 1``: rows and columns that fit no window are dropped
(their gradient is zero). When the windows tile the image (stride = window)
the pooling is a reshape; otherwise a strided window view, and the backward
pass adds ``kh·kw`` strided slices (:func:`~neuronet.layers.conv.col2im`).
"""
from __future__ import annotations

import numpy as np

from ..backend import get_array_module, get_default_dtype
from ..module import Module, Parameter
from ..validation import as_float_array, check_int
from .conv import _check_image, _output_size, _pair, col2im, windows

__all__ = ["MaxPool2d", "AvgPool2d", "Subsampling"]


class _Pool2d(Module):
    """Shared geometry: window, stride, output size, tiled fast path."""

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
        self._tiled = (sh, sw) == (kh, kw)
        return x

    def _blocks(self, x):
        """Tiled windows as ``(N, C, Ho, kh, Wo, kw)`` (a reshape of the cropped image)."""
        n, c = x.shape[:2]
        (ho, wo), (kh, kw) = self._out_hw, self.kernel_size
        return x[:, :, :ho * kh, :wo * kw].reshape(n, c, ho, kh, wo, kw)

    def _scatter(self, win6):
        """Adjoint of window extraction: ``win6 (N, C, Ho, Wo, kh, kw)`` back to image shape."""
        xp = get_array_module(win6)
        n, c, h, w = self._in_shape
        (ho, wo), (kh, kw) = self._out_hw, self.kernel_size
        if not self._tiled:
            return col2im(win6, self._in_shape, self.stride)
        block = win6.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, ho * kh, wo * kw)
        if (ho * kh, wo * kw) == (h, w):
            return xp.ascontiguousarray(block)
        out = xp.zeros(self._in_shape, dtype=win6.dtype)
        out[:, :, :ho * kh, :wo * kw] = block
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
        n, c = x.shape[:2]
        (ho, wo), (kh, kw) = self._out_hw, self.kernel_size
        if self._tiled:
            flat = self._blocks(x).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, ho, wo, kh * kw)
        else:
            flat = windows(x, self.kernel_size, self.stride).reshape(n, c, ho, wo, kh * kw)
        self._arg = flat.argmax(axis=-1)
        xp = get_array_module(x)
        return xp.take_along_axis(flat, self._arg[..., None], axis=-1)[..., 0]

    def _route(self, dy):
        xp = get_array_module(dy)
        kh, kw = self.kernel_size
        onehot = self._arg[..., None] == xp.arange(kh * kw)
        win = (onehot * dy[..., None]).reshape(*dy.shape, kh, kw)
        return self._scatter(win)

    def backward(self, dy):
        return self._route(dy)

    def backward_curvature(self, d2y):
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
        if self._tiled:
            s = self._blocks(x).sum(axis=(3, 5))
        else:
            s = windows(x, self.kernel_size, self.stride).sum(axis=(4, 5))
        return s * (1.0 / (kh * kw))

    def _spread(self, dy, scale):
        xp = get_array_module(dy)
        kh, kw = self.kernel_size
        win = xp.broadcast_to((dy * scale)[..., None, None], (*dy.shape, kh, kw))
        return self._scatter(win)

    def backward(self, dy):
        k = self.kernel_size[0] * self.kernel_size[1]
        return self._spread(dy, 1.0 / k)

    def backward_curvature(self, d2y):
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
        self.a.grad += (dy * self._p).sum(axis=(0, 2, 3))
        self.b.grad += dy.sum(axis=(0, 2, 3))
        return self.pool.backward(dy * self.a.data[:, None, None])

    def backward_curvature(self, d2y):
        self.a.add_curv((d2y * self._p * self._p).sum(axis=(0, 2, 3)))
        self.b.add_curv(d2y.sum(axis=(0, 2, 3)))
        a = self.a.data[:, None, None]
        return self.pool.backward_curvature(d2y * a * a)
