"""Training step of an MLP 784-1024-1024-10 in neuronet and in PyTorch (CPU), same process.

One step = zero the gradients, forward, softmax cross-entropy, backward, momentum
SGD update; batch 128, float32, ReLU. The two libraries run in alternating
rounds so that other load on the machine hits both alike; the median step time
of each is reported, with the ratio neuronet / PyTorch (≤ 1 means neuronet is
at least as fast), and the fastest round of each (least disturbed by other load). The script also measures the machine's float32 GEMM rate
(a square matrix product) and how much of it the dense layers reach.

    python benchmarks/bench_mlp_step.py [--rounds 15] [--steps 10] [--threads N] [--out FILE.md]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys

import numpy as np
from _report import best_time, interleaved_times, load_average, machine, write_report

import neuronet as nt  # imported before thread limits are set, so they reach every BLAS it loads
from neuronet.layers import Sequential

SIZES = (784, 1024, 1024, 10)
BATCH = 128


def step_flops(sizes=SIZES, n=BATCH) -> float:
    """Floating-point operations of the dense layers in one step.

    Forward ``xW`` and backward ``xᵀε`` for every layer, ``εWᵀ`` for all but the
    first (whose input needs no gradient): ``2·N·n_in·n_out`` each.
    """
    pairs = list(zip(sizes, sizes[1:]))
    return sum(2 * n * a * b * (2 if i == 0 else 3) for i, (a, b) in enumerate(pairs))


def gemm_rate(n=2048, repeats=5) -> float:
    """float32 GFLOP/s of ``A @ B`` for square ``n × n`` matrices (best of ``repeats``)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    c = np.empty_like(a)
    np.matmul(a, b, out=c)
    best = best_time(lambda: np.matmul(a, b, out=c), repeats)
    return 2 * n ** 3 / best / 1e9


def layer_gemm_time(sizes=SIZES, n=BATCH, repeats=5) -> float:
    """Seconds for just the GEMMs of one step (same shapes, NumPy, preallocated outputs)."""
    rng = np.random.default_rng(1)
    ops = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        x = rng.standard_normal((n, a), dtype=np.float32)
        w = rng.standard_normal((a, b), dtype=np.float32)
        e = rng.standard_normal((n, b), dtype=np.float32)
        ops.append((lambda x=x, w=w: x @ w))
        ops.append((lambda x=x, e=e: x.T @ e))
        if i > 0:
            ops.append((lambda e=e, w=w: e @ w.T))
    for op in ops:
        op()
    return best_time(lambda: [op() for op in ops], repeats)


def neuronet_step_fn(x, y, seed=0):
    net = Sequential(nt.Dense(SIZES[0], SIZES[1], init="he", seed=seed, input_grad=False), nt.ReLU(),
                     nt.Dense(SIZES[1], SIZES[2], init="he", seed=seed + 1), nt.ReLU(),
                     nt.Dense(SIZES[2], SIZES[3], seed=seed + 2))
    loss = nt.SoftmaxCrossEntropy()
    opt = nt.optim.Momentum(net.parameters(), lr=0.01, momentum=0.9)

    def step():
        opt.zero_grad()
        value = loss(net.forward(x), y)
        net.backward(loss.backward())
        opt.step()
        return value
    return step


def torch_step_fn(x, y, seed=0):
    import torch

    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(SIZES[0], SIZES[1]), torch.nn.ReLU(),
                              torch.nn.Linear(SIZES[1], SIZES[2]), torch.nn.ReLU(),
                              torch.nn.Linear(SIZES[2], SIZES[3]))
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        value = loss_fn(net(xt), yt)
        value.backward()
        opt.step()
        return value.item()
    return step


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15, help="alternating rounds (median over them)")
    ap.add_argument("--steps", type=int, default=10, help="steps per round")
    ap.add_argument("--threads", type=int, default=None, help="BLAS/torch threads (default: as found)")
    ap.add_argument("--out", default=None, help="also write a markdown report here")
    args = ap.parse_args(argv)

    import torch
    from threadpoolctl import threadpool_info, threadpool_limits

    if args.threads:
        threadpool_limits(args.threads)
        torch.set_num_threads(args.threads)
    blas = [f"{i['internal_api']} {i.get('version') or ''} ({i['num_threads']} threads, "
            f"{i.get('architecture', '?')})" for i in threadpool_info() if i["user_api"] == "blas"]

    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], BATCH)
    ours, theirs = neuronet_step_fn(x, y), torch_step_fn(x, y)
    for _ in range(3):  # warm up: allocations, thread pools
        ours(), theirs()
    t_ours, t_torch = interleaved_times((ours, theirs), args.rounds, args.steps)
    m_ours, m_torch = statistics.median(t_ours), statistics.median(t_torch)
    b_ours, b_torch = min(t_ours), min(t_torch)
    gflops = gemm_rate()
    flops = step_flops()
    gemm_t = layer_gemm_time()

    lines = [
        "| quantity | value |",
        "|---|---|",
        f"| machine | {machine()}, {os.cpu_count()} logical CPUs, load average {load_average():.1f} at the end |",
        f"| NumPy BLAS | {'; '.join(blas)} |",
        f"| PyTorch | {torch.__version__}, {torch.get_num_threads()} threads |",
        "| neuronet BLAS route | NumPy (one BLAS) |",
        f"| neuronet step (median of {args.rounds}×{args.steps}) | {m_ours * 1e3:.2f} ms |",
        f"| PyTorch step (median of {args.rounds}×{args.steps}) | {m_torch * 1e3:.2f} ms |",
        f"| **ratio neuronet / PyTorch** (medians) | **{m_ours / m_torch:.3f}** |",
        f"| fastest round: neuronet / PyTorch | {b_ours * 1e3:.2f} / {b_torch * 1e3:.2f} ms = "
        f"{b_ours / b_torch:.3f} |",
        f"| float32 GEMM rate (2048², NumPy) | {gflops:.1f} GFLOP/s |",
        f"| dense-layer FLOPs per step | {flops / 1e9:.3f} GFLOP |",
        f"| neuronet whole step rate | {flops / m_ours / 1e9:.1f} GFLOP/s = "
        f"{100 * flops / m_ours / 1e9 / gflops:.0f} % of GEMM rate |",
        f"| the step's GEMMs alone (NumPy) | {gemm_t * 1e3:.2f} ms = {flops / gemm_t / 1e9:.1f} GFLOP/s = "
        f"{100 * flops / gemm_t / 1e9 / gflops:.0f} % of GEMM rate |",
        f"| share of the neuronet step spent in GEMMs | {100 * gemm_t / m_ours:.0f} % |",
    ]
    write_report("\n".join(lines), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
