"""Data-parallel scaling on this machine: MNIST epochs of an MLP and an RBM on 1 and 2 MPI processes.

Three set-ups, each its own ``mpiexec`` launch, alternated in every round so that
other load on the machine hits all alike:

* ``1 proc × 1 thread``: one process, one BLAS thread (the baseline);
* ``1 proc × 2 threads``: one process, two BLAS threads (what the cores give without MPI);
* ``2 procs × 1 thread``: two MPI ranks on loopback, one BLAS thread each.

Work per epoch (the first ``--subset`` MNIST training images, float32):

* MLP 784-512-512-10 (ReLU, Adam 1e-3), ``nt.fit(epochs=1, batch_size=128, comm=comm)``:
  global batches of 128, each rank computing its 64 rows;
* RBM 784-500 (Bernoulli), CD-1 with momentum 0.5, lr 0.1 and weight cost 1e-4 in global
  batches of 100: ``rbm.fit(epochs=1, comm=comm)`` (each rank sampling its own stream).

Per step the ranks sum one float32 buffer of all gradients (MLP: 669,706 numbers, 2.7 MB;
RBM: 393,284, 1.6 MB). Reported: epoch seconds (median over rounds), the speed-up
``t(1 proc × 1 thread) / t(set-up)`` as the median of per-round ratios with its range,
the time per step spent in the allreduce (including waiting for the slower rank), and
a bare allreduce of the same buffer after a barrier (pure communication).

    python benchmarks/bench_mpi.py [--rounds 3] [--subset 10000] [--out FILE.md] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import load_average, machine, pin_threads, write_json, write_report

SETUPS = (("1 proc × 1 thread", 1, 1), ("1 proc × 2 threads", 1, 2), ("2 procs × 1 thread", 2, 1))
MLP_SIZES, MLP_BATCH, RBM_HIDDEN, RBM_BATCH = [784, 512, 512, 10], 128, 500, 100


# ------------------------------------------------------------------ worker (under mpiexec)
def worker(subset: int, out: str) -> None:
    import numpy as np

    import neuronet as nt
    from neuronet import distributed as D

    comm = D.get_communicator("mpi")
    X, y = nt.data.load_mnist("train")
    X, y = nt.data.to_float(X[:subset], flatten=True), y[:subset].astype(np.int64)
    result = {"ranks": comm.size}
    model = nt.models.MLP(MLP_SIZES, seed=0)
    opt = nt.optim.Adam(model.parameters(), lr=1e-3)
    hist = nt.fit(model, nt.SoftmaxCrossEntropy(), opt, X, y, epochs=1, batch_size=MLP_BATCH, seed=0,
                  metrics=[], comm=comm)
    result.update(mlp_epoch_s=hist.records[-1]["time"], mlp_loss=hist.records[-1]["loss"],
                  **_allreduce_stats("mlp", hist.trainer.optimizer, comm, model.parameters()))
    result.update(_rbm_epoch(X, comm))
    if comm.is_root:
        Path(out).write_text(json.dumps(result))


def _allreduce_stats(name, opt, comm, params) -> dict:
    import numpy as np

    from neuronet.distributed import DataParallel, flat_buffer

    stats = {}
    if isinstance(opt, DataParallel) and opt.allreduce_calls:
        stats[f"{name}_allreduce_ms_per_step"] = 1e3 * opt.allreduce_seconds / opt.allreduce_calls
        stats[f"{name}_steps"] = opt.allreduce_calls
    buffer = flat_buffer([p.data for p in params], extra=3)
    stats[f"{name}_buffer_numbers"] = int(buffer.size)
    if comm.size > 1:
        times = []
        for _ in range(30):
            comm.barrier()
            t0 = time.perf_counter()
            comm.allreduce(buffer)
            times.append(time.perf_counter() - t0)
        stats[f"{name}_bare_allreduce_ms"] = 1e3 * float(np.median(times))
    return stats


def _rbm_epoch(X, comm) -> dict:
    from neuronet.energy import RBM

    rbm = RBM(X.shape[1], RBM_HIDDEN, seed=0)
    comm.barrier()
    hist = rbm.fit(X, epochs=1, batch_size=RBM_BATCH, lr=0.1, momentum=0.5, seed=0, verbose=False,
                   monitor_size=1000, comm=comm)
    return {"rbm_epoch_s": hist["time"][-1], "rbm_recon": hist["recon_error"][-1],
            **_allreduce_stats("rbm", rbm.loop_.optimizer, comm, rbm.parameters())}


# ------------------------------------------------------------------ launcher
def launch(ranks: int, threads: int, subset: int) -> dict:
    mpiexec = shutil.which("mpiexec", path=os.pathsep.join([str(Path(sys.executable).parent),
                                                           os.environ.get("PATH", "")]))
    if mpiexec is None:
        raise SystemExit("no mpiexec: pip install 'neuronet[mpi]'")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        env = dict(os.environ, HYDRA_IFACE="lo")
        env.update({v: str(threads) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")})
        cmd = [mpiexec, "-n", str(ranks), sys.executable, __file__, "--worker", "--subset", str(subset),
               "--result", str(out)]
        subprocess.run(cmd, env=env, check=True, timeout=1800)
        return json.loads(out.read_text())


def report(runs: dict, args) -> str:
    base = runs[SETUPS[0][0]]
    lines = [f"MNIST, first {args.subset} training images, one epoch; {args.rounds} rounds, set-ups "
             f"alternated; {machine()}, {os.cpu_count()} cores, load average {load_average():.1f} at the end.",
             "", "| set-up | MLP epoch (s) | MLP speed-up | RBM epoch (s) | RBM speed-up | "
             "allreduce per step, MLP / RBM (ms) | bare allreduce, MLP / RBM (ms) |",
             "|---|---|---|---|---|---|---|"]
    for name, _, _ in SETUPS:
        rs = runs[name]
        cells = [name]
        for key in ("mlp_epoch_s", "rbm_epoch_s"):
            cells.append(f"{statistics.median(r[key] for r in rs):.2f}")
            ratios = [b[key] / r[key] for b, r in zip(base, rs)]
            cells.append(f"{statistics.median(ratios):.2f}× ({min(ratios):.2f}–{max(ratios):.2f})")
        for keys in (("mlp_allreduce_ms_per_step", "rbm_allreduce_ms_per_step"),
                     ("mlp_bare_allreduce_ms", "rbm_bare_allreduce_ms")):
            vals = [statistics.median(r[k] for r in rs) if k in rs[0] else None for k in keys]
            cells.append(" / ".join("–" if v is None else f"{v:.2f}" for v in vals))
        lines.append("| " + " | ".join(cells) + " |")
    r2 = runs[SETUPS[2][0]][0]
    lines += ["", f"Per step the ranks sum {r2['mlp_buffer_numbers']:,} (MLP) and "
              f"{r2['rbm_buffer_numbers']:,} (RBM) float32 numbers; "
              f"{r2.get('mlp_steps', 0)} and {r2.get('rbm_steps', 0)} steps per epoch."]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--subset", type=int, default=10000)
    ap.add_argument("--out", help="write the markdown report here too")
    ap.add_argument("--json", help="write every run's numbers here as JSON")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args.subset, args.result)
    pin_threads(1)
    runs = {name: [] for name, _, _ in SETUPS}
    for _ in range(args.rounds):
        for name, ranks, threads in SETUPS:
            runs[name].append(launch(ranks, threads, args.subset))
    write_json(args.json, runs)
    write_report(report(runs, args), args.out)


if __name__ == "__main__":
    main()
