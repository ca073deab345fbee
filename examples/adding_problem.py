"""The adding problem (Hochreiter & Schmidhuber 1997): can a recurrent net remember?

The task, the net and the training recipe are those of the registered reproduction
``neuronet reproduce lstm-adding`` (src/neuronet/reproduce/lstm_adding.py); this script
runs them for several cells, which shows the plain RNN failing where the LSTM succeeds.

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
