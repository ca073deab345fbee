"""Data-parallel training over MPI ranks (``pip install neuronet[mpi]``; ``mpiexec -n 4 ...``).

mpi4py is imported only when a communicator for MPI is made; without MPI,
``get_communicator()`` is a single process and everything here is a no-op.
"""
from .comm import Communicator, MPICommunicator, SingleProcess, get_communicator, launched_by_mpi
from .data_parallel import DataParallel, broadcast_parameters, flat_buffer, rank_generator, shard
from .statistics import ais_log_partition, allreduce_ridge_statistics, allreduce_sum, split_count

__all__ = ["Communicator", "MPICommunicator", "SingleProcess", "get_communicator", "launched_by_mpi",
           "DataParallel", "broadcast_parameters", "flat_buffer", "rank_generator", "shard", "ais_log_partition",
           "allreduce_ridge_statistics", "allreduce_sum", "split_count"]
