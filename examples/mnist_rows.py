"""Sequence classification: MNIST read row by row, 28 steps of 28 pixels.

The recurrent net sees one image row per time step and must classify the digit
from its last hidden state ``h_28``:

    (N, 28, 28) → TimeMajor → LSTM(28, H) → LastStep → Dense(H, 10) → softmax

    python examples/mnist_rows.py                       # LSTM, H = 128, 3 epochs
    python examples/mnist_rows.py --cell gru --epochs 1 --train 10000
    python examples/mnist_rows.py --checkpoint rows.npz # stop any time, run again to resume
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import neuronet as nt


def build(cell: str = "lstm", n_hidden: int = 128, seed: int = 0):
    layer = {"lstm": lambda: nt.LSTM(28, n_hidden, seed=seed, input_grad=False),
             "gru": lambda: nt.GRU(28, n_hidden, seed=seed, input_grad=False),
             "rnn": lambda: nt.RNN(28, n_hidden, seed=seed, input_grad=False)}[cell]()
    return nt.Sequential(nt.TimeMajor(), layer, nt.LastStep(), nt.Dense(n_hidden, 10, seed=seed + 1))


def load(n_train=None):
    """Pixels in [0, 1] as ``(N, 28, 28)`` row sequences; the first ``n_train`` training images."""
    Xtr, ytr = nt.data.load_mnist("train")
    Xte, yte = nt.data.load_mnist("test")
    if n_train is not None:
        Xtr, ytr = Xtr[:n_train], ytr[:n_train]
    return (nt.data.to_float(Xtr), ytr.astype(np.int64), nt.data.to_float(Xte), yte.astype(np.int64))


def run(cell="lstm", n_hidden=128, epochs=3, n_train=None, batch_size=100, lr=2e-3, clip=5.0,
        seed=0, checkpoint=None, progress=True):
    """Train; returns ``dict(test_error, history, seconds)``."""
    Xtr, ytr, Xte, yte = load(n_train)
    model = build(cell, n_hidden, seed)
    opt = nt.optim.Adam(model.parameters(), lr=lr)
    callbacks = [nt.train.ModelCheckpoint(checkpoint)] if checkpoint else []
    t0 = time.perf_counter()
    hist = nt.fit(model, nt.SoftmaxCrossEntropy(), opt, Xtr, ytr, epochs=epochs, batch_size=batch_size,
                  validation=(Xte, yte), seed=seed, clip_grad_norm=clip, callbacks=callbacks,
                  progress=progress,
                  resume_from=checkpoint if checkpoint and Path(checkpoint).is_file() else None)
    res = nt.evaluate(model, nt.SoftmaxCrossEntropy(), Xte, yte, metrics=("accuracy",))
    return {"cell": cell, "n_hidden": n_hidden, "epochs": epochs, "n_train": len(Xtr),
            "test_accuracy": res["accuracy"], "test_error": 1 - res["accuracy"],
            "seconds": time.perf_counter() - t0, "history": hist}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cell", default="lstm", choices=["lstm", "gru", "rnn"])
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--train", type=int, default=None, help="use only the first N training images")
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--checkpoint", default=None, help="checkpoint path (resumes when it exists)")
    args = ap.parse_args(argv)
    r = run(args.cell, args.hidden, args.epochs, args.train, args.batch_size, args.lr, seed=args.seed,
            checkpoint=args.checkpoint)
    print(f"{args.cell.upper()} H={args.hidden}, {r['epochs']} epochs on {r['n_train']} images: "
          f"test accuracy {r['test_accuracy']:.4f} (error {100 * r['test_error']:.2f} %), "
          f"{r['seconds']:.0f} s")
    return r


if __name__ == "__main__":
    main()
