"""Convolution layers (MISSION D1, D3): ``Conv2d`` with a connection table,
``Flatten`` and LeCun's scaled tanh.

Images are ``(N, C, H, W)``. A convolution is computed as one matrix product
(im2col): every receptive field of the padded input is a column of ``cols``
``(C·kh·kw, N·Ho·Wo)``, taken from a strided view
(``sliding_window_view``) and copied once, so

    y[n, o, r, s] = Σ_{c,i,j} W[o, c, i, j] · x[n, c, r·sh + i, s·sw + j] + b[o]

is ``W.reshape(out, -1) @ cols``.
The backward pass is the same GEMM transposed; the input gradient goes back to
image layout (col2im) by adding ``kh·kw`` strided slices, never by a scatter
(``np.add.at``).
"""
from __future__ import annotations

import numpy as np

from .. import kernels
from ..backend import get_array_module, get_default_dtype
from ..input_gradient import wants_input_grad
from ..module import Module, Parameter
from ..random import make_rng
from ..validation import as_float_array, check_features, check_int, check_ndim, check_upstream

__all__ = ["Conv2d", "ScaledTanh"]


# ---------------------------------------------------------------- helpers
def _pair(value, name: str, minimum: int = 1) -> tuple[int, int]:
    """``value`` as ``(vertical, horizontal)``: an int means the same for both."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair (h, w), got {value!r}")
        return (check_int(value[0], name, minimum), check_int(value[1], name, minimum))
    v = check_int(value, name, minimum)
    return (v, v)


def _output_size(size: int, k: int, s: int) -> int:
    """Floor-mode output length ``(size − k) // s + 1`` (as PyTorch computes it)."""
    return (size - k) // s + 1


def _check_image(x, name: str, channels: int | None, kernel: tuple[int, int],
                 padding: tuple[int, int] = (0, 0)) -> None:
    """4-D ``(N, C, H, W)``, the expected channel count, large enough for the window."""
    check_ndim(x, 4, name, layout="(N, C, H, W)")
    if channels is not None:
        check_features(x, channels, axis=1, name=name, what="channels")
    h, w = x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1]
    if h < kernel[0] or w < kernel[1]:
        pad = f" (padded to {h}×{w})" if any(padding) else ""
        raise ValueError(f"{name} of size {x.shape[2]}×{x.shape[3]}{pad} is smaller than the "
                         f"{kernel[0]}×{kernel[1]} window")


def windows(x, kernel: tuple[int, int], stride: tuple[int, int]):
    """Strided view ``(N, C, Ho, Wo, kh, kw)`` of every window of ``x`` (no copy)."""
    xp = get_array_module(x)
    v = xp.lib.stride_tricks.sliding_window_view(x, kernel, axis=(2, 3))
    return v[:, :, ::stride[0], ::stride[1]]


def col2im(cols, shape, stride: tuple[int, int]):
    """Sum window values back onto the image: the adjoint of :func:`windows`.

    ``cols`` is ``(A, B, Ho, Wo, kh, kw)`` (any strides, broadcasts allowed; the
    two leading axes are batch and channel in either order, ``shape`` = ``(A, B, H, W)``);
    ``dx[a, b, r·sh + i, s·sw + j] += cols[a, b, r, s, i, j]``, done as ``kh·kw``
    additions of strided slices, so overlapping windows add up without a scatter.
    """
    xp = get_array_module(cols)
    _, _, ho, wo, kh, kw = cols.shape
    sh, sw = stride
    out = xp.zeros(shape, dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            out[:, :, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw] += cols[:, :, :, :, i, j]
    return out


def _pad(x, padding: tuple[int, int]):
    if padding == (0, 0):
        return x
    xp = get_array_module(x)
    ph, pw = padding
    return xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))


def _unpad(x, padding: tuple[int, int]):
    ph, pw = padding
    return x[:, :, ph:x.shape[2] - ph, pw:x.shape[3] - pw]


def _connection_table(connections, out_channels: int, in_channels: int):
    """Validate a boolean ``(out_channels, in_channels)`` table; every output map sees an input."""
    table = np.asarray(connections)
    if table.dtype.kind not in "biu":
        raise TypeError(f"connections must be a boolean (out_channels, in_channels) table, "
                        f"got dtype {table.dtype}")
    if table.shape != (out_channels, in_channels):
        raise ValueError(f"connections must have shape (out_channels, in_channels) = "
                         f"({out_channels}, {in_channels}), got {table.shape}")
    table = table.astype(bool)
    blind = np.flatnonzero(~table.any(axis=1))
    if blind.size:
        raise ValueError(f"connections: output map(s) {blind.tolist()} see no input map; "
                         "every row of the table needs at least one True")
    return table


# ---------------------------------------------------------------- Conv2d
class Conv2d(Module):
    """2-D convolution (cross-correlation, as in every library) of ``(N, C, H, W)`` maps.

    ``y[n,o,r,s] = Σ_{c,i,j} W[o,c,i,j]·x_pad[n,c,r·sh+i,s·sw+j] + b[o]`` with
    ``W (out_channels, in_channels, kh, kw)`` and ``b (out_channels,)``;
    output size ``Ho = (H + 2·ph − kh) // sh + 1`` (and likewise ``Wo``).

    ``connections`` is LeCun's connection table: a boolean ``(out_channels,
    in_channels)`` array; output map ``o`` is computed only from input maps ``c``
    with ``connections[o, c]``. It becomes the weight's
    :attr:`Parameter.mask`, so the unconnected kernels are zero, get a zero
    gradient, are never updated, and :meth:`num_parameters` counts only the
    real ones.

    ``init``: ``'lecun'`` (uniform with variance ``1/F_in``, the scaled-tanh
    rule of LeCun's *Efficient BackProp*), ``'glorot'`` or ``'he'``, where the
    fan-in ``F_in`` of an output map counts only its connected inputs.
    Biases start at zero. ``input_grad=False`` skips ``∂E/∂x`` (``backward``
    returns ``None``), which saves the col2im pass; ``True`` always computes it;
    ``None`` (default) skips it only in the first layer of the network the user
    called, whose input is data (:mod:`neuronet.input_gradient`).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True,
                 connections=None, init="lecun", rng=None, seed=None, dtype=None,
                 input_grad=None):
        self.in_channels = check_int(in_channels, "in_channels", 1)
        self.out_channels = check_int(out_channels, "out_channels", 1)
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _pair(stride, "stride")
        self.padding = _pair(padding, "padding", minimum=0)
        dtype = np.dtype(dtype) if dtype is not None else get_default_dtype()
        kh, kw = self.kernel_size
        shape = (self.out_channels, self.in_channels, kh, kw)
        table = None
        if connections is not None:
            table = _connection_table(connections, self.out_channels, self.in_channels)
        fan_in = (table.sum(axis=1) if table is not None
                  else np.full(self.out_channels, self.in_channels)) * kh * kw
        W = _init_kernels(init, shape, fan_in, make_rng(rng, seed)).astype(dtype)
        mask = None if table is None else np.broadcast_to(table[:, :, None, None], shape).copy()
        self.W = Parameter(W, mask=mask, name="W")
        self.b = Parameter(np.zeros(self.out_channels, dtype=dtype), name="b") if bias else None
        self.input_grad = None if input_grad is None else bool(input_grad)

    # -------------------------------------------------------------- passes
    def forward(self, x):
        x = as_float_array(x, self.W.data.dtype, "Conv2d input")
        _check_image(x, "Conv2d input", self.in_channels, self.kernel_size, self.padding)
        xp_ = _pad(x, self.padding)
        win = windows(xp_, self.kernel_size, self.stride)          # (N, C, Ho, Wo, kh, kw)
        n, c, ho, wo, kh, kw = win.shape
        # one copy into GEMM layout (C·kh·kw, N·Ho·Wo): the copy runs along image rows
        # (unit stride), and the product's rows are whole output maps
        xp = get_array_module(x)
        cols6 = self._buffer("cols", (c, kh, kw, n, ho, wo), x.dtype, xp)
        xp.copyto(cols6, win.transpose(1, 4, 5, 0, 2, 3))
        cols = cols6.reshape(c * kh * kw, -1)
        y = self.W.data.reshape(self.out_channels, -1) @ cols       # (out, N·Ho·Wo)
        if self.b is not None:
            y += self.b.data[:, None]
        self._cols, self._padded_shape, self._out_hw = cols, xp_.shape, (ho, wo)
        return y.reshape(self.out_channels, n, ho, wo).transpose(1, 0, 2, 3)

    def _buffer(self, name, shape, dtype, xp):
        """A work array kept between calls: large im2col matrices are not re-allocated
        (and page-faulted) every batch."""
        bufs = self.__dict__.setdefault("_buffers", {})
        buf = bufs.get(name)
        # a model loaded read-only (joblib's memory map of a pickled estimator) has read-only buffers
        if buf is None or buf.shape != shape or buf.dtype != dtype or get_array_module(buf) is not xp \
                or not getattr(buf.flags, "writeable", True):
            buf = bufs[name] = xp.empty(shape, dtype=dtype)
        return buf

    def _rows(self, dy):
        """``dy (N, out, Ho, Wo)`` as ``(out, N·Ho·Wo)`` (free when dy has the forward's layout)."""
        return dy.transpose(1, 0, 2, 3).reshape(self.out_channels, -1)

    def _grad_to_image(self, rows, W2):
        """col2im of ``W2ᵀ rows``: back to ``(N, C, H, W)`` without the padding.

        The sum runs in channel-major ``(C, N, H, W)`` memory, where every added
        slice is a contiguous block of the product; the result is a transposed view.
        """
        n, c, hp, wp = self._padded_shape
        ho, wo = self._out_hw
        kh, kw = self.kernel_size
        xp = get_array_module(rows)
        dcols = self._buffer("dcols", (c * kh * kw, rows.shape[1]), rows.dtype, xp)
        xp.matmul(W2.T, rows, out=dcols)
        dcols = dcols.reshape(c, kh, kw, n, ho, wo).transpose(0, 3, 4, 5, 1, 2)
        dx = col2im(dcols, (c, n, hp, wp), self.stride).transpose(1, 0, 2, 3)
        return _unpad(dx, self.padding)

    def _upstream(self, d, name):
        s = getattr(self, "_padded_shape", None)
        return check_upstream(d, s, (0,) if s is None else (s[0], self.out_channels, *self._out_hw), name)

    def backward(self, dy, input_grad=None):
        """``∂E/∂W = Σ_pixels ∂E/∂y · x_window``, ``∂E/∂b = Σ ∂E/∂y``, ``∂E/∂x = col2im(Wᵀ ∂E/∂y)``."""
        dy = self._upstream(as_float_array(dy, self.W.data.dtype, "Conv2d gradient"), "Conv2d gradient")
        rows = self._rows(dy)
        self.W.accumulate_grad_matmul(rows, self._cols.T)
        if self.W.mask is not None:
            self.W.grad *= self.W.mask
        if self.b is not None:
            self.b.accumulate_grad_sum(rows, 1)
        if not wants_input_grad(self.input_grad, input_grad):
            return None
        return self._grad_to_image(rows, self.W.data.reshape(self.out_channels, -1))

    def backward_curvature(self, d2y):
        """Diagonal Gauss-Newton: ``∂²E/∂W² = Σ x²·∂²E/∂y²``, ``∂²E/∂x² = col2im((W²)ᵀ ∂²E/∂y²)``."""
        d2y = self._upstream(as_float_array(d2y, self.W.data.dtype, "Conv2d curvature"), "Conv2d curvature")
        rows = self._rows(d2y)
        cW = (rows @ (self._cols * self._cols).T).reshape(self.W.data.shape)
        if self.W.mask is not None:
            cW *= self.W.mask
        self.W.add_curv(cW)
        if self.b is not None:
            self.b.add_curv(rows.sum(axis=1))
        if self.input_grad is False:
            return None
        W2 = self.W.data.reshape(self.out_channels, -1)
        return self._grad_to_image(rows, W2 * W2)


def _init_kernels(init, shape, fan_in, rng):
    """Kernels with per-output-map fan-in ``fan_in (out,)`` (connected inputs × kh × kw)."""
    out = shape[0]
    fan_out = shape[0] * shape[2] * shape[3]
    fan = fan_in.reshape(out, 1, 1, 1).astype(np.float64)
    if init == "lecun":
        limit = np.sqrt(3.0 / fan)                      # Var = 1/F_in
        return rng.uniform(-1.0, 1.0, shape) * limit
    if init == "glorot":
        limit = np.sqrt(6.0 / (fan + fan_out))
        return rng.uniform(-1.0, 1.0, shape) * limit
    if init == "he":
        return rng.standard_normal(shape) * np.sqrt(2.0 / fan)
    raise ValueError(f"init must be 'lecun', 'glorot' or 'he', got {init!r}")


# ---------------------------------------------------------------- Flatten
class ScaledTanh(Module):
    """LeCun's squashing function ``f(a) = A·tanh(S·a)``, ``A = 1.7159``, ``S = 2/3``.

    Chosen so that ``f(±1) = ±1`` and the gain is largest near the targets ±1.
    ``f'(a) = A·S·(1 − tanh²(S·a))``; curvature (Gauss-Newton) ``∂²E/∂a² = f'(a)²·∂²E/∂y²``.
    """

    def __init__(self, A: float = 1.7159, S: float = 2.0 / 3.0):
        self.A = float(A)
        self.S = float(S)

    def forward(self, x):
        xp = get_array_module(x)
        x = xp.asarray(x)
        if x.dtype.kind != "f":
            x = as_float_array(x, get_default_dtype(), "ScaledTanh input")
        self._t = xp.tanh(self.S * x)
        return self.A * self._t

    def _slope(self):
        return (self.A * self.S) * (1.0 - self._t * self._t)

    def backward(self, dy):
        dy = get_array_module(dy).asarray(dy)
        return kernels.tanh_backward(dy, self._t, self.A * self.S, get_array_module(dy).empty_like(dy))

    def backward_curvature(self, d2y):
        g = self._slope()
        return d2y * g * g
