"""The element-wise kernels for CuPy arrays: one ``cupy.ElementwiseKernel`` launch per call.

The GPU counterpart of :mod:`.numba_kernels` (same functions, same arguments; the
wrapper in :mod:`neuronet.kernels` passes contiguous arrays of one dtype and shape).
Each kernel is compiled for the arrays' dtype ``T`` at its first call (CuPy keeps the
binary in its on-disk cache); scalars are cast to ``T``, as NumPy casts a Python float
against a float32 array. Formulas: :mod:`.numpy_kernels`, the reference these must
equal. Never run here: no GPU was lent to this work; ``tests/optim/test_kernels.py``
and ``tests/energy/test_energy_gpu.py`` compare them with NumPy on a GPU.
"""
from __future__ import annotations

import functools

_MOMENTUM = "T b = mu * buf + g; buf = b; "

#: name -> (input parameters, output parameters, loop body); outputs are read and written
_SOURCES = {
    "sigmoid": ("T x", "T out", "out = (T)1 / ((T)1 + exp(-x))"),
    "relu_backward": ("T dy, T y", "T out", "out = dy * (T)(y > (T)0)"),
    "tanh_backward": ("T dy, T t, T gain", "T out", "out = ((T)1 - t * t) * dy * gain"),
    "sigmoid_backward": ("T dy, T y", "T out", "out = ((T)1 - y) * y * dy"),
    "sgd_step": ("T g, T lr", "T w", "w -= lr * g"),
    "momentum_step": ("T g, T lr, T mu", "T w, T buf", _MOMENTUM + "w -= lr * b"),
    "nesterov_step": ("T g, T lr, T mu", "T w, T buf", _MOMENTUM + "w -= lr * g + (lr * mu) * b"),
    "adadelta_step": ("T g, T lr, T rho, T eps", "T w, T sq, T acc",
                      "T s = rho * sq + ((T)1 - rho) * g * g; sq = s; "
                      "T d = sqrt(acc + eps) / sqrt(s + eps) * g; "
                      "acc = rho * acc + ((T)1 - rho) * d * d; w -= lr * d"),
    "adam_step": ("T g, T lr_m, T b1, T b2, T eps, T inv_bc2_sqrt, T lr_g", "T w, T m, T v",
                  "T mi = b1 * m + ((T)1 - b1) * g; T vi = b2 * v + ((T)1 - b2) * g * g; "
                  "m = mi; v = vi; w -= (lr_m * mi + lr_g * g) / (sqrt(vi) * inv_bc2_sqrt + eps)"),
}


def _rmsprop_source(centered: bool, use_buf: bool):
    """RMSProp with or without the centred mean and the momentum buffer (four kernels)."""
    outputs = "T w, T sq" + (", T ga" if centered else "") + (", T buf" if use_buf else "")
    body = "T s = alpha * sq + ((T)1 - alpha) * g * g; sq = s; "
    if centered:
        body += "T a = alpha * ga + ((T)1 - alpha) * g; ga = a; s = s - a * a; "
    body += "T step = g / (sqrt(s) + eps); "
    if use_buf:
        body += "step = mu * buf + step; buf = step; "
    return "T g, T lr, T alpha, T eps, T mu", outputs, body + "w -= lr * step"


for _c in (False, True):
    for _b in (False, True):
        _SOURCES[f"rmsprop_{int(_c)}{int(_b)}"] = _rmsprop_source(_c, _b)


@functools.lru_cache(maxsize=None)
def _kernel(name: str):
    import cupy  # here: the sources above are readable (and tested) without CuPy

    inputs, outputs, body = _SOURCES[name]
    return cupy.ElementwiseKernel(inputs, outputs, body, f"neuronet_{name}")


def sigmoid(x, out):
    _kernel("sigmoid")(x, out)


def relu_backward(dy, y, out):
    _kernel("relu_backward")(dy, y, out)


def tanh_backward(dy, t, gain, out):
    _kernel("tanh_backward")(dy, t, gain, out)


def sigmoid_backward(dy, y, out):
    _kernel("sigmoid_backward")(dy, y, out)


def sgd_step(w, g, lr):
    _kernel("sgd_step")(g, lr, w)


def momentum_step(w, buf, g, lr, mu, nesterov):
    _kernel("nesterov_step" if nesterov else "momentum_step")(g, lr, mu, w, buf)


def rmsprop_step(w, sq, g, lr, alpha, eps, grad_avg, buf, mu, centered, use_buf):
    outputs = [w, sq] + ([grad_avg] if centered else []) + ([buf] if use_buf else [])
    _kernel(f"rmsprop_{int(centered)}{int(use_buf)}")(g, lr, alpha, eps, mu, *outputs)


def adadelta_step(w, sq, acc, g, lr, rho, eps):
    _kernel("adadelta_step")(g, lr, rho, eps, w, sq, acc)


def adam_step(w, m, v, g, lr_m, b1, b2, eps, inv_bc2_sqrt, lr_g):
    _kernel("adam_step")(g, lr_m, b1, b2, eps, inv_bc2_sqrt, lr_g, w, m, v)
