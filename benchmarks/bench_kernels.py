"""How to run the element-wise work: NumPy, numexpr or Numba (the choice behind neuronet.kernels).

Each implementation runs in its own process (its thread pool alone on the machine),
alternating, ``--rounds`` times; printed: the median microseconds per call of each
operation, on arrays of the MLP step's sizes (float32):

* momentum update of the 1024×1024 weight (``b = μb + g; w −= ηb``);
* Adam update of the same weight;
* ReLU backward on a 128×1024 batch (``dy ⊙ [y > 0]``);
* sigmoid of an RBM's 100×500 hidden pre-activations.

    python benchmarks/bench_kernels.py [--threads 2] [--rounds 5]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

from _report import pin_threads

IMPLS = ("numpy", "numexpr", "numba")


def ops(impl):
    import numpy as np

    rng = np.random.default_rng(0)
    w, b, g, m, v = (rng.standard_normal((1024, 1024), dtype=np.float32) for _ in range(5))
    v = np.abs(v)
    dy, y, out = (rng.standard_normal((128, 1024), dtype=np.float32) for _ in range(3))
    a, s = rng.standard_normal((100, 500), dtype=np.float32), np.empty((100, 500), np.float32)
    lr, mu = np.float32(1e-6), np.float32(0.9)
    if impl == "numpy":
        from neuronet.kernels import numpy_kernels as k

        return {"momentum 1024²": lambda: k.momentum_step(w, b, g, 1e-6, 0.9, False),
                "adam 1024²": lambda: k.adam_step(w, m, v, g, 1e-6, 0.9, 0.999, 1e-8, 1.0),
                "relu backward 128×1024": lambda: k.relu_backward(dy, y, out),
                "sigmoid 100×500": lambda: k.sigmoid(a, s)}
    if impl == "numexpr":
        import numexpr

        env = dict(w=w, b=b, g=g, m=m, v=v, dy=dy, y=y, a=a, lr=lr, mu=mu)

        class ne:  # the arrays by name (numexpr looks names up in the caller's frame otherwise)
            @staticmethod
            def evaluate(expr, out):
                return numexpr.evaluate(expr, local_dict=env, out=out)

        def adam():
            ne.evaluate("0.9 * m + 0.1 * g", out=m)
            ne.evaluate("0.999 * v + 0.001 * g * g", out=v)
            ne.evaluate("w - lr * m / (sqrt(v) + 1e-8)", out=w)
        return {"momentum 1024²": lambda: (ne.evaluate("mu * b + g", out=b), ne.evaluate("w - lr * b", out=w)),
                "adam 1024²": adam,
                "relu backward 128×1024": lambda: ne.evaluate("where(y > 0, dy, 0)", out=out),
                "sigmoid 100×500": lambda: ne.evaluate("1 / (1 + exp(-a))", out=s)}
    from neuronet import kernels

    kernels.use("numba")
    kernels.MIN_SIZE = 0
    return {"momentum 1024²": lambda: kernels.momentum_step(w, b, g, 1e-6, 0.9),
            "adam 1024²": lambda: kernels.adam_step(w, m, v, g, 1e-6, 0.9, 0.999, 1e-8, 1.0),
            "relu backward 128×1024": lambda: kernels.relu_backward(dy, y, out),
            "sigmoid 100×500": lambda: kernels.sigmoid(a, s)}


def child(impl, threads, reps=200):
    import time

    fns = ops(impl)
    res = {}
    for name, fn in fns.items():
        for _ in range(5):
            fn()
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        res[name] = statistics.median(times) * 1e6
    print(json.dumps(res))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        pin_threads(args.threads)
        os.environ["NUMEXPR_MAX_THREADS"] = os.environ["NUMEXPR_NUM_THREADS"] = str(args.threads)
        os.environ["NUMBA_NUM_THREADS"] = str(args.threads)
        return child(args.child, args.threads)
    runs = {impl: [] for impl in IMPLS}
    for r in range(args.rounds):
        for impl in (IMPLS if r % 2 == 0 else IMPLS[::-1]):
            out = subprocess.run([sys.executable, __file__, "--child", impl, "--threads", str(args.threads)],
                                 capture_output=True, text=True, check=True)
            runs[impl].append(json.loads(out.stdout.strip().splitlines()[-1]))
    names = list(runs["numpy"][0])
    print(f"median µs per call, {args.threads} thread(s), {args.rounds} alternating rounds, one process each")
    print("| operation | " + " | ".join(IMPLS) + " |")
    print("|---|" + "---:|" * len(IMPLS))
    for n in names:
        print(f"| {n} | " + " | ".join(f"{statistics.median(x[n] for x in runs[i]):.0f}" for i in IMPLS) + " |")


if __name__ == "__main__":
    sys.exit(main())
