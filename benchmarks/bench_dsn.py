"""Deep Stacking Network: seconds per module on MNIST and the share spent in BLAS (issue 16).

A module's cost is in BLAS: per pass over the data the forward GEMM ``Z W`` and the
statistics ``HᵀH``, ``HᵀT``; per fine-tuning step a second pass with the gradient
GEMMs; per solve one h×h factorisation. The "GEMM floor" times exactly those
products (and solves) on arrays of the same shapes, nothing else; ``floor / total``
is the share of the module's time spent in BLAS/LAPACK.

    python benchmarks/bench_dsn.py                       # 60000 rows, hidden 3000, 2 steps
    python benchmarks/bench_dsn.py --rows 10000 --hidden 1000 --threads 2
"""
from __future__ import annotations

import argparse

from _report import add_run_options, load_average, machine, pin_threads, timed, write_json, write_report


def module_time(X, y, hidden, modules, iters, chunk):
    import neuronet as nt
    dsn = nt.models.DSN(X.shape[1], 10, hidden, modules, ridge=1.0, seed=0)
    records = dsn.fit(X, y, finetune_iters=iters, finetune_lr=400.0, chunk=chunk)
    return [r["time_s"] for r in records]


def gemm_floor(n, d, hidden, iters, chunk, rng):
    """The products and solves of one module (iters steps + the final solve), nothing else."""
    import numpy as np
    f = np.float32
    W, U, V = (rng.standard_normal(s).astype(f) for s in ((d, hidden), (hidden, 10), (hidden, 10)))
    A = rng.standard_normal((hidden, hidden)).astype(f)
    A = A @ A.T + hidden * np.eye(hidden, dtype=f)
    Zall, Tall = rng.random((n, d), dtype=f), rng.random((n, 10), dtype=f)
    parts = [(Zall[i:i + chunk], Tall[i:i + chunk]) for i in range(0, n, chunk)]

    def stats_pass(solves):
        for Z, T in parts:
            H = Z @ W
            H.T @ H
            H.T @ T
        for _ in range(solves):          # U, and V = A⁻¹U when a gradient follows
            np.linalg.solve(A, U)

    def grad_pass():
        for Z, _ in parts:
            H = Z @ W
            R = H @ U
            dH = R @ U.T
            dH += (H @ V) @ U.T
            Z.T @ dH

    def module():
        for _ in range(iters):
            stats_pass(2)
            grad_pass()
        stats_pass(1)

    return timed(module)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=60000)
    ap.add_argument("--hidden", type=int, default=3000)
    ap.add_argument("--modules", type=int, default=1)
    ap.add_argument("--iters", type=int, default=2, help="fine-tuning steps per module")
    ap.add_argument("--chunk", type=int, default=2048)
    ap.add_argument("--out", help="also write the markdown report here")
    add_run_options(ap, repeat=1)
    args = ap.parse_args()
    pin_threads(args.threads)
    import numpy as np
    import neuronet as nt
    X, y = nt.data.load_mnist("train")
    X, y = nt.data.to_float(X[:args.rows], flatten=True), y[:args.rows]
    rng = np.random.default_rng(0)
    rows = []
    for rep in range(args.repeat):
        per_module = module_time(X, y, args.hidden, args.modules, args.iters, args.chunk)
        # module m (from 0) reads the pixels and the 10 predictions of each module below it
        floors = [gemm_floor(len(X), X.shape[1] + 10 * m, args.hidden, args.iters, args.chunk, rng)
                  for m in range(args.modules)]
        rows.append({"module_seconds": per_module, "gemm_floor_seconds": floors,
                     "blas_share": [f / t for f, t in zip(floors, per_module)],
                     "load": load_average()})
    best = min(rows, key=lambda r: r["module_seconds"][0])
    text = "\n".join([
        f"DSN module on MNIST: {args.rows} rows, hidden {args.hidden}, {args.iters} fine-tuning "
        f"steps + final solve, chunks of {args.chunk}; {machine()}, {args.threads} thread(s), "
        f"numpy {np.__version__}, load {best['load']:.1f}",
        "", "| module | seconds | GEMM floor (s) | share in BLAS |", "|---|---|---|---|"]
        + [f"| {m + 1} | {t:.1f} | {f:.1f} | {f / t:.0%} |"
           for m, (t, f) in enumerate(zip(best["module_seconds"], best["gemm_floor_seconds"]))])
    write_report(text, args.out)
    write_json(args.json, {"args": vars(args), "runs": rows})


if __name__ == "__main__":
    main()
