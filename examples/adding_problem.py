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

# the recipe lives in the registered reproduction (`neuronet reproduce lstm-adding`)
from neuronet.reproduce.lstm_adding import BASELINE, build, make_adding, mse  # noqa: F401,E402
from neuronet.reproduce.lstm_adding import train_adding as run  # noqa: E402


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
