"""DBM joint-training speed on MNIST, and the share of it spent in matrix products.

A 784-500-1000 DBM (float32), Salakhutdinov's settings: batch 100, 100 persistent
chains, 5 Gibbs sweeps and 10 mean-field sweeps per update (``tol=0``: all ten run).
``--rows`` rows are trained for one epoch through ``DBM.fit`` (the one loop: batch
gather, step, optimiser, progress off); the time is scaled to a 60,000-image epoch.

The floor: the same batches' matrix products alone, with the shapes and counts one
update performs (mean-field start 2, the clamped input 1, 2 per mean-field sweep; per Gibbs
sweep 4; the odd layers' means after the sweeps 2; the stacked gradient 2; the
reconstruction 1), timed as bare ``np.matmul`` calls into preallocated outputs.
``floor / total`` is the share of the epoch in matrix products; the rest is
elementwise work (σ, sampling, the optimiser) and Python.

    python benchmarks/bench_dbm.py [--rows 6000] [--threads 1] [--repeat 3] [--json out.json]
"""
from __future__ import annotations

import argparse
import sys

from _report import add_run_options, best_time, load_average, machine, pin_threads, write_json


def products(B=100, C=100, n=(784, 500, 1000), mf=10, gibbs=5):
    """``(m, k, n)`` of every product in one update, with their counts."""
    n0, n1, n2 = n
    return [((B, n0, n1), 2), ((B, n1, n2), 1),                  # start (doubled), clamped input
            ((B, n2, n1), mf), ((B, n1, n2), mf),                 # mean-field sweeps
            ((C, n0, n1), gibbs + 1), ((C, n2, n1), gibbs + 1),   # odd layer: sweeps and final means
            ((C, n1, n0), gibbs), ((C, n1, n2), gibbs),           # even layers
            ((n0, B + C, n1), 1), ((n1, B + C, n2), 1),           # gradient  Sᵀ diag(s) S
            ((B, n1, n0), 1)]                                     # reconstruction


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=6000)
    add_run_options(ap, repeat=3)
    args = ap.parse_args(argv)
    pin_threads(args.threads)
    import numpy as np

    import neuronet as nt
    from neuronet.energy import DBM

    images, _ = nt.data.load_mnist("train")
    X = nt.data.to_float(images[:args.rows], flatten=True)
    n_batches = -(-len(X) // 100)

    def epoch():
        d = DBM([784, 500, 1000], seed=0)
        d.fit(X, epochs=1, batch_size=100, n_chains=100, gibbs_steps=5, mean_field_steps=10, tol=0.0, seed=0)

    rng = np.random.default_rng(0)
    mats = [(rng.random((m, k), dtype=np.float32), rng.random((k, n2), dtype=np.float32),
             np.empty((m, n2), np.float32), count) for (m, k, n2), count in products()]

    def floor():
        for _ in range(n_batches):
            for a, b, out, count in mats:
                for _ in range(count):
                    np.matmul(a, b, out=out)

    total = best_time(epoch, args.repeat)
    gemm = best_time(floor, args.repeat)
    flop = 2 * sum(m * k * n2 * c for (m, k, n2), c in products()) * n_batches
    scale = 60000 / len(X)
    res = {"rows": len(X), "threads": args.threads, "machine": machine(), "load_average": load_average(),
           "epoch_s": total * scale, "gemm_s": gemm * scale, "gemm_share": gemm / total,
           "gflop_per_epoch": flop * scale / 1e9, "gemm_gflops": flop / gemm / 1e9,
           "numpy": np.__version__}
    print(f"DBM 784-500-1000, batch 100, 100 chains, 5 Gibbs + 10 mean-field sweeps, {args.threads} thread(s), "
          f"{machine()}, load {res['load_average']:.1f}")
    print(f"epoch (60,000 images): {res['epoch_s']:.1f} s; matrix products alone {res['gemm_s']:.1f} s "
          f"= {100 * res['gemm_share']:.0f} % ({res['gflop_per_epoch']:.0f} GFLOP, {res['gemm_gflops']:.0f} GFLOP/s)")
    write_json(args.json, res)
    return res


if __name__ == "__main__":
    sys.exit(main() and 0)
