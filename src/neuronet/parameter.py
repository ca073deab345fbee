"""Parameter: a trainable array with its gradient, curvature and pruning mask."""
from __future__ import annotations

import numpy as np

from .backend import check_float_dtype, get_array_module

__all__ = ["Parameter"]


class Parameter:
    """A trainable array with its gradient, curvature and pruning mask.

    ``grad`` has the shape of ``data`` and accumulates (``+=``) across backward
    calls until :meth:`zero_grad`. Zeroing is a flag, not a pass over memory:
    after :meth:`zero_grad` the first backward *writes* its gradient
    (:meth:`accumulate_grad`, :meth:`accumulate_grad_matmul`, e.g. ``xᵀε``
    straight into the buffer with ``matmul(..., out=)``) and later ones add.
    Code that reads ``grad`` while the flag is set gets the zeros it expects
    (they are written then), so ``p.grad += g`` and ``p.grad[...] = g`` work as
    before. ``curv`` holds the diagonal ``∂²E/∂w²``, created on first use.
    ``mask`` is ``None`` or a boolean array: weights where it is ``False`` are
    pruned and kept exactly zero by every optimiser. ``decay=False`` exempts the
    parameter from the optimiser's weight cost (``weight_decay``, ``l1``): an
    energy model's biases carry none.
    """

    __slots__ = ("data", "_grad", "_grad_is_zero", "curv", "mask", "name", "decay")

    def __init__(self, data, mask=None, name: str = "", decay: bool = True):
        dtype = data.dtype if hasattr(data, "dtype") else np.asarray(data).dtype
        check_float_dtype(dtype, f"parameter {name} dtype" if name else "parameter dtype")
        xp = get_array_module(data)
        self.data = data
        self._grad = xp.zeros_like(data)
        self._grad_is_zero = False
        self.curv = None
        self.name = name
        self.decay = bool(decay)
        self.mask = None
        if mask is not None:
            self.set_mask(mask)

    @property
    def grad(self):
        """``∂E/∂θ`` accumulated since the last :meth:`zero_grad` (zeros are written on first read)."""
        if self._grad_is_zero:
            self._grad[...] = 0
            self._grad_is_zero = False
        return self._grad

    @grad.setter
    def grad(self, value):
        self._grad = value
        self._grad_is_zero = False

    def accumulate_grad(self, g) -> None:
        """``grad += g``; the first call after :meth:`zero_grad` copies instead (no zeroing pass)."""
        if self._grad_is_zero:
            get_array_module(self._grad).copyto(self._grad, g)
            self._grad_is_zero = False
        else:
            self.grad += g

    def accumulate_grad_matmul(self, a, b) -> None:
        """``grad += a @ b`` (the product reshaped to ``grad``'s shape); the first call after
        :meth:`zero_grad` is one GEMM into ``grad`` (``matmul(..., out=grad)``: no temporary,
        no zeroing pass)."""
        if self._grad_is_zero and self._grad.flags.c_contiguous:
            out = self._grad.reshape(a.shape[:-1] + b.shape[-1:])  # a view: grad is contiguous
            get_array_module(self._grad).matmul(a, b, out=out)
            self._grad_is_zero = False
        else:
            self.grad += (a @ b).reshape(self._grad.shape)

    def accumulate_grad_sum(self, x, axis) -> None:
        """``grad += x.sum(axis)``; the first call after :meth:`zero_grad` sums into ``grad``."""
        if self._grad_is_zero:
            x.sum(axis=axis, out=self._grad)
            self._grad_is_zero = False
        else:
            self.grad += x.sum(axis=axis)

    @property
    def shape(self):
        return self.data.shape

    @property
    def size(self):
        return self.data.size

    def set_mask(self, mask) -> None:
        """Prune where ``mask`` is False: the data there becomes zero and stays so."""
        xp = get_array_module(self.data)
        if mask is None:
            self.mask = None
            return
        mask = xp.asarray(mask, dtype=bool)
        if mask.shape != self.data.shape:
            raise ValueError(f"mask of parameter {self.name or '?'} must have shape "
                             f"{tuple(self.data.shape)}, got {tuple(mask.shape)}")
        self.mask = mask
        self.data *= mask

    def apply_mask(self) -> None:
        """Zero the pruned entries of ``data`` and ``grad`` (no-op without a mask)."""
        if self.mask is not None:
            self.data *= self.mask
            if not self._grad_is_zero:
                self._grad *= self.mask

    def zero_grad(self) -> None:
        """Mark ``grad`` as zero; the next backward writes it (see the class docstring)."""
        self._grad_is_zero = True

    def zero_curv(self) -> None:
        xp = get_array_module(self.data)
        if self.curv is None:
            self.curv = xp.zeros_like(self.data)
        else:
            self.curv[...] = 0

    def add_curv(self, c) -> None:
        """``curv += c``, creating ``curv`` on first use."""
        if self.curv is None:
            self.curv = c.astype(self.data.dtype, copy=True)
        else:
            self.curv += c

    def num_active(self) -> int:
        """Number of weights that are not pruned."""
        return int(self.size if self.mask is None else int(self.mask.sum()))

    def __repr__(self):
        return f"Parameter(name={self.name!r}, shape={tuple(self.shape)}, dtype={self.data.dtype})"
