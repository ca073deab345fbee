"""The communicator: which process this is among how many, and the collective operations.

Data-parallel training needs four collectives: an in-place sum of a flat array
over all ranks (``allreduce``), a copy of rank 0's array to all (``broadcast``),
a list of every rank's Python object (``allgather``) and one object from rank 0
(``broadcast_object``). :class:`SingleProcess` (rank 0 of 1) does them as
no-ops, so code written for ``comm`` runs unchanged without MPI;
:class:`MPICommunicator` does them with mpi4py, which is imported only here and
only when MPI is asked for or the process was started by ``mpiexec``.

A rank that raises while the others wait in a collective would hang them all;
in an MPI run an uncaught exception is therefore printed with its rank and
followed by ``MPI_Abort``, which ends every rank with a non-zero exit status.
"""
from __future__ import annotations

import os
import sys
import traceback

import numpy as np

__all__ = ["Communicator", "SingleProcess", "MPICommunicator", "get_communicator", "launched_by_mpi"]

#: environment variables that MPI launchers (MPICH's hydra, Open MPI, PMIx, Slurm) set
_LAUNCHER_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS")


class Communicator:
    """``rank`` of ``size`` processes; collectives on NumPy arrays and Python objects."""

    rank: int = 0
    size: int = 1

    @property
    def is_root(self) -> bool:
        """True on rank 0, the rank that prints progress and writes checkpoints."""
        return self.rank == 0

    def allreduce(self, buffer):
        """Sum ``buffer`` (a contiguous array) over all ranks, in place; returns it."""
        raise NotImplementedError

    def broadcast(self, buffer, root: int = 0):
        """Overwrite ``buffer`` on every rank with ``root``'s, in place; returns it."""
        raise NotImplementedError

    def allgather(self, obj) -> list:
        """Every rank's ``obj``, in rank order."""
        raise NotImplementedError

    def broadcast_object(self, obj, root: int = 0):
        """``root``'s ``obj`` on every rank."""
        raise NotImplementedError

    def barrier(self) -> None:
        raise NotImplementedError

    def abort(self, code: int = 1) -> None:
        """End every rank at once (after an error on this one)."""
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}(rank={self.rank}, size={self.size})"


class SingleProcess(Communicator):
    """One process: every collective leaves its argument as it is."""

    def allreduce(self, buffer):
        return buffer

    def broadcast(self, buffer, root: int = 0):
        return buffer

    def allgather(self, obj) -> list:
        return [obj]

    def broadcast_object(self, obj, root: int = 0):
        return obj

    def barrier(self) -> None:
        pass

    def abort(self, code: int = 1) -> None:
        raise SystemExit(code)


class MPICommunicator(Communicator):
    """mpi4py's ``COMM_WORLD`` (or a given mpi4py communicator).

    Arrays go through the buffer interface (``Allreduce`` with ``MPI.IN_PLACE``,
    ``Bcast``): no pickling, no copies. ``abort_on_error`` (default) installs the
    exception hook that turns an uncaught exception on one rank into ``MPI_Abort``.
    """

    def __init__(self, comm=None, abort_on_error: bool = True):
        from mpi4py import MPI  # the optional dependency, imported only when MPI is used

        self._MPI = MPI
        self.comm = MPI.COMM_WORLD if comm is None else comm
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        if abort_on_error and self.size > 1:
            _install_abort_hook(self)

    def allreduce(self, buffer):
        _check_buffer(buffer)
        self.comm.Allreduce(self._MPI.IN_PLACE, buffer, op=self._MPI.SUM)
        return buffer

    def broadcast(self, buffer, root: int = 0):
        _check_buffer(buffer)
        self.comm.Bcast(buffer, root=root)
        return buffer

    def allgather(self, obj) -> list:
        return self.comm.allgather(obj)

    def broadcast_object(self, obj, root: int = 0):
        return self.comm.bcast(obj, root=root)

    def barrier(self) -> None:
        self.comm.Barrier()

    def abort(self, code: int = 1) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        self.comm.Abort(code)


def _check_buffer(buffer) -> None:
    if not isinstance(buffer, np.ndarray) or not buffer.flags.c_contiguous:
        raise TypeError(f"MPI collectives need a C-contiguous NumPy array, got {type(buffer).__name__}"
                        + (" (not contiguous)" if isinstance(buffer, np.ndarray) else ""))


def _install_abort_hook(comm: MPICommunicator) -> None:
    def hook(kind, value, tb):
        message = "".join(traceback.format_exception(kind, value, tb))
        sys.stderr.write(f"neuronet: rank {comm.rank} of {comm.size} failed; stopping every rank "
                         f"(MPI_Abort)\n{message}")
        comm.abort(1)
        os._exit(1)  # only reached if MPI_Abort returned

    if getattr(sys.excepthook, "_neuronet_abort", False):
        return
    hook._neuronet_abort = True
    sys.excepthook = hook


def launched_by_mpi() -> bool:
    """True when an MPI launcher (``mpiexec``/``mpirun``/``srun``) started this process."""
    return any(name in os.environ for name in _LAUNCHER_VARIABLES)


def get_communicator(kind="auto") -> Communicator:
    """``'auto'``: MPI's ``COMM_WORLD`` when started by an MPI launcher, else one process;
    ``'mpi'``: MPI always (mpi4py must be installed: ``pip install neuronet[mpi]``);
    ``None`` or ``'single'``: one process. A :class:`Communicator` is returned as is."""
    if isinstance(kind, Communicator):
        return kind
    if kind in (None, "single") or (kind == "auto" and not launched_by_mpi()):
        return SingleProcess()
    if kind not in ("auto", "mpi"):
        raise ValueError(f"comm must be 'auto', 'mpi', 'single', None or a Communicator, got {kind!r}")
    try:
        return MPICommunicator()
    except ImportError as e:
        raise ImportError("MPI training needs mpi4py and an MPI library: pip install 'neuronet[mpi]' "
                          f"({e})") from None
