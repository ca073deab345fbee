"""Units that act in groups or blocks, and :func:`make_units`, which builds any unit type.

* :class:`SoftmaxUnits`: groups of ``K`` mutually exclusive units, one of them on
  (``P(s_k = 1 | x) = e^{x_k} / Σ_l e^{x_l}``), e.g. the label units of a DBN's top RBM;
* :class:`CompositeUnits`: a layer of consecutive blocks of different types
  (``'bernoulli*784+softmax:10*10'``): sums of the blocks' energy terms and
  log-partitions, concatenations of their means, samples and biases.
"""
from __future__ import annotations

import numpy as np

from ..backend import get_array_module
from ..random import generator_for
from .units import UNITS, Units, _store, _xlogx

__all__ = ["SoftmaxUnits", "CompositeUnits", "make_units"]


class SoftmaxUnits(Units):
    """Groups of ``K`` mutually exclusive binary units (one-hot), e.g. class labels.

    A layer of ``n`` units is ``n / K`` groups; in each group exactly one unit is
    on, ``P(s_k = 1 | x) = e^{x_k} / Σ_l e^{x_l}``, ``β = 0``.
    """

    name = "softmax"
    discrete = True

    def __init__(self, group_size: int):
        if isinstance(group_size, bool) or not isinstance(group_size, (int, np.integer)) or group_size < 2:
            raise ValueError(f"group_size of softmax units must be an int >= 2, got {group_size!r}")
        self.group_size = int(group_size)

    def spec(self):
        return f"softmax:{self.group_size}"

    def __repr__(self):
        return f"SoftmaxUnits({self.group_size})"

    def _groups(self, x):
        n = x.shape[1]
        if n % self.group_size:
            raise ValueError(f"a layer of softmax units needs a multiple of {self.group_size} units, got {n}")
        return x.reshape(x.shape[0], n // self.group_size, self.group_size)

    def mean(self, x, out=None):
        xp = get_array_module(x)
        g = self._groups(x)
        e = xp.exp(g - g.max(axis=2, keepdims=True))
        e /= e.sum(axis=2, keepdims=True)
        return _store(e.reshape(x.shape), out)

    def sample(self, mean, rng, out=None):
        xp = get_array_module(mean)
        p = self._groups(mean)
        u = generator_for(rng, xp).random(p.shape[:2] + (1,), dtype=mean.dtype)
        k = (u > xp.cumsum(p, axis=2)).sum(axis=2)
        k = xp.minimum(k, self.group_size - 1)
        onehot = (k[..., None] == xp.arange(self.group_size)).astype(mean.dtype)
        return _store(onehot.reshape(mean.shape), out)

    def log_partition(self, x):
        xp = get_array_module(x)
        g = self._groups(x)
        m = g.max(axis=2, keepdims=True)
        return (m[..., 0] + xp.log(xp.exp(g - m).sum(axis=2))).sum(axis=1)

    def entropy(self, mean):
        """``−Σ_k q_k log q_k`` summed over the groups (``0 log 0 = 0``)."""
        return -_xlogx(mean).sum(axis=1)

    def check(self, x, name="data"):
        xp = get_array_module(x)
        lo, hi = float(xp.min(x)), float(xp.max(x))
        if lo < 0 or hi > 1:
            raise ValueError(f"{name} for softmax units must lie in [0, 1], got [{lo:g}, {hi:g}]")
        sums = self._groups(x).sum(axis=2)
        if not bool(xp.allclose(sums, 1, atol=1e-4)):
            raise ValueError(f"{name} for softmax units must sum to 1 in each group of "
                             f"{self.group_size}, got group sums in [{float(sums.min()):g}, {float(sums.max()):g}]")

    def init_bias(self, x):
        xp = get_array_module(x)
        return xp.log(xp.clip(x.mean(axis=0), 1e-3, None))

    def n_states(self, n):
        return self.group_size ** (n // self.group_size)

    def state_rows(self, n, index, dtype=np.float64):
        g, k = n // self.group_size, self.group_size
        xp = get_array_module(index)
        digits = (index[:, None] // k ** xp.arange(g, dtype=np.int64)) % k
        return (digits[..., None] == xp.arange(k)).reshape(len(index), n).astype(dtype)


class CompositeUnits(Units):
    """A layer made of consecutive blocks of different unit types, e.g. 784 Bernoulli
    pixels followed by a softmax group of 10 label units (Hinton et al. 2006's top RBM).

    Given by a spec ``'bernoulli*784+softmax:10*10'`` (type ``*`` count, joined by
    ``+``) or a list of ``(units, count)``. Every quantity is the sum (energy terms,
    log-partitions) or the concatenation (means, samples, biases) over the blocks.
    """

    name = "composite"

    def __init__(self, parts):
        self.parts = [(make_units(u), int(n)) for u, n in parts]
        if len(self.parts) < 1 or any(n < 1 for _, n in self.parts):
            raise ValueError(f"composite units need blocks with at least one unit, got {parts!r}")
        for u, n in self.parts:
            if hasattr(u, "group_size") and n % u.group_size:
                raise ValueError(f"a block of {u.spec()} units needs a multiple of {u.group_size} units, got {n}")
        edges = np.cumsum([0] + [n for _, n in self.parts])
        self.slices = [slice(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]
        self.n_units = int(edges[-1])
        self.discrete = all(u.discrete for u, _ in self.parts)

    def spec(self):
        return "+".join(f"{u.spec()}*{n}" for u, n in self.parts)

    def __repr__(self):
        return f"CompositeUnits({self.spec()!r})"

    def _blocks(self, x):
        if x.shape[1] != self.n_units:
            raise ValueError(f"composite units {self.spec()!r} need {self.n_units} units, got shape {tuple(x.shape)}")
        return zip((u for u, _ in self.parts), self.slices)

    def mean(self, x, out=None):
        out = get_array_module(x).empty_like(x) if out is None else out
        for u, sl in self._blocks(x):
            out[:, sl] = u.mean(x[:, sl])
        return out

    def sample(self, mean, rng, out=None):
        out = get_array_module(mean).empty_like(mean) if out is None else out
        for u, sl in self._blocks(mean):
            out[:, sl] = u.sample(mean[:, sl], rng)
        return out

    def base_energy(self, s):
        return sum(u.base_energy(s[:, sl]) for u, sl in self._blocks(s))

    def log_partition(self, x):
        return sum(u.log_partition(x[:, sl]) for u, sl in self._blocks(x))

    def check(self, x, name="data"):
        for u, sl in self._blocks(x):
            u.check(x[:, sl], f"{name}[:, {sl.start}:{sl.stop}]")

    def warn_if_unsuitable(self, x, name="data"):
        for u, sl in self._blocks(x):
            u.warn_if_unsuitable(x[:, sl], f"{name}[:, {sl.start}:{sl.stop}]")

    def init_bias(self, x):
        return get_array_module(x).concatenate([u.init_bias(x[:, sl]) for u, sl in self._blocks(x)])

    def n_states(self, n):
        out = 1
        for u, k in self.parts:
            out *= u.n_states(k)
        return out

    def state_rows(self, n, index, dtype=np.float64):
        rows, stride = [], 1
        for u, k in self.parts:  # mixed radix: the first block varies fastest
            m = u.n_states(k)
            rows.append(u.state_rows(k, (index // stride) % m, dtype))
            stride *= m
        return get_array_module(index).concatenate(rows, axis=1)


def make_units(spec) -> Units:
    """A :class:`Units` from a name (``'bernoulli'``, ``'gaussian'``, ``'poisson'``,
    ``'softmax:K'``) or an instance (returned as is)."""
    if isinstance(spec, Units):
        return spec
    if not isinstance(spec, str):
        raise TypeError(f"units must be a name or a Units instance, got {type(spec).__name__}")
    key = spec.strip().lower().replace(" ", "")
    if "*" in key:  # 'bernoulli*784+softmax:10*10'
        parts = []
        for block in key.split("+"):
            name, _, count = block.rpartition("*")
            if not count.isdigit() or not name:
                raise ValueError(f"composite units are given as 'type*count+type*count', got block {block!r}")
            parts.append((make_units(name), int(count)))
        return CompositeUnits(parts)
    if key.startswith("softmax"):
        _, _, k = key.partition(":")
        if not k.isdigit():
            raise ValueError(f"softmax units are given as 'softmax:K' with the group size K, got {spec!r}")
        return SoftmaxUnits(int(k))
    if key not in UNITS:
        raise ValueError(f"unknown unit type {spec!r}; expected one of 'bernoulli', 'gaussian', "
                         f"'poisson', 'softmax:K'")
    return UNITS[key]()
