"""Weight initialisation (MISSION A6).

Each initialiser returns a new array of ``shape`` in ``dtype`` (the default
dtype, float32, unless given). For a weight matrix of shape ``(n_in, n_out)``
(or a convolution kernel ``(C_out, C_in, kh, kw)``) the fan-in and fan-out are
computed by :func:`fans`.

* ``normal``: ``w ~ N(0, σ²)`` with σ chosen by the user (the lecture's 0.01);
* ``glorot``: Glorot & Bengio (2010), variance ``2 / (fan_in + fan_out)``;
  uniform on ``[-a, a]`` with ``a = sqrt(6 / (fan_in + fan_out))`` by default;
* ``he``: He et al. (2015) for ReLU nets, ``w ~ N(0, 2 / fan_in)`` by default;
* ``zeros``: all weights equal, the lecture's counter-example: every hidden
  neuron then gets the same gradient and they stay identical forever.
"""
from __future__ import annotations

import math

import numpy as np

from .backend import get_default_dtype
from .random import make_rng

__all__ = ["normal", "glorot", "he", "zeros", "fans", "initialize"]


def fans(shape) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of ``shape``.

    ``(n_in, n_out)`` for a dense matrix; for ``(C_out, C_in, *kernel)`` the
    kernel size multiplies both (PyTorch's convention); a vector has both = its size.
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _dtype(dtype):
    return np.dtype(get_default_dtype() if dtype is None else dtype)


def normal(shape, std: float = 0.01, rng=None, seed=None, dtype=None):
    """``w ~ N(0, std²)``: small random weights (lecture: σ = 0.01)."""
    if std < 0:
        raise ValueError(f"std must be >= 0, got {std}")
    gen = make_rng(rng, seed)
    return (gen.standard_normal(tuple(shape)) * std).astype(_dtype(dtype))


def glorot(shape, rng=None, seed=None, dtype=None, distribution: str = "uniform", gain: float = 1.0):
    """Glorot/Xavier: ``Var w = gain² · 2 / (fan_in + fan_out)``.

    ``distribution='uniform'``: ``U(-a, a)``, ``a = gain·sqrt(6/(fan_in+fan_out))``;
    ``'normal'``: ``N(0, gain²·2/(fan_in+fan_out))``.
    """
    fan_in, fan_out = fans(shape)
    gen = make_rng(rng, seed)
    if distribution == "uniform":
        a = gain * math.sqrt(6.0 / (fan_in + fan_out))
        w = gen.uniform(-a, a, size=tuple(shape))
    elif distribution == "normal":
        w = gen.standard_normal(tuple(shape)) * (gain * math.sqrt(2.0 / (fan_in + fan_out)))
    else:
        raise ValueError(f"distribution must be 'uniform' or 'normal', got {distribution!r}")
    return w.astype(_dtype(dtype))


def he(shape, rng=None, seed=None, dtype=None, distribution: str = "normal"):
    """He/Kaiming for ReLU: ``Var w = 2 / fan_in``.

    ``'normal'``: ``N(0, 2/fan_in)``; ``'uniform'``: ``U(-a, a)``, ``a = sqrt(6/fan_in)``.
    """
    fan_in, _ = fans(shape)
    gen = make_rng(rng, seed)
    if distribution == "normal":
        w = gen.standard_normal(tuple(shape)) * math.sqrt(2.0 / fan_in)
    elif distribution == "uniform":
        a = math.sqrt(6.0 / fan_in)
        w = gen.uniform(-a, a, size=tuple(shape))
    else:
        raise ValueError(f"distribution must be 'normal' or 'uniform', got {distribution!r}")
    return w.astype(_dtype(dtype))


def zeros(shape, rng=None, seed=None, dtype=None):
    """All zeros (``rng``/``seed`` accepted and ignored, for a uniform signature)."""
    return np.zeros(tuple(shape), dtype=_dtype(dtype))


_BY_NAME = {"normal": normal, "glorot": glorot, "xavier": glorot, "he": he, "kaiming": he,
            "zeros": zeros}


def initialize(init, shape, rng=None, dtype=None, std: float | None = None):
    """Weights of ``shape`` from an initialiser given by name or number.

    ``init`` is ``'glorot'``, ``'he'``, ``'normal'`` (σ = ``std``, default 0.01),
    ``'zeros'``, or a float σ meaning ``normal`` with that σ.
    """
    if isinstance(init, (int, float)) and not isinstance(init, bool):
        return normal(shape, float(init), rng=rng, dtype=dtype)
    if not isinstance(init, str) or init.lower() not in _BY_NAME:
        raise ValueError(f"init must be one of {sorted(_BY_NAME)} or a float σ, got {init!r}")
    name = init.lower()
    if name == "normal":
        return normal(shape, 0.01 if std is None else std, rng=rng, dtype=dtype)
    return _BY_NAME[name](shape, rng=rng, dtype=dtype)
