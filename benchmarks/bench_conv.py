"""Convolution speed: neuronet against PyTorch (CPU), same process, float32.

1. ``Conv2d`` 64→64 channels, 3×3 kernel, padding 1, 32×32 images, batch 64:
   forward + backward (weight, bias and input gradients).
2. A full LeNet-5 training step, batch 64: forward, softmax cross-entropy,
   backward, momentum SGD update. The PyTorch net is the same network: 5×5
   convolutions, C3 with LeCun's table (weights multiplied by the 0/1 mask),
   trainable subsampling ``a·avgpool + b``, ``1.7159·tanh(2a/3)``.

The two libraries run in alternating rounds so other load on the machine hits
both alike; the median time of each is reported. Speed ratio =
PyTorch time / neuronet time (≥ 1: neuronet is faster; the LeNet target is ≥ 0.7).

    python benchmarks/bench_conv.py [--rounds 9] [--steps 5] [--threads 1] [--out FILE.md]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys

from _report import interleaved_times, load_average, machine, pin_threads, write_report
from _worker import momentum_step_fn


def _pin_threads(argv) -> int:
    """Thread counts must be set before NumPy and PyTorch start their pools: with
    pools already running (and OpenMP workers spinning), limiting them afterwards
    leaves both libraries fighting over the cores."""
    threads = 1
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            threads = int(argv[i + 1])
        elif a.startswith("--threads="):
            threads = int(a.split("=", 1)[1])
    pin_threads(threads)
    return threads


_pin_threads(sys.argv[1:])

import numpy as np  # noqa: E402  (after the thread variables)


# ---------------------------------------------------------------- Conv2d
def conv_pair(batch=64, channels=64, size=32):
    import torch
    import torch.nn.functional as F

    import neuronet as nt

    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, channels, size, size), dtype=np.float32)
    dy = rng.standard_normal((batch, channels, size, size), dtype=np.float32)
    layer = nt.Conv2d(channels, channels, 3, padding=1, seed=0)

    def ours():
        layer.forward(x)
        layer.backward(dy)

    xt = torch.from_numpy(x).requires_grad_(True)
    wt = torch.from_numpy(layer.W.data.copy()).requires_grad_(True)
    bt = torch.zeros(channels, requires_grad=True)
    dyt = torch.from_numpy(dy)

    def theirs():
        for t in (xt, wt, bt):
            t.grad = None
        F.conv2d(xt, wt, bt, padding=1).backward(dyt)

    return ours, theirs


# ---------------------------------------------------------------- LeNet-5
def lenet_pair(batch=64):
    import torch
    import torch.nn.functional as F

    import neuronet as nt
    from neuronet.models.lenet import LENET5_C3_TABLE

    rng = np.random.default_rng(0)
    x = rng.random((batch, 1, 32, 32), dtype=np.float32)
    y = rng.integers(0, 10, batch)
    ours = momentum_step_fn(nt.models.LeNet5(seed=0), x, y)

    class TorchLeNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.c1 = torch.nn.Conv2d(1, 6, 5)
            self.s2a, self.s2b = torch.nn.Parameter(torch.ones(6)), torch.nn.Parameter(torch.zeros(6))
            self.c3 = torch.nn.Conv2d(6, 16, 5)
            self.register_buffer("mask", torch.tensor(LENET5_C3_TABLE, dtype=torch.float32)[:, :, None, None])
            self.s4a, self.s4b = torch.nn.Parameter(torch.ones(16)), torch.nn.Parameter(torch.zeros(16))
            self.c5 = torch.nn.Conv2d(16, 120, 5)
            self.f6 = torch.nn.Linear(120, 84)
            self.out = torch.nn.Linear(84, 10)

        @staticmethod
        def act(a):
            return 1.7159 * torch.tanh(a * (2.0 / 3.0))

        def forward(self, v):
            h = self.act(self.c1(v))
            h = F.avg_pool2d(h, 2) * self.s2a[:, None, None] + self.s2b[:, None, None]
            h = self.act(F.conv2d(h, self.c3.weight * self.mask, self.c3.bias))
            h = F.avg_pool2d(h, 2) * self.s4a[:, None, None] + self.s4b[:, None, None]
            h = self.act(self.c5(h)).flatten(1)
            return self.out(self.act(self.f6(h)))

    torch.manual_seed(0)
    tnet = TorchLeNet()
    topt = torch.optim.SGD(tnet.parameters(), lr=0.01, momentum=0.9)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
    loss_fn = torch.nn.CrossEntropyLoss()

    def theirs():
        topt.zero_grad()
        loss_fn(tnet(xt), yt).backward()
        topt.step()

    return ours, theirs


def measure(pair, rounds, steps):
    ours, theirs = pair
    for _ in range(2):
        ours(), theirs()
    t_ours, t_theirs = interleaved_times((ours, theirs), rounds, steps)
    return statistics.median(t_ours), statistics.median(t_theirs)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="BLAS and torch threads (default 1)")
    ap.add_argument("--out", default=None, help="also write the markdown table here")
    args = ap.parse_args(argv)

    import torch
    from threadpoolctl import threadpool_limits

    threadpool_limits(args.threads)
    torch.set_num_threads(args.threads)
    rows = []
    for name, pair, steps in (("Conv2d 64→64, 3×3, pad 1, 32×32, batch 64: forward + backward",
                               conv_pair(), max(1, args.steps // 2)),
                              ("LeNet-5 training step, batch 64 (forward, loss, backward, momentum SGD)",
                               lenet_pair(), args.steps * 4)):
        ours, theirs = measure(pair, args.rounds, steps)
        rows.append(f"| {name} | {ours * 1e3:.2f} ms | {theirs * 1e3:.2f} ms | **{theirs / ours:.2f}** |")
    write_report("\n".join([
        f"Machine: {machine()}, {os.cpu_count()} logical CPUs, {args.threads} thread(s) "
        f"for both libraries, PyTorch {torch.__version__}, load average {load_average():.1f} at the end.",
        "",
        "| benchmark | neuronet | PyTorch | speed ratio (PyTorch time / neuronet time) |",
        "|---|---|---|---|",
        *rows,
    ]), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
