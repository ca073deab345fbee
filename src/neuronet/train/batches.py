"""Where the loop's batches come from: a seeded order of objects, gathered per batch.

An epoch is one permutation ``π`` of the ``n`` objects (drawn from the loop's RNG,
so a resumed run draws the same orders) cut into ``⌈n / batch_size⌉`` batches::

    B_b = { π(i) : (b − 1)·batch_size ≤ i < b·batch_size }

:class:`ArrayBatches` gathers rows of arrays by index into preallocated buffers
(``take(out=)``): one permutation per epoch plus one copy per batch. Other data
(graphs, streams) subclass :class:`Batches` and override :meth:`Batches.gather`
or :meth:`Batches.epoch`.
"""
from __future__ import annotations

import math

import numpy as np

from ..backend import get_array_module
from ..distributed.data_parallel import shard
from ..validation import check_int

__all__ = ["Batches", "ArrayBatches"]


class Batches:
    """``n`` objects in batches of ``batch_size``, shuffled by the loop's RNG."""

    def __init__(self, n: int, batch_size: int, shuffle: bool = True):
        self.n = check_int(n, "number of training objects", minimum=1)
        self.batch_size = check_int(batch_size, "batch_size", minimum=1)
        self.shuffle = bool(shuffle)
        self.comm = None  # set by a data-parallel loop: each rank gathers its shard of a batch

    def __len__(self) -> int:
        return math.ceil(self.n / self.batch_size)

    def order(self, rng) -> np.ndarray:
        return rng.permutation(self.n) if self.shuffle else np.arange(self.n)

    def epoch(self, rng):
        """The batches of one epoch, in the order drawn from ``rng``."""
        order = self.order(rng)
        for i in range(0, self.n, self.batch_size):
            yield self.gather(self._part(order[i:i + self.batch_size]))

    def _part(self, idx):
        return idx if self.comm is None else shard(idx, self.comm)

    def gather(self, idx):
        """The batch made of the objects ``idx``."""
        raise NotImplementedError

    def size(self, batch) -> int:
        """Number of objects in ``batch`` (weights the epoch's mean metrics)."""
        return len(batch[0])

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


class ArrayBatches(Batches):
    """Rows of one or more arrays (``X`` or ``X, y``), equal in length."""

    def __init__(self, arrays, batch_size: int, shuffle: bool = True):
        arrays = tuple(arrays)
        if not arrays:
            raise ValueError("no training data given")
        for i, a in enumerate(arrays):
            if not hasattr(a, "shape") or a.ndim == 0:
                raise TypeError(f"training data argument {i} must be an array with one row per "
                                f"object, got {type(a).__name__}")
        lengths = [len(a) for a in arrays]
        if len(set(lengths)) != 1:
            raise ValueError(f"training arrays must have the same number of rows, got {lengths}")
        super().__init__(lengths[0], batch_size, shuffle)
        self.arrays = arrays
        m = min(self.batch_size, self.n)
        self._bufs = [get_array_module(a).empty((m,) + a.shape[1:], dtype=a.dtype) for a in arrays]

    def epoch(self, rng):
        order = self.order(rng)
        xp = get_array_module(self.arrays[0])
        order = xp.asarray(order)
        for i in range(0, self.n, self.batch_size):
            yield self.gather(self._part(order[i:i + self.batch_size]))

    def gather(self, idx):
        m = len(idx)
        out = []
        for a, buf in zip(self.arrays, self._bufs):
            get_array_module(a).take(a, idx, axis=0, out=buf[:m])
            out.append(buf[:m])
        return tuple(out)
