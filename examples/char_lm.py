"""Character-level language model on tiny-shakespeare, trained by truncated BPTT,
sampled with a temperature.

The text (1.1 M characters, 65 distinct) is split 90 % / 10 % into training and
validation streams; the training stream is cut into ``N`` parallel streams read in
chunks of ``T`` characters with the LSTM state carried between chunks. After a fixed
budget of optimiser steps the validation loss is reported in nats per character
(uniform guessing: ln 65 = 4.17) and text is sampled at a few temperatures.

    python examples/char_lm.py                          # H = 256, 1500 steps of 32 × 100 characters
    python examples/char_lm.py --steps 300 --hidden 128 # a quick look
    python examples/char_lm.py --checkpoint lm.npz      # stop any time; run again to resume
    python examples/char_lm.py --sample-only lm.npz     # sample from a saved model
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import neuronet as nt
from neuronet.data import CharVocab


# the recipe lives in the registered reproduction (`neuronet reproduce char-lstm`)
from neuronet.reproduce.char_lstm import streams, train  # noqa: E402,F401


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=1)
    ap.add_argument("--cell", default="lstm", choices=["lstm", "gru", "rnn"])
    ap.add_argument("--steps", type=int, default=1500, help="optimiser steps (the fixed budget)")
    ap.add_argument("--seq-len", type=int, default=100, help="BPTT truncation length T")
    ap.add_argument("--streams", type=int, default=32, help="parallel streams N (the batch)")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--checkpoint", default=None, help="checkpoint path (resumes when it exists)")
    ap.add_argument("--sample-only", default=None, metavar="CHECKPOINT", help="only sample from a saved model")
    ap.add_argument("--temperatures", type=float, nargs="+", default=[0.5, 0.8, 1.0])
    ap.add_argument("--length", type=int, default=300, help="characters per sample")
    args = ap.parse_args(argv)

    if args.sample_only:
        ck = nt.io.load_checkpoint(args.sample_only)
        model, vocab = ck.model, CharVocab(ck.extra["vocab"])
    else:
        t0 = time.perf_counter()
        model, vocab, hist = train(n_hidden=args.hidden, n_layers=args.layers, cell=args.cell,
                                   steps=args.steps, seq_len=args.seq_len, n_streams=args.streams,
                                   lr=args.lr, seed=args.seed, checkpoint=args.checkpoint)
        chars = hist.steps_done * args.seq_len * args.streams
        print(f"\n{args.cell.upper()} H={args.hidden}×{args.layers}, {hist.steps_done} steps of "
              f"{args.streams}×{args.seq_len} characters ({chars / 1e6:.2f} M characters, "
              f"{hist.seconds:.0f} s training, {time.perf_counter() - t0:.0f} s in all)")
        print("validation nats/char at steps " + ", ".join(
            f"{s}: {v:.3f}" for s, v in zip(hist.val_step, hist.val_loss))
            + f"  (uniform: ln {vocab.size} = {np.log(vocab.size):.3f}; "
              f"{hist.val_loss[-1] / np.log(2):.3f} bits/char)")
    for tau in args.temperatures:
        print(f"\n--- temperature {tau} ---")
        print(model.sample(vocab, "ROMEO:\n", args.length, temperature=tau, seed=args.seed))
    return model


if __name__ == "__main__":
    main()
