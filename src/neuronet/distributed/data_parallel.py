"""Data-parallel training: every rank holds the whole model and a shard of each batch.

With ``R`` ranks, rank ``r`` computes the mean gradient ``g_r`` of its ``n_r``
rows of a global batch of ``n = Σ_r n_r`` rows. :class:`DataParallel` wraps any
:mod:`neuronet.optim` optimiser; its ``step()`` packs ``[n_r·g_r, n_r, n_r·L_r]``
into one flat buffer, sums it over the ranks with one in-place allreduce and
hands the optimiser the combined batch's gradient::

    g = Σ_r n_r g_r / Σ_r n_r

so every rank makes the same update, the one a single process would make on
the whole batch (the loss ``L = Σ_r n_r L_r / n`` comes along for free). The
parameters are broadcast from rank 0 when the wrapper is built, so all ranks
start equal and stay equal. Energy models train the same way: their CD/PCD
statistics are gradients in ``Parameter.grad`` (each rank keeps its own
persistent chains).
"""
from __future__ import annotations

import time

import numpy as np

from ..backend import asnumpy, get_array_module
from ..validation import check_int
from .comm import Communicator, get_communicator

__all__ = ["DataParallel", "broadcast_parameters", "shard", "flat_buffer", "rank_generator"]


def flat_buffer(arrays, extra: int = 0, dtype=None) -> np.ndarray:
    """One contiguous host array long enough for ``arrays`` (and ``extra`` more numbers)."""
    dtype = np.result_type(*[a.dtype for a in arrays]) if dtype is None else dtype
    return np.empty(sum(int(a.size) for a in arrays) + check_int(extra, "extra", minimum=0), dtype=dtype)


def _pack(arrays, buffer, scale=1.0) -> int:
    i = 0
    for a in arrays:
        part = buffer[i:i + a.size].reshape(a.shape)
        part[...] = asnumpy(a)
        if scale != 1.0:
            part *= scale
        i += a.size
    return i


def _unpack(buffer, arrays, scale=1.0) -> None:
    i = 0
    for a in arrays:
        part = buffer[i:i + a.size].reshape(a.shape)
        xp = get_array_module(a)
        a[...] = xp.asarray(part * scale if scale != 1.0 else part)
        i += a.size


def broadcast_parameters(params, comm: Communicator, root: int = 0) -> None:
    """Copy ``root``'s parameter values to every rank (one broadcast of one flat buffer)."""
    if comm.size == 1:
        return
    data = [p.data for p in params]
    buffer = flat_buffer(data)
    _pack(data, buffer)
    comm.broadcast(buffer, root)
    _unpack(buffer, data)


def shard(indices, comm: Communicator):
    """This rank's contiguous part of ``indices`` (a global batch): sizes differ by at most one."""
    n = len(indices)
    lo = comm.rank * n // comm.size
    hi = (comm.rank + 1) * n // comm.size
    return indices[lo:hi]


def rank_generator(rng, comm: Communicator):
    """This rank's own random stream for sampling (Gibbs chains, dropout masks).

    ``rng`` must be in the same state on every rank (the loop's, after it was
    broadcast from rank 0); one draw ``s`` from it gives rank ``r`` the ``r``-th
    child of ``SeedSequence(s)``, so the streams differ between ranks and the
    whole run is fixed by rank 0's seed. One process: ``rng`` itself.
    """
    if comm.size == 1:
        return rng
    children = np.random.SeedSequence(int(rng.integers(2**63))).spawn(comm.size)
    return np.random.default_rng(children[comm.rank])


class DataParallel:
    """``optimizer`` whose ``step()`` first averages the gradients over the ranks.

    ``count`` is this rank's number of rows in the current batch (the loop sets
    it; equal shards may leave it at 1) and ``loss`` its mean loss; after
    ``reduce()`` or ``step()``, ``global_loss`` and ``global_count`` hold the
    combined batch's (the loop reduces first, so that every rank sees the same
    loss before deciding whether training diverged). ``allreduce_calls`` and
    ``allreduce_seconds`` count the collectives and the time spent in them.
    Everything else (``lr``, ``state_dict``, ``t``, ``zero_grad``) is the
    wrapped optimiser's, so schedules and checkpoints see no difference.
    """

    def __init__(self, optimizer, comm=None, broadcast: bool = True):
        if not hasattr(optimizer, "step") or not hasattr(optimizer, "params"):
            raise TypeError(f"optimizer must be a neuronet.optim optimiser, got {type(optimizer).__name__}")
        if isinstance(optimizer, DataParallel):
            raise TypeError("optimizer is already DataParallel")
        self.__dict__["optimizer"] = optimizer
        self.__dict__["comm"] = get_communicator(comm)
        grads = [p.grad for p in optimizer.params]
        self.__dict__["_buffer"] = flat_buffer(grads, extra=3, dtype=np.float64
                                               if not grads else np.result_type(*[g.dtype for g in grads]))
        self.__dict__.update(count=1, loss=None, global_count=1, global_loss=None, allreduce_calls=0,
                             allreduce_seconds=0.0, reduced=False)
        if broadcast:
            broadcast_parameters(optimizer.params, self.comm)

    def reduce(self, count=None, loss=None):
        """Sum ``[n_r·g_r, n_r, n_r·L_r]`` over the ranks (one allreduce), then
        ``p.grad := Σ_r n_r g_r / Σ_r n_r`` on every rank; returns the combined
        batch's loss ``Σ_r n_r L_r / Σ_r n_r`` (None when no rank gave one).
        ``step()`` then applies the rule without reducing again."""
        if count is not None:
            self.count = count
        if loss is not None or count is not None:
            self.loss = loss
        grads = [p.grad for p in self.optimizer.params]
        buffer, n = self._buffer, float(self.count)
        has_loss = self.loss is not None and n > 0
        end = _pack(grads, buffer, scale=n)
        buffer[end:end + 3] = n, n * float(self.loss) if has_loss else 0.0, n if has_loss else 0.0
        t0 = time.perf_counter()
        self.comm.allreduce(buffer)
        self.__dict__["allreduce_seconds"] += time.perf_counter() - t0
        total, loss_sum, loss_count = (float(v) for v in buffer[end:end + 3])
        if total == 0:
            raise ValueError("DataParallel.reduce: no rank had any rows in this batch")
        _unpack(buffer, grads, scale=1.0 / total)
        self.__dict__.update(global_count=total, reduced=True, allreduce_calls=self.allreduce_calls + 1,
                             global_loss=loss_sum / loss_count if loss_count else None)
        return self.global_loss

    def step(self) -> None:
        """Average the gradients over the ranks (unless :meth:`reduce` just did), then update."""
        if not self.reduced:
            if self.comm.size > 1:
                self.reduce()
            else:
                self.__dict__.update(global_count=self.count, global_loss=self.loss)
        self.__dict__["reduced"] = False
        self.optimizer.step()

    def __getattr__(self, name):
        return getattr(self.__dict__["optimizer"], name)

    def __setattr__(self, name, value):
        if name in self.__dict__ or name in ("count", "loss"):
            self.__dict__[name] = value
        else:  # lr and the rule's hyper-parameters belong to the wrapped optimiser
            setattr(self.optimizer, name, value)

    def __repr__(self):
        return f"DataParallel({self.optimizer!r}, {self.comm!r})"
