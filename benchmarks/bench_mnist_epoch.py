"""One full MNIST training epoch of the MLP 784-512-512-10 (ReLU, dropout 0.2, Adam):
neuronet's ``fit`` vs PyTorch (CPU) vs scikit-learn's ``MLPClassifier``, same process.

* neuronet: ``nt.fit(..., epochs=1, batch_size=128)`` with ``nt.optim.Adam(lr=1e-3)``;
* PyTorch: the same layers, ``torch.optim.Adam(lr=1e-3)``, batch 128, one
  ``randperm`` per epoch and index gathering (its usual CPU loop), float32;
* scikit-learn: ``MLPClassifier((512, 512), solver='adam', batch_size=128,
  max_iter=1)`` (no dropout: it has none; L2 ``alpha=0``).

The libraries run in alternating rounds (other load on the machine hits all
alike) and the median epoch time of each is reported, with ratios to neuronet.
The data-pipeline share is measured by running neuronet's own batch loop
(one permutation, ``np.take`` of every batch into preallocated buffers) without
the model, divided by the epoch time.

    python benchmarks/bench_mnist_epoch.py [--rounds 2] [--threads N] [--subset N] [--out FILE.md]
"""
from __future__ import annotations

import argparse
import math
import platform
import statistics
import time
import warnings

import numpy as np

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


def neuronet_epoch(X, y, seed):
    model = nt.models.MLP([784, 512, 512, 10], activation="relu", dropout=DROPOUT, seed=seed)
    opt = nt.optim.Adam(model.parameters(), lr=LR)
    t0 = time.perf_counter()
    h = nt.fit(model, nt.SoftmaxCrossEntropy(), opt, X, y, epochs=1, batch_size=BATCH, seed=seed)
    return time.perf_counter() - t0, h.last["loss"]


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


def torch_epoch(X, y, seed):
    import torch
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Dropout(DROPOUT),
        torch.nn.Linear(512, 512), torch.nn.ReLU(), torch.nn.Dropout(DROPOUT),
        torch.nn.Linear(512, 10))
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    lossf = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    model.train()
    t0 = time.perf_counter()
    order = torch.randperm(len(Xt))
    total = 0.0
    for b in range(math.ceil(len(Xt) / BATCH)):
        idx = order[b * BATCH:(b + 1) * BATCH]
        xb, yb = Xt[idx], yt[idx]
        opt.zero_grad(set_to_none=True)
        loss = lossf(model(xb), yb)
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
    return time.perf_counter() - t0, total / len(Xt)


def sklearn_epoch(X, y, seed):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    clf = MLPClassifier((512, 512), activation="relu", solver="adam", batch_size=BATCH,
                        learning_rate_init=LR, alpha=0.0, max_iter=1, shuffle=True,
                        random_state=seed)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    return time.perf_counter() - t0, clf.loss_


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds (default 2)")
    ap.add_argument("--threads", type=int, default=None, help="BLAS/torch threads (default: as found)")
    ap.add_argument("--subset", type=int, default=None, help="use only the first N images (quick check)")
    ap.add_argument("--no-sklearn", action="store_true", help="skip scikit-learn")
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
        t, losses["neuronet"] = neuronet_epoch(X, y, r)
        times["neuronet"].append(t)
        times["pipeline"].append(pipeline_epoch(X, y, r))
        t, losses["PyTorch"] = torch_epoch(X, y, r)
        times["PyTorch"].append(t)
        if not args.no_sklearn:
            t, losses["scikit-learn"] = sklearn_epoch(X, y, r)
            times["scikit-learn"].append(t)
        print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items() if v),
              flush=True)
    med = {k: statistics.median(v) for k, v in times.items() if v}
    blas = [f"{i['internal_api']} ({i['num_threads']} threads)" for i in threadpool_info()
            if i["user_api"] == "blas"]
    n = len(X)
    lines = [
        f"MNIST epoch, MLP 784-512-512-10 (ReLU, dropout {DROPOUT}), Adam lr {LR}, batch {BATCH}, "
        f"{n} images, float32; median of {args.rounds} alternating rounds.",
        "",
        f"Machine: {platform.processor() or platform.machine()}, BLAS {', '.join(blas)}, "
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
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
