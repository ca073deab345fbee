"""LSTM and GRU forward + backward against torch.nn.LSTM / torch.nn.GRU on the CPU.

Both sides run in the same process on the same data, interleaved (ours, torch,
ours, torch, ...) so that load from other processes hits both alike; the best
of ``--repeat`` timings of each is kept. Ratio = torch time / our time, so
> 1 means neuronet is faster.

    python benchmarks/bench_rnn.py                  # D=128, H=256, T=50, N=64, float32
    python benchmarks/bench_rnn.py --threads 2 --json out.json

Each layer is timed twice: computing ``∂E/∂x`` (the input requires grad in torch)
and as a first layer without it (``input_grad=False``; torch input without grad).

Note: the two GRUs are different functions (PyTorch resets after the recurrent
product and needs one GEMM per step; the lecture's GRU resets before it and
needs two), so the GRU row compares the cost of each library's own GRU.
"""
from __future__ import annotations

import argparse
import platform

from _report import add_run_options, interleaved_times, pin_threads, write_json


def _parse():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--T", type=int, default=50)
    ap.add_argument("--N", type=int, default=64)
    ap.add_argument("--D", type=int, default=128)
    ap.add_argument("--H", type=int, default=256)
    add_run_options(ap, repeat=15, threads_help="BLAS / torch threads (default 1)")
    return ap.parse_args()


def main():
    args = _parse()
    pin_threads(args.threads)  # before NumPy and torch load BLAS
    import numpy as np
    import torch

    import neuronet as nt

    torch.set_num_threads(args.threads)
    T, N, D, H = args.T, args.N, args.D, args.H
    r = np.random.default_rng(0)
    x = r.standard_normal((T, N, D)).astype(np.float32)
    dy = r.standard_normal((T, N, H)).astype(np.float32)
    dyt = torch.tensor(dy)
    rows = []
    cases = [(name, ours_cls, torch_cls, dx) for name, ours_cls, torch_cls in
             (("LSTM", nt.LSTM, torch.nn.LSTM), ("GRU", nt.GRU, torch.nn.GRU)) for dx in (True, False)]
    for name, ours_cls, torch_cls, dx in cases:
        # dx=False: a first layer, whose input is data: neither side computes ∂E/∂x
        m = ours_cls(D, H, seed=0, input_grad=dx)
        tm = torch_cls(D, H)
        xt = torch.tensor(x, requires_grad=dx)

        def ours():
            m.zero_grad()
            m.forward(x)
            m.backward(dy)

        def theirs():
            tm.zero_grad()
            xt.grad = None
            y, _ = tm(xt)
            y.backward(dyt)

        for f in (ours, theirs):  # warm-up
            f()
        t_ours, t_torch = interleaved_times((ours, theirs), args.repeat)
        a, b = min(t_ours), min(t_torch)
        rows.append({"layer": name, "input_grad": dx, "neuronet_ms": 1e3 * a, "torch_ms": 1e3 * b, "ratio": b / a,
                     "neuronet_median_ms": 1e3 * float(np.median(t_ours)),
                     "torch_median_ms": 1e3 * float(np.median(t_torch))})
    shape = f"T={T}, N={N}, D={D}, H={H}, float32, {args.threads} thread(s)"
    print(f"forward + backward, {shape}")
    print(f"{'layer':6s} {'∂E/∂x':>6s} {'neuronet ms':>12s} {'torch ms':>10s} {'ratio':>7s} {'ratio of medians':>17s}"
          f"   (ratio = torch time / neuronet time; best of {args.repeat})")
    for row in rows:
        med = row["torch_median_ms"] / row["neuronet_median_ms"]
        print(f"{row['layer']:6s} {'yes' if row['input_grad'] else 'no':>6s} {row['neuronet_ms']:12.1f} "
              f"{row['torch_ms']:10.1f} {row['ratio']:7.2f} {med:17.2f}")
    write_json(args.json, {"shape": shape, "numpy": np.__version__, "torch": torch.__version__,
                           "machine": platform.machine(), "rows": rows})


if __name__ == "__main__":
    main()
