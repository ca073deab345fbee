"""The element-wise kernels compiled by Numba: one pass over memory, on the calling thread.

Serial on purpose: a second thread pool beside the BLAS's one costs more than it gives.
Measured (``benchmarks/run_all.py``, 2 threads, 2026-12-03): with ``parallel=True`` the
MLP step took 28 ms against 9 ms for the NumPy kernels, and a PCD-1 epoch 8.5 s against
0.74 s, because OpenBLAS's threads still spin after each product while Numba's want
the same two cores; the serial loops ran those at 0.88 and 0.94 × the NumPy kernels.

Every kernel takes 1-D contiguous arrays (the wrapper in :mod:`neuronet.kernels`
passes ``reshape(-1)`` views) and plain floats, and is compiled once per dtype;
``cache=True`` keeps the machine code on disk, so only the first run of a new
install pays the compilation. Formulas: :mod:`neuronet.kernels.numpy_kernels`.
"""
from __future__ import annotations

import math

import numba

jit = numba.njit(cache=True, fastmath=False, nogil=True)


@jit
def relu_backward(dy, y, out):
    for i in range(dy.size):
        out[i] = dy[i] if y[i] > 0 else 0.0


@jit
def tanh_backward(dy, t, gain, out):
    for i in range(dy.size):
        out[i] = gain * (1.0 - t[i] * t[i]) * dy[i]


@jit
def sigmoid_backward(dy, y, out):
    for i in range(dy.size):
        out[i] = y[i] * (1.0 - y[i]) * dy[i]


@jit
def sgd_step(w, g, lr):
    for i in range(w.size):
        w[i] -= lr * g[i]


@jit
def momentum_step(w, buf, g, lr, mu, nesterov):
    for i in range(w.size):
        b = mu * buf[i] + g[i]
        buf[i] = b
        w[i] -= lr * (g[i] + mu * b) if nesterov else lr * b


@jit
def rmsprop_step(w, sq, g, lr, alpha, eps, grad_avg, buf, mu, centered, use_buf):
    for i in range(w.size):
        s = alpha * sq[i] + (1.0 - alpha) * g[i] * g[i]
        sq[i] = s
        if centered:
            a = alpha * grad_avg[i] + (1.0 - alpha) * g[i]
            grad_avg[i] = a
            s = s - a * a
        step = g[i] / (math.sqrt(s) + eps)
        if use_buf:
            step = mu * buf[i] + step
            buf[i] = step
        w[i] -= lr * step


@jit
def adadelta_step(w, sq, acc, g, lr, rho, eps):
    for i in range(w.size):
        s = rho * sq[i] + (1.0 - rho) * g[i] * g[i]
        sq[i] = s
        d = math.sqrt(acc[i] + eps) / math.sqrt(s + eps) * g[i]
        acc[i] = rho * acc[i] + (1.0 - rho) * d * d
        w[i] -= lr * d


@jit
def adam_step(w, m, v, g, lr_m, b1, b2, eps, inv_bc2_sqrt, lr_g):
    for i in range(w.size):
        gi = g[i]
        mi = b1 * m[i] + (1.0 - b1) * gi
        vi = b2 * v[i] + (1.0 - b2) * gi * gi
        m[i] = mi
        v[i] = vi
        w[i] -= (lr_m * mi + lr_g * gi) / (math.sqrt(vi) * inv_bc2_sqrt + eps)
