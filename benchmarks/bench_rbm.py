"""RBM training speed against scikit-learn's BernoulliRBM, in the same process.

Two cases on MNIST (784 visible, 500 hidden, Bernoulli–Bernoulli, pixels / 255):

* PCD-1, batch 10, the same learning rate, no momentum, no weight cost
  (scikit-learn's algorithm: persistent chains, one per batch row, sampled visibles);
* CD-1, batch 100, the same learning rate (scikit-learn has no CD: its PCD at
  batch 100 is the peer).

Each side runs one epoch (or ``--rows`` rows) from the same data; the ratio is
scikit-learn's seconds over ours. scikit-learn is given the data both as float64
(its default) and float32 (which it keeps). Writes JSON with ``--json``.

    python benchmarks/bench_rbm.py [--rows 60000] [--repeat 1] [--json out.json]
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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=60000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--json", default=None)
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
    meta = {"machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
            "threads": os.environ.get("OMP_NUM_THREADS"), "numpy": np.__version__}
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "results": rows}, f, indent=2)
    return rows


if __name__ == "__main__":
    main()
