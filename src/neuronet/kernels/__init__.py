"""Fused element-wise kernels: activations' derivatives, the sigmoid and every optimiser's update.

Three implementations with one signature each: :mod:`.numpy_kernels` (the reference,
written with ``xp``, and the path for small arrays and any layout the compiled kernels
do not take), :mod:`.numba_kernels` (one pass over memory, serial beside the BLAS's
threads, from the optional extra ``pip install neuronet[fast]``) and, for CuPy arrays, :mod:`.cupy_kernels`
(one ``ElementwiseKernel`` launch each). Which one runs:

* ``NEURONET_KERNELS=numpy`` or ``=numba`` in the environment, or :func:`use` at run
  time (the tests run the key cases both ways); ``'numpy'`` also sends CuPy arrays to
  the ``xp`` expressions of :mod:`.numpy_kernels` instead of the fused GPU kernels;
* by default Numba when it imports, NumPy otherwise (the choice and its numbers are
  in ``docs/architecture.md``); CuPy arrays get :mod:`.cupy_kernels`.

Formulas (``⊙`` element-wise; the optimiser rules are those of :mod:`neuronet.optim`):

* ``sigmoid(x, out)``: ``out = 1/(1 + e^{−x})``;
* ``relu_backward(dy, y, out)``: ``out = dy ⊙ [y > 0]``;
* ``tanh_backward(dy, t, gain, out)``: ``out = gain·(1 − t²) ⊙ dy``;
* ``sigmoid_backward(dy, y, out)``: ``out = y(1 − y) ⊙ dy``;
* ``sgd_step(w, g, lr)``: ``w −= η g``;
* ``momentum_step(w, b, g, lr, mu, nesterov)``: ``b = μb + g``, ``w −= η b`` (Nesterov:
  ``w −= η(g + μb)``);
* ``rmsprop_step``, ``adadelta_step``, ``adam_step``: see :mod:`.numpy_kernels`.
"""
from __future__ import annotations

import os

import numpy as np

from ..backend import get_array_module
from . import numpy_kernels

__all__ = ["use", "active", "describe", "sigmoid", "relu_backward", "tanh_backward", "sigmoid_backward",
           "sgd_step", "momentum_step", "rmsprop_step", "adadelta_step", "adam_step"]

#: below this many elements Numba's call overhead costs more than the fused pass saves
MIN_SIZE = 16384

_STATE = {"name": "numpy", "mod": None, "gpu": True}


def _load_numba():
    try:
        from . import numba_kernels
    except ImportError:  # the optional extra is not installed
        return None
    return numba_kernels


def use(name: str) -> str:
    """Select the kernels: ``'numba'``, ``'numpy'`` or ``'auto'`` (Numba when installed).
    Returns the name in effect; asking for Numba without it installed is a ValueError."""
    if name not in ("numba", "numpy", "auto"):
        raise ValueError(f"kernels must be 'numba', 'numpy' or 'auto', got {name!r}")
    mod = None if name == "numpy" else _load_numba()
    if name == "numba" and mod is None:
        raise ValueError("kernels 'numba' need Numba: pip install 'neuronet[fast]'")
    _STATE["name"], _STATE["mod"] = ("numba", mod) if mod is not None else ("numpy", None)
    _STATE["gpu"] = name != "numpy"
    return _STATE["name"]


def active() -> str:
    """``'numba'`` or ``'numpy'``."""
    return _STATE["name"]


def describe() -> str:
    """One line for benchmark reports: which kernels run, with how many threads."""
    if _STATE["mod"] is None:
        return "NumPy"
    import numba

    return f"Numba {numba.__version__} (serial kernels)"


def _fast(*arrays):
    """The compiled module when every array is a contiguous float array of one type, dtype and
    shape: Numba for NumPy arrays large enough, the CuPy kernels for CuPy arrays; else None
    (the NumPy kernels run)."""
    first = arrays[0]
    if type(first) is np.ndarray:
        mod = _STATE["mod"] if first.size >= MIN_SIZE else None
    elif _STATE["gpu"] and get_array_module(first) is not np:
        from . import cupy_kernels as mod
    else:
        mod = None
    if mod is None or first.dtype.kind != "f":
        return None
    for a in arrays:
        if type(a) is not type(first) or a.dtype != first.dtype or a.shape != first.shape \
                or not a.flags.c_contiguous:
            return None
    return mod


def _flat(*arrays):
    return [a.reshape(-1) for a in arrays]


def sigmoid(x, out):
    # NumPy's float32 exp is vectorised; Numba's calls libm per element and measured
    # 2× slower on one thread (docs/architecture.md), so on the CPU the sigmoid stays on NumPy.
    mod = None if type(x) is np.ndarray else _fast(x, out)
    if mod is None:
        return numpy_kernels.sigmoid(x, out)
    mod.sigmoid(*_flat(x, out))
    return out


def relu_backward(dy, y, out):
    mod = _fast(dy, y, out)
    if mod is None:
        return numpy_kernels.relu_backward(dy, y, out)
    mod.relu_backward(*_flat(dy, y, out))
    return out


def tanh_backward(dy, t, gain, out):
    mod = _fast(dy, t, out)
    if mod is None:
        return numpy_kernels.tanh_backward(dy, t, gain, out)
    a, b, c = _flat(dy, t, out)
    mod.tanh_backward(a, b, float(gain), c)
    return out


def sigmoid_backward(dy, y, out):
    mod = _fast(dy, y, out)
    if mod is None:
        return numpy_kernels.sigmoid_backward(dy, y, out)
    mod.sigmoid_backward(*_flat(dy, y, out))
    return out


def sgd_step(w, g, lr):
    mod = _fast(w, g)
    if mod is None:
        return numpy_kernels.sgd_step(w, g, lr)
    mod.sgd_step(*_flat(w, g), float(lr))


def momentum_step(w, buf, g, lr, mu, nesterov=False):
    mod = _fast(w, buf, g)
    if mod is None:
        return numpy_kernels.momentum_step(w, buf, g, lr, mu, nesterov)
    mod.momentum_step(*_flat(w, buf, g), float(lr), float(mu), bool(nesterov))


def rmsprop_step(w, sq, g, lr, alpha, eps, grad_avg=None, buf=None, mu=0.0):
    extra = [a for a in (grad_avg, buf) if a is not None]
    mod = _fast(w, sq, g, *extra)
    if mod is None:
        return numpy_kernels.rmsprop_step(w, sq, g, lr, alpha, eps, grad_avg, buf, mu)
    fw, fsq, fg = _flat(w, sq, g)
    ga = fsq if grad_avg is None else grad_avg.reshape(-1)  # unused placeholders keep one signature
    fb = fsq if buf is None else buf.reshape(-1)
    mod.rmsprop_step(fw, fsq, fg, float(lr), float(alpha), float(eps), ga, fb, float(mu),
                     grad_avg is not None, buf is not None)


def adadelta_step(w, sq, acc, g, lr, rho, eps):
    mod = _fast(w, sq, acc, g)
    if mod is None:
        return numpy_kernels.adadelta_step(w, sq, acc, g, lr, rho, eps)
    mod.adadelta_step(*_flat(w, sq, acc, g), float(lr), float(rho), float(eps))


def adam_step(w, m, v, g, lr_m, b1, b2, eps, inv_bc2_sqrt, lr_g=0.0):
    mod = _fast(w, m, v, g)
    if mod is None:
        return numpy_kernels.adam_step(w, m, v, g, lr_m, b1, b2, eps, inv_bc2_sqrt, lr_g)
    mod.adam_step(*_flat(w, m, v, g), float(lr_m), float(b1), float(b2), float(eps), float(inv_bc2_sqrt),
                  float(lr_g))


use(os.environ.get("NEURONET_KERNELS", "auto"))
