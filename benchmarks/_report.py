"""What the benchmark scripts share: thread limits, timing, a line about the machine, writing the report.

A script run as ``python benchmarks/<name>.py`` has this folder on ``sys.path``, so
it imports these with ``from _report import ...``. Only the standard library is
imported here: scripts pin the BLAS thread count before NumPy is first imported.
"""
from __future__ import annotations

import json
import os
import platform
import time

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def pin_threads(threads: int) -> None:
    """Set the OpenMP / OpenBLAS / MKL thread variables; effective only before NumPy or torch loads BLAS."""
    for var in THREAD_VARIABLES:
        os.environ[var] = str(threads)


def add_run_options(ap, repeat: int, threads_help: str = "BLAS threads (default 1)") -> None:
    """The options every comparison script takes: ``--repeat``, ``--threads`` (default 1), ``--json``."""
    ap.add_argument("--repeat", type=int, default=repeat)
    ap.add_argument("--threads", type=int, default=1, help=threads_help)
    ap.add_argument("--json", help="write the results here as JSON")


def timed(fn) -> float:
    """Seconds one call of ``fn()`` takes."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def best_time(fn, repeat: int) -> float:
    """The fastest of ``repeat`` timed calls of ``fn()`` (the one least disturbed by other load)."""
    return min(timed(fn) for _ in range(repeat))


def interleaved_times(fns, rounds: int, steps: int = 1):
    """Seconds per call of each of ``fns``, timed in alternating rounds so that other load on the
    machine hits all alike: each round times ``steps`` calls of every function in turn. Returns one
    list of ``rounds`` timings per function."""
    times = [[] for _ in fns]
    for _ in range(rounds):
        for fn, acc in zip(fns, times):
            acc.append(timed(lambda: [fn() for _ in range(steps)]) / steps)
    return times


def machine() -> str:
    """The processor (or, where Python cannot tell, the architecture)."""
    return platform.processor() or platform.machine()


def load_average() -> float:
    """The 1-minute load average (NaN where the system has none)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def write_report(text: str, out: str | None = None) -> None:
    """Print the markdown report, and write it to ``out`` too when given."""
    print(text)
    if out:
        with open(out, "w") as f:
            f.write(text + "\n")


def write_json(path: str | None, data, indent: int = 2) -> None:
    """Write ``data`` as JSON to ``path`` (nothing when ``path`` is None)."""
    if path:
        with open(path, "w") as f:
            json.dump(data, f, indent=indent)
