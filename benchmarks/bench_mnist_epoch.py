"""One full MNIST training epoch of the MLP 784-512-512-10 (ReLU, dropout 0.2, Adam):
neuronet's ``fit`` vs PyTorch (CPU) vs scikit-learn's ``MLPClassifier``, same process.

* neuronet: ``nt.fit(..., epochs=1, batch_size=128)`` with ``nt.optim.Adam(lr=1e-3)``;
* PyTorch: the same layers, ``torch.optim.Adam(lr=1e-3)``, batch 128, one
  ``randperm`` per epoch and index gathering (its usual CPU loop), float32;
* scikit-learn: ``MLPClassifier((512, 512), solver='adam', batch_size=128)``, one
  epoch as ``partial_fit`` calls over consecutive chunks of a shuffled copy (no
  dropout: it has none; L2 ``alpha=0``).

The three epochs are interleaved: every ``--every`` batches of neuronet's ``fit``
(a callback) PyTorch and scikit-learn run their next chunk of batches, timed
apart, and that time is subtracted from neuronet's; so load from other jobs on
the machine hits all three alike.  The median over rounds is reported, with
ratios to neuronet.
The data-pipeline share is measured by running neuronet's own batch loop
(one permutation, ``np.take`` of every batch into preallocated buffers) without
the model, divided by the epoch time.

    python benchmarks/bench_mnist_epoch.py [--rounds 2] [--threads N] [--subset N] [--out FILE.md]
"""
from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np
from _report import machine, write_report

import neuronet as nt

BATCH, LR, DROPOUT = 128, 1e-3, 0.2


def load(subset=None):
    X, y = nt.data.load_mnist("train")
    t0 = time.perf_counter()
    Xf = nt.data.to_float(X, flatten=True)
    t_convert = time.perf_counter() - t0
    if subset:
        Xf, y = Xf[:subset], y[:subset]
    return np.ascontiguousarray(Xf), y.astype(np.int64), t_convert


def pipeline_epoch(X, y, seed):
    """neuronet's batch gathering alone: permutation + np.take into preallocated buffers."""
    rng = np.random.default_rng(seed)
    xbuf = np.empty((BATCH, X.shape[1]), dtype=X.dtype)
    ybuf = np.empty((BATCH,), dtype=y.dtype)
    t0 = time.perf_counter()
    order = rng.permutation(len(X))
    for b in range(math.ceil(len(X) / BATCH)):
        idx = order[b * BATCH:(b + 1) * BATCH]
        m = len(idx)
        np.take(X, idx, axis=0, out=xbuf[:m])
        np.take(y, idx, axis=0, out=ybuf[:m])
    return time.perf_counter() - t0


class TorchRun:
    """PyTorch's usual CPU epoch (one randperm, index gathering), run chunk by chunk."""

    def __init__(self, X, y, seed):
        import torch
        self.torch = torch
        torch.manual_seed(seed)
        self.model = torch.nn.Sequential(
            torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Dropout(DROPOUT),
            torch.nn.Linear(512, 512), torch.nn.ReLU(), torch.nn.Dropout(DROPOUT),
            torch.nn.Linear(512, 10))
        self.opt = torch.optim.Adam(self.model.parameters(), lr=LR)
        self.lossf = torch.nn.CrossEntropyLoss()
        self.X, self.y = torch.from_numpy(X), torch.from_numpy(y)
        self.n_batches = math.ceil(len(X) / BATCH)
        self.b, self.total, self.time = 0, 0.0, 0.0
        self.model.train()
        t0 = time.perf_counter()
        self.order = torch.randperm(len(X))
        self.time += time.perf_counter() - t0

    def run(self, n_batches):
        t0 = time.perf_counter()
        for b in range(self.b, min(self.b + n_batches, self.n_batches)):
            idx = self.order[b * BATCH:(b + 1) * BATCH]
            xb, yb = self.X[idx], self.y[idx]
            self.opt.zero_grad(set_to_none=True)
            loss = self.lossf(self.model(xb), yb)
            loss.backward()
            self.opt.step()
            self.total += loss.item() * len(idx)
        self.b = min(self.b + n_batches, self.n_batches)
        self.time += time.perf_counter() - t0

    @property
    def loss(self):
        return self.total / len(self.X)


class SklearnRun:
    """MLPClassifier: one epoch as successive ``partial_fit`` calls on chunks of a shuffled
    copy (each call is one pass of mini-batches of 128 over its chunk)."""

    def __init__(self, X, y, seed):
        from sklearn.neural_network import MLPClassifier
        self.clf = MLPClassifier((512, 512), activation="relu", solver="adam", batch_size=BATCH,
                                 learning_rate_init=LR, alpha=0.0, shuffle=False, random_state=seed)
        t0 = time.perf_counter()
        order = np.random.default_rng(seed).permutation(len(X))
        self.X, self.y = X[order], y[order]
        self.time = time.perf_counter() - t0
        self.n_batches = math.ceil(len(X) / BATCH)
        self.b, self.losses = 0, []

    def run(self, n_batches):
        lo, hi = self.b * BATCH, min(self.b + n_batches, self.n_batches) * BATCH
        if lo >= len(self.X):
            return
        t0 = time.perf_counter()
        self.clf.partial_fit(self.X[lo:hi], self.y[lo:hi], classes=np.arange(10))
        self.time += time.perf_counter() - t0
        self.losses.append((self.clf.loss_, min(hi, len(self.X)) - lo))
        self.b = min(self.b + n_batches, self.n_batches)

    @property
    def loss(self):
        return sum(l * n for l, n in self.losses) / sum(n for _, n in self.losses)


class Interleave(nt.train.Callback):
    """Every ``every`` batches of neuronet's epoch, run the peers' next chunk; their time
    is subtracted from neuronet's, so all three see the same machine load."""

    def __init__(self, peers, every):
        self.peers, self.every, self.spent = peers, every, 0.0

    def _run(self, n):
        t0 = time.perf_counter()
        for p in self.peers:
            p.run(n)
        self.spent += time.perf_counter() - t0

    def on_batch_end(self, trainer, batch, loss):
        if batch % self.every == 0:
            self._run(self.every)

    def on_epoch_end(self, trainer, epoch, logs):
        self._run(10 ** 9)  # the peers' remaining batches


def one_round(X, y, seed, every, use_sklearn):
    peers = [TorchRun(X, y, seed)] + ([SklearnRun(X, y, seed)] if use_sklearn else [])
    inter = Interleave(peers, every)
    model = nt.models.MLP([784, 512, 512, 10], activation="relu", dropout=DROPOUT, seed=seed)
    opt = nt.optim.Adam(model.parameters(), lr=LR)
    t0 = time.perf_counter()
    h = nt.fit(model, nt.SoftmaxCrossEntropy(), opt, X, y, epochs=1, batch_size=BATCH, seed=seed,
               callbacks=[inter])
    t_nn = time.perf_counter() - t0 - inter.spent
    out = {"neuronet": (t_nn, h.last["loss"]), "PyTorch": (peers[0].time, peers[0].loss)}
    if use_sklearn:
        out["scikit-learn"] = (peers[1].time, peers[1].loss)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds (default 2)")
    ap.add_argument("--threads", type=int, default=None, help="BLAS/torch threads (default: as found)")
    ap.add_argument("--subset", type=int, default=None, help="use only the first N images (quick check)")
    ap.add_argument("--no-sklearn", action="store_true", help="skip scikit-learn")
    ap.add_argument("--every", type=int, default=20,
                    help="interleave the libraries every this many batches (default 20)")
    ap.add_argument("--out", default=None, help="write the markdown table to this file")
    args = ap.parse_args(argv)
    import torch
    from threadpoolctl import threadpool_info, threadpool_limits
    if args.threads:
        threadpool_limits(args.threads)
        torch.set_num_threads(args.threads)
    X, y, t_convert = load(args.subset)
    times = {"neuronet": [], "PyTorch": [], "scikit-learn": [], "pipeline": []}
    losses = {}
    for r in range(args.rounds):
        res = one_round(X, y, r, args.every, not args.no_sklearn)
        for k, (t, loss) in res.items():
            times[k].append(t)
            losses[k] = loss
        times["pipeline"].append(pipeline_epoch(X, y, r))
        print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items() if v),
              flush=True)
    med = {k: statistics.median(v) for k, v in times.items() if v}
    blas = [f"{i['internal_api']} ({i['num_threads']} threads)" for i in threadpool_info()
            if i["user_api"] == "blas"]
    n = len(X)
    lines = [
        f"MNIST epoch, MLP 784-512-512-10 (ReLU, dropout {DROPOUT}), Adam lr {LR}, batch {BATCH}, "
        f"{n} images, float32; median of {args.rounds} rounds; within a round the three "
        f"libraries' epochs are interleaved every {args.every} batches, so they share the "
        "machine's load alike.",
        "",
        f"Machine: {machine()}, BLAS {', '.join(blas)}, "
        f"PyTorch {torch.__version__} ({torch.get_num_threads()} threads), numpy {np.__version__}.",
        "",
        "| library | epoch time (s) | time / neuronet | training loss of the epoch |",
        "|---|---:|---:|---:|",
    ]
    for k in ("neuronet", "PyTorch", "scikit-learn"):
        if k in med:
            lines.append(f"| {k} | {med[k]:.2f} | {med[k] / med['neuronet']:.2f} | {losses[k]:.4f} |")
    share = med["pipeline"] / med["neuronet"]
    lines += [
        "",
        f"Data pipeline inside neuronet's epoch (one permutation, gather of every batch into "
        f"preallocated buffers): {med['pipeline']:.3f} s = **{100 * share:.2f} %** of the epoch. "
        f"One-time conversion uint8 → float32 of the 60000 images before training: {t_convert:.3f} s.",
        f"neuronet / PyTorch = {med['neuronet'] / med['PyTorch']:.2f} (≤ 1: neuronet at least as fast).",
    ]
    write_report("\n".join(lines), args.out)


if __name__ == "__main__":
    main()
