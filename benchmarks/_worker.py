"""One library, one case, one process: what ``run_all.py`` starts for every timing.

    python benchmarks/_worker.py CASE LIBRARY --threads T [--steps S] [--rows R]

prints one JSON line: ``{"seconds": median seconds per step (per epoch for the RBM
cases), "times": [...], "rss_growth_mb": ..., "needed_mb": ..., "threads": ...}``.

The thread variables are set before NumPy or torch is imported, so each library
starts its pools with exactly ``T`` threads and no other library's pool runs beside
it. Peak memory: the growth of the process's resident set (``ru_maxrss``) from just
before the case is built (libraries imported, nothing allocated) to the end of the
timed steps; ``needed_mb`` is the size of the arrays the algorithm cannot do
without (parameters, their gradients, the optimiser's state, one batch and its
activations), computed from the shapes.
"""
from __future__ import annotations

import functools
import json
import os
import resource
import statistics
import sys
import time

from _report import pin_threads


def rss_mb() -> float:
    """The process's resident set now, in MB (Linux ``/proc``)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def reset_peak_rss() -> None:
    """Reset the kernel's high-water mark of the resident set (Linux ``clear_refs``), so that the
    peak read later is the step's, not the data loading's."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:  # not Linux, or not allowed: the peak then includes what came before
        pass


def peak_rss_mb() -> float:
    """The high-water mark of the resident set since the last reset, in MB."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


MLP_SIZES, MLP_BATCH = (784, 1024, 1024, 10), 128
LSTM_SHAPE = dict(T=50, N=64, D=128, H=256)
MB = 2 ** 20


def momentum_step_fn(net, x, y):
    """One training step as a user writes it: zero, forward, softmax cross-entropy, backward,
    momentum SGD (lr 0.01, γ 0.9)."""
    import neuronet as nt

    loss = nt.SoftmaxCrossEntropy()
    opt = nt.optim.Momentum(net.parameters(), lr=0.01, momentum=0.9)

    def step():
        opt.zero_grad()
        loss(net.forward(x), y)
        net.backward(loss.backward())
        opt.step()
    return step


# ------------------------------------------------------------------ MLP
def mlp_needed_mb() -> float:
    """W and b with grad and momentum (3 copies), the batch and each layer's output and its error."""
    p = sum(a * b + b for a, b in zip(MLP_SIZES, MLP_SIZES[1:]))
    acts = MLP_BATCH * (MLP_SIZES[0] + 2 * sum(MLP_SIZES[1:]))
    return 4 * (3 * p + acts) / MB


def mlp_neuronet(threads):
    import numpy as np

    import neuronet as nt

    x, y = _mlp_data(np)
    s = MLP_SIZES
    # as a user writes it: no input_grad=False on the first layer (BENCH_FIRST_LAYER_DX=1: the first
    # layer computes ∂E/∂x, as every neuronet layer did before the automatic skip)
    first = {"input_grad": True} if os.environ.get("BENCH_FIRST_LAYER_DX") else {}
    net = nt.Sequential(nt.Dense(s[0], s[1], init="he", seed=0, **first), nt.ReLU(),
                        nt.Dense(s[1], s[2], init="he", seed=1), nt.ReLU(), nt.Dense(s[2], s[3], seed=2))
    return momentum_step_fn(net, x, y), mlp_needed_mb()


def mlp_torch(threads):
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    x, y = _mlp_data(np)
    s = MLP_SIZES
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(s[0], s[1]), torch.nn.ReLU(), torch.nn.Linear(s[1], s[2]),
                              torch.nn.ReLU(), torch.nn.Linear(s[2], s[3]))
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(net(xt), yt).backward()
        opt.step()
    return step, mlp_needed_mb()


def mlp_floor(threads):
    """The step's dense-layer GEMMs alone (NumPy, preallocated outputs): what no element-wise work can beat."""
    import numpy as np

    rng = np.random.default_rng(1)
    ops = []
    for i, (a, b) in enumerate(zip(MLP_SIZES, MLP_SIZES[1:])):
        x = rng.standard_normal((MLP_BATCH, a), dtype=np.float32)
        w = rng.standard_normal((a, b), dtype=np.float32)
        e = rng.standard_normal((MLP_BATCH, b), dtype=np.float32)
        outs = (np.empty((MLP_BATCH, b), np.float32), np.empty((a, b), np.float32),
                np.empty((MLP_BATCH, a), np.float32))
        ops.append(lambda x=x, w=w, o=outs[0]: np.matmul(x, w, out=o))
        ops.append(lambda x=x, e=e, o=outs[1]: np.matmul(x.T, e, out=o))
        if i > 0:
            ops.append(lambda e=e, w=w, o=outs[2]: np.matmul(e, w.T, out=o))
    return (lambda: [op() for op in ops]), mlp_needed_mb()


def _mlp_data(np):
    rng = np.random.default_rng(0)
    return (rng.standard_normal((MLP_BATCH, MLP_SIZES[0]), dtype=np.float32),
            rng.integers(0, MLP_SIZES[-1], MLP_BATCH))


# ------------------------------------------------------------------ LeNet-5
def _lenet_data(np):
    rng = np.random.default_rng(0)
    return rng.random((64, 1, 32, 32), dtype=np.float32), rng.integers(0, 10, 64)


def lenet_neuronet(threads):
    import numpy as np

    import neuronet as nt

    x, y = _lenet_data(np)
    return momentum_step_fn(nt.models.LeNet5(seed=0), x, y), lenet_needed_mb()


def lenet_needed_mb() -> float:
    """Parameters ×3 (data, grad, momentum), the batch, every layer's output and error, C1's im2col."""
    import neuronet as nt

    n_par = sum(p.size for p in nt.models.LeNet5(seed=0).parameters())
    acts = 6 * 28 * 28 + 6 * 14 * 14 + 16 * 100 + 16 * 25 + 120 + 84 + 10
    return 4 * (3 * n_par + 64 * (1024 + 2 * acts + 25 * 784)) / MB


def lenet_torch(threads):
    import torch

    from bench_conv import lenet_pair  # the same TorchLeNet the in-process script uses

    torch.set_num_threads(threads)
    _, theirs = lenet_pair()
    return theirs, lenet_needed_mb()


# ------------------------------------------------------------------ LSTM
def _lstm_data(np):
    s = LSTM_SHAPE
    r = np.random.default_rng(0)
    return (r.standard_normal((s["T"], s["N"], s["D"])).astype(np.float32),
            r.standard_normal((s["T"], s["N"], s["H"])).astype(np.float32))


def lstm_needed_mb() -> float:
    s = LSTM_SHAPE
    p = 4 * s["H"] * (s["D"] + s["H"] + 1)
    per_step = s["N"] * (s["D"] + 4 * s["H"] + 2 * s["H"])  # input, gates, cell and hidden
    return 4 * (2 * p + s["T"] * per_step) / MB


def lstm_neuronet(threads):
    import numpy as np

    import neuronet as nt

    x, dy = _lstm_data(np)
    m = nt.LSTM(LSTM_SHAPE["D"], LSTM_SHAPE["H"], seed=0)  # as a user writes it

    def step():
        m.zero_grad()
        m.forward(x)
        m.backward(dy)
    return step, lstm_needed_mb()


def lstm_torch(threads):
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    x, dy = _lstm_data(np)
    m = torch.nn.LSTM(LSTM_SHAPE["D"], LSTM_SHAPE["H"])
    xt, dyt = torch.from_numpy(x), torch.from_numpy(dy)  # data: no gradient for the input

    def step():
        m.zero_grad()
        y, _ = m(xt)
        y.backward(dyt)
    return step, lstm_needed_mb()


# ------------------------------------------------------------------ RBM
@functools.lru_cache(maxsize=None)
def _rbm_data(rows, dtype):
    """MNIST's first ``rows`` training images, pixels / 255 (loaded before the memory baseline)."""
    import neuronet as nt

    images, _ = nt.data.load_mnist("train")
    return nt.data.to_float(images[:rows], flatten=True).astype(dtype)


def _rbm_needed_mb(batch) -> float:
    return (4 * 3 * (784 * 500 + 784 + 500) + 4 * 2 * batch * (784 + 500)) / MB


def _rbm_neuronet(batch, persistent, rows):
    import numpy as np

    from neuronet.energy import RBM

    X = _rbm_data(rows, "float32")

    def epoch():
        r = RBM(784, 500, seed=0)
        r.fit(X, epochs=1, batch_size=batch, persistent=persistent, n_chains=batch, lr=0.05, momentum=0.0,
              weight_decay=0.0, sample_visible=persistent, verbose=False, seed=0, init_visible_bias=False)
    return epoch, _rbm_needed_mb(batch) + X.nbytes / MB


def _rbm_sklearn(batch, rows, dtype):
    from sklearn.neural_network import BernoulliRBM

    X = _rbm_data(rows, dtype)

    def epoch():
        BernoulliRBM(n_components=500, learning_rate=0.05, batch_size=batch, n_iter=1, random_state=0).fit(X)
    return epoch, _rbm_needed_mb(batch) + X.nbytes / MB


def _rbm_floor(batch, rows):
    import numpy as np

    from bench_rbm import time_floor

    X = _rbm_data(rows, "float32")
    return (lambda: time_floor(X, batch)[0]), _rbm_needed_mb(batch) + X.nbytes / MB


CASES = {
    "mlp": {"neuronet": mlp_neuronet, "torch": mlp_torch, "floor": mlp_floor},
    "lenet": {"neuronet": lenet_neuronet, "torch": lenet_torch},
    "lstm": {"neuronet": lstm_neuronet, "torch": lstm_torch},
}
for _name, _batch, _pcd in (("rbm-pcd1-b10", 10, True), ("rbm-cd1-b100", 100, False)):
    CASES[_name] = {
        "neuronet": lambda t, b=_batch, p=_pcd, rows=None: _rbm_neuronet(b, p, rows),
        "sklearn-f64": lambda t, b=_batch, rows=None: _rbm_sklearn(b, rows, "float64"),
        "sklearn-f32": lambda t, b=_batch, rows=None: _rbm_sklearn(b, rows, "float32"),
    }
    if not _pcd:
        CASES[_name]["floor"] = lambda t, b=_batch, rows=None: _rbm_floor(b, rows)


def run(case, lib, threads, steps, warmup, rows):
    if case.startswith("rbm"):
        _rbm_data(rows, "float64" if lib == "sklearn-f64" else "float32")
    base = rss_mb()
    reset_peak_rss()
    make = CASES[case][lib]
    fn, needed = make(threads, rows=rows) if case.startswith("rbm") else make(threads)
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        inner = fn()  # a floor reports the time of its own inner part
        times.append(inner if isinstance(inner, float) else time.perf_counter() - t0)
    return {"case": case, "lib": lib, "threads": threads, "seconds": statistics.median(times), "times": times,
            "rss_growth_mb": peak_rss_mb() - base, "needed_mb": needed}


def main(argv):
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("case", choices=sorted(CASES))
    ap.add_argument("lib")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--rows", type=int, default=10000, help="RBM cases: rows of MNIST per epoch")
    args = ap.parse_args(argv)
    pin_threads(args.threads)
    import numpy  # noqa: F401  (BLAS starts now, with the pinned thread count)
    if args.lib.startswith("sklearn"):
        import sklearn.neural_network  # noqa: F401  (imported before the baseline RSS)
    elif args.lib == "torch":
        import torch  # noqa: F401
    else:
        import neuronet  # noqa: F401
    print(json.dumps(run(args.case, args.lib, args.threads, args.steps, args.warmup, args.rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
