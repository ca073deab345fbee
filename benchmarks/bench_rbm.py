"""RBM training speed against scikit-learn's BernoulliRBM, in the same process.

Two cases on MNIST (784 visible, 500 hidden, Bernoulli–Bernoulli, pixels / 255):

* PCD-1, batch 10, the same learning rate, no momentum, no weight cost
  (scikit-learn's algorithm: persistent chains, one per batch row, sampled visibles);
* CD-1, batch 100, the same learning rate (scikit-learn has no CD: its PCD at
  batch 100 is the peer).

Each side runs one epoch (or ``--rows`` rows) from the same data; the ratio is
scikit-learn's seconds over ours. scikit-learn is given the data both as float64
(its default) and float32 (which it keeps). Writes JSON with ``--json``.

``--floor`` also times, for CD-1 at batch 100, the same epoch's four float32
GEMMs alone (v⁺W, W h, v⁻W and the stacked gradient Vᵀ diag(s) H) and those
GEMMs plus the gather of the batch and the SGD update of ``W``: the part no
elementwise work can remove, so scikit-learn's time over it bounds the ratio.

    python benchmarks/bench_rbm.py [--rows 60000] [--repeat 1] [--floor] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np

import neuronet as nt
from neuronet.energy import RBM


def load(rows):
    images, _ = nt.data.load_mnist("train")
    return nt.data.to_float(images[:rows], flatten=True)


def time_ours(X, batch_size, persistent, lr, seed=0):
    r = RBM(784, 500, seed=seed)
    t = time.perf_counter()
    r.fit(X, epochs=1, batch_size=batch_size, persistent=persistent, n_chains=batch_size, lr=lr, momentum=0.0,
          weight_decay=0.0, sample_visible=persistent, verbose=False, seed=seed, init_visible_bias=False)
    return time.perf_counter() - t


def time_sklearn(X, batch_size, lr, seed=0):
    from sklearn.neural_network import BernoulliRBM

    sk = BernoulliRBM(n_components=500, learning_rate=lr, batch_size=batch_size, n_iter=1, random_state=seed)
    t = time.perf_counter()
    sk.fit(X)
    return time.perf_counter() - t


def time_floor(X, batch_size=100, lr=0.05, seed=0):
    """Seconds of one CD-1 epoch's GEMMs alone, and with the batch gather and ``W``'s update."""
    rng = np.random.default_rng(seed)
    W = (rng.standard_normal((784, 500)) * 0.01).astype(np.float32)
    N = batch_size
    V = X[:2 * N].copy()
    H = rng.random((2 * N, 500), dtype=np.float32)
    Hs = (H[:N] > 0.5).astype(np.float32)
    VT, G = np.empty((784, N), np.float32), np.empty_like(W)
    order = rng.permutation(len(X))
    out = []
    for full in (False, True):
        t = time.perf_counter()
        for i in range(0, len(X) - N + 1, N):
            if full:
                np.take(X, order[i:i + N], axis=0, out=V[:N])
            np.matmul(V[:N], W, out=H[:N])
            np.matmul(W, Hs.T, out=VT)
            np.matmul(V[N:], W, out=H[N:])
            np.matmul(V.T, H, out=G)
            if full:
                W -= lr * 1e-6 * G  # tiny step: the timing, not the model, matters here
        out.append(time.perf_counter() - t)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=60000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--json", default=None)
    ap.add_argument("--floor", action="store_true", help="also time CD-1's GEMMs alone (batch 100)")
    args = ap.parse_args(argv)
    X32 = load(args.rows)
    X64 = X32.astype(np.float64)
    rows = []
    for name, batch, persistent in (("PCD-1, batch 10", 10, True), ("CD-1, batch 100", 100, False)):
        ours = min(time_ours(X32, batch, persistent, args.lr) for _ in range(args.repeat))
        sk64 = min(time_sklearn(X64, batch, args.lr) for _ in range(args.repeat))
        sk32 = min(time_sklearn(X32, batch, args.lr) for _ in range(args.repeat))
        row = {"case": name, "rows": len(X32), "neuronet_s": ours, "sklearn_float64_s": sk64,
               "sklearn_float32_s": sk32, "ratio_vs_float64": sk64 / ours, "ratio_vs_float32": sk32 / ours}
        rows.append(row)
        print(f"{name:18s} neuronet {ours:7.2f} s | sklearn f64 {sk64:7.2f} s ({sk64 / ours:4.1f}x) "
              f"| sklearn f32 {sk32:7.2f} s ({sk32 / ours:4.1f}x)", flush=True)
    if args.floor:
        gemm, gemm_io = (min(ts) for ts in zip(*(time_floor(X32) for _ in range(max(args.repeat, 2)))))
        sk64 = rows[-1]["sklearn_float64_s"]
        rows.append({"case": "CD-1, batch 100: floor", "gemm_s": gemm, "gemm_gather_update_s": gemm_io,
                     "ratio_cap_gemm": sk64 / gemm, "ratio_cap_gemm_gather_update": sk64 / gemm_io})
        print(f"CD-1 floor         GEMMs alone {gemm:5.2f} s (cap {sk64 / gemm:4.1f}x) | + gather and W "
              f"update {gemm_io:5.2f} s (cap {sk64 / gemm_io:4.1f}x)", flush=True)
    meta = {"machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
            "threads": os.environ.get("OMP_NUM_THREADS"), "numpy": np.__version__}
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "results": rows}, f, indent=2)
    return rows


if __name__ == "__main__":
    main()
