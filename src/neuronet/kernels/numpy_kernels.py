"""The element-wise kernels in NumPy (or CuPy: every function takes ``xp`` from its arrays).

The reference and the fallback of :mod:`neuronet.kernels`: each writes into the arrays
it is given, with at most one scratch array, and is what the compiled kernels must
equal. Formulas are in :mod:`neuronet.kernels`' docstrings of the same names.
"""
from __future__ import annotations

import numpy as np

from ..backend import get_array_module


def sigmoid(x, out):
    xp = get_array_module(x)
    with np.errstate(over="ignore"):  # e^{-x} = ∞ gives σ = 0, the correctly rounded value
        xp.negative(x, out=out)
        xp.exp(out, out=out)
    out += 1
    xp.reciprocal(out, out=out)
    return out


def relu_backward(dy, y, out):
    xp = get_array_module(dy)
    return xp.multiply(dy, y > 0, out=out)


def tanh_backward(dy, t, gain, out):
    """``out = gain · (1 − t²) ⊙ dy``."""
    xp = get_array_module(dy)
    xp.multiply(t, t, out=out)
    xp.subtract(1, out, out=out)
    out *= dy
    if gain != 1.0:
        out *= gain
    return out


def sigmoid_backward(dy, y, out):
    """``out = y (1 − y) ⊙ dy``."""
    xp = get_array_module(dy)
    xp.subtract(1, y, out=out)
    out *= y
    out *= dy
    return out


def sgd_step(w, g, lr):
    w -= lr * g


def momentum_step(w, buf, g, lr, mu, nesterov):
    buf *= mu
    buf += g
    if nesterov:
        w -= lr * g
        w -= (lr * mu) * buf
    else:
        w -= lr * buf


def rmsprop_step(w, sq, g, lr, alpha, eps, grad_avg=None, buf=None, mu=0.0):
    xp = get_array_module(w)
    sq *= alpha
    sq += (1 - alpha) * g * g
    if grad_avg is not None:
        grad_avg *= alpha
        grad_avg += (1 - alpha) * g
        denom = xp.sqrt(sq - grad_avg * grad_avg)
    else:
        denom = xp.sqrt(sq)
    denom += eps
    xp.divide(g, denom, out=denom)
    if buf is not None:
        buf *= mu
        buf += denom
        denom = buf
    w -= lr * denom


def adadelta_step(w, sq, acc, g, lr, rho, eps):
    xp = get_array_module(w)
    sq *= rho
    sq += (1 - rho) * g * g
    delta = xp.sqrt(acc + eps)
    delta /= xp.sqrt(sq + eps)
    delta *= g
    acc *= rho
    acc += (1 - rho) * delta * delta
    w -= lr * delta


def adam_step(w, m, v, g, lr_m, b1, b2, eps, inv_bc2_sqrt, lr_g=0.0):
    """``m = b1 m + (1−b1) g``, ``v = b2 v + (1−b2) g²``, ``d = √v·inv_bc2_sqrt + eps``,
    ``w −= (lr_m·m + lr_g·g) / d`` (Adam: ``lr_g = 0``; Nadam's look-ahead: ``lr_g ≠ 0``)."""
    xp = get_array_module(w)
    m *= b1
    m += (1 - b1) * g
    v *= b2
    d = g * g
    d *= 1 - b2
    v += d
    xp.sqrt(v, out=d)
    d *= inv_bc2_sqrt
    d += eps
    step = m * lr_m
    if lr_g:
        step += lr_g * g
    step /= d
    w -= step
