"""Sums over ranks of statistics that are not gradients, and AIS runs split over ranks.

* :func:`allreduce_sum` adds arrays computed on each rank's rows, e.g. the Deep
  Stacking Network's ``HᵀH`` and ``HᵀT``: ``Σ_r H_rᵀH_r = HᵀH`` for the stacked
  rows, so the upper-layer weights ``U = (HᵀH + λI)⁻¹ HᵀT`` solved from the sums
  are the single-process ones (up to summation order).
* :func:`ais_log_partition` runs ``M`` AIS chains as ``M_r`` per rank (each with
  its own stream of the seed) and pools their log importance weights, so
  ``Ẑ = Z_A · mean(w)`` over all ``M`` chains on every rank.
"""
from __future__ import annotations

import numpy as np

from ..validation import check_int
from .comm import Communicator, get_communicator
from .data_parallel import _pack, _unpack, flat_buffer

__all__ = ["allreduce_sum", "allreduce_ridge_statistics", "split_count", "ais_log_partition"]


def allreduce_sum(arrays, comm=None):
    """Replace each array by its sum over the ranks (one allreduce of one flat buffer).

    Accepts one array or a list of arrays (NumPy or CuPy); returns the same.
    """
    comm = get_communicator(comm)
    single = hasattr(arrays, "shape")
    items = [arrays] if single else list(arrays)
    if comm.size > 1:
        buffer = flat_buffer(items)
        _pack(items, buffer)
        comm.allreduce(buffer)
        _unpack(buffer, items)
    return items[0] if single else items


def allreduce_ridge_statistics(stats, tt: float = 0.0, comm=None):
    """Sum a DSN module's ``RidgeStatistics`` (``HtH``, ``HtT``, row count ``n``) and its
    ``Σ‖T‖²`` (``tt``) over the ranks, in place (one allreduce); returns ``(stats, tt)``."""
    totals = np.array([stats.n, tt], dtype=np.float64)
    allreduce_sum([stats.HtH, stats.HtT, totals], comm)
    stats.n = int(round(totals[0]))
    return stats, float(totals[1])


def split_count(total: int, comm: Communicator) -> int:
    """This rank's share of ``total`` items (shares differ by at most one)."""
    total = check_int(total, "total", minimum=0)
    return (comm.rank + 1) * total // comm.size - comm.rank * total // comm.size


def ais_log_partition(rbm, n_runs: int = 100, comm=None, seed=None, **kwargs):
    """:func:`neuronet.energy.ais_log_partition` with its ``n_runs`` chains split over ranks.

    Rank ``r`` runs its share with the ``r``-th child of ``SeedSequence(seed)``;
    the log-weights of all chains are gathered and pooled on every rank.
    """
    from ..energy import ais  # energy imports the training loop, which imports this package

    comm = get_communicator(comm)
    local = split_count(n_runs, comm)
    if local < 2:
        raise ValueError(f"n_runs={n_runs} gives rank {comm.rank} of {comm.size} fewer than 2 AIS runs")
    child = np.random.SeedSequence(seed).spawn(comm.size)[comm.rank]
    mine = ais.ais_log_partition(rbm, n_runs=local, rng=np.random.default_rng(child), **kwargs)
    log_w = np.concatenate(comm.allgather(mine.log_weights))
    return ais.ais_result(log_w, mine.log_z_base, mine.n_betas)
