"""The adding problem (Hochreiter & Schmidhuber 1997): can a recurrent net remember?

Each sequence has T steps of two inputs: a value ``u_t ~ U(0, 1)`` and a marker
that is 1 at exactly two steps (one in each half) and 0 elsewhere. The target,
read after the last step, is the sum of the two marked values. Predicting the
mean (1) gives MSE = Var(u₁ + u₂) = 1/6 ≈ 0.167; a net beats that only if it
carries the marked values across up to T steps, the long-range dependence that
BPTT's product ``Π ∂h_i/∂h_{i-1}`` makes hard for a plain RNN and the LSTM's
cell state ``C_t = f ⊙ C_{t-1} + i ⊙ C̃`` makes easy.

    python examples/adding_problem.py                      # LSTM and plain RNN at T = 100
    python examples/adding_problem.py --cell lstm --T 50 --epochs 5

MSE here is the plain mean squared error ``mean (y − t)²`` (nt.MSE's ½Σ, doubled).
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import neuronet as nt

BASELINE = 1 / 6


def make_adding(n: int, T: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """``X (n, T, 2)`` float32 (value, marker) and ``y (n, 1)`` = sum of the marked values."""
    if T < 2:
        raise ValueError(f"the adding problem needs T >= 2, got {T}")
    rng = nt.random.make_rng(rng)
    X = np.zeros((n, T, 2), dtype=np.float32)
    X[:, :, 0] = rng.random((n, T))
    half = T // 2
    first = rng.integers(0, half, n)
    second = rng.integers(half, T, n)
    rows = np.arange(n)
    X[rows, first, 1] = 1
    X[rows, second, 1] = 1
    y = (X[rows, first, 0] + X[rows, second, 0])[:, None]
    return X, y


def build(cell: str, n_hidden: int, seed: int):
    """``(N, T, 2) → TimeMajor → recurrent layer → h_T → Dense → ŷ``."""
    layer = {"lstm": lambda: nt.LSTM(2, n_hidden, seed=seed, input_grad=False),
             "gru": lambda: nt.GRU(2, n_hidden, seed=seed, input_grad=False),
             "rnn": lambda: nt.RNN(2, n_hidden, seed=seed, input_grad=False)}[cell]()
    return nt.Sequential(nt.TimeMajor(), layer, nt.LastStep(), nt.Dense(n_hidden, 1, seed=seed + 1))


def mse(model, X, y) -> float:
    """Plain mean squared error of the predictions."""
    return float(np.mean((nt.predict(model, X, batch_size=1000) - y) ** 2))


def run(cell="lstm", T=100, n_hidden=64, n_train=10000, n_val=1000, epochs=10, batch_size=50,
        lr=3e-3, clip=1.0, seed=0, target=0.01, stop_below=None, progress=True):
    """Train one net; returns ``dict(cell, T, val_mse per epoch, seconds, reached)``:
    ``reached`` is whether the validation MSE went below ``target``; training stops
    early once it is below ``stop_below`` (never by default)."""
    rng = np.random.default_rng(seed)
    Xtr, ytr = make_adding(n_train, T, rng)
    Xva, yva = make_adding(n_val, T, rng)
    model = build(cell, n_hidden, seed)
    opt = nt.optim.Adam(model.parameters(), lr=lr)
    curve = []

    class Record(nt.train.Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            curve.append(mse(model, Xva, yva))
            if stop_below is not None and curve[-1] < stop_below:
                trainer.stop_training = True

    t0 = time.perf_counter()
    nt.fit(model, nt.MSE(), opt, Xtr, ytr, epochs=epochs, batch_size=batch_size, seed=seed,
           clip_grad_norm=clip, callbacks=[Record()], progress=progress, metrics=())
    return {"cell": cell, "T": T, "n_hidden": n_hidden, "val_mse": curve,
            "seconds": time.perf_counter() - t0, "reached": bool(curve and min(curve) < target),
            "first_below": next((k + 1 for k, v in enumerate(curve) if v < target), None),
            "epochs_run": len(curve)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cell", nargs="+", default=["lstm", "rnn"], choices=["lstm", "gru", "rnn"])
    ap.add_argument("--T", type=int, default=100)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--train", type=int, default=10000)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=50)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    results = []
    for cell in args.cell:
        r = run(cell, args.T, args.hidden, args.train, epochs=args.epochs, batch_size=args.batch_size,
                lr=args.lr, seed=args.seed)
        results.append(r)
        print(f"{cell.upper():5s} T={args.T}: validation MSE by epoch "
              + ", ".join(f"{v:.4f}" for v in r["val_mse"])
              + f"  (best {min(r['val_mse']):.4f}, below 0.01 from epoch {r['first_below']}, "
              f"baseline {BASELINE:.3f}, {r['seconds']:.0f} s)")
    return results


if __name__ == "__main__":
    main()
