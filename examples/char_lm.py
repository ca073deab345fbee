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
from neuronet.data import CharVocab, batchify, load_tinyshakespeare


def streams(text: str, vocab: CharVocab, n_streams: int, val_fraction: float = 0.1,
            n_val_streams: int = 8):
    """Training and validation streams ``(L, N)`` as ``(inputs, targets)`` pairs."""
    codes = vocab.encode(text)
    cut = int(len(codes) * (1 - val_fraction))
    tr, va = batchify(codes[:cut], n_streams), batchify(codes[cut:], n_val_streams)
    return (tr[:-1], tr[1:]), (va[:-1], va[1:])


def train(text=None, n_hidden=256, n_layers=1, cell="lstm", steps=1500, seq_len=100, n_streams=32,
          lr=2e-3, clip=5.0, seed=0, checkpoint=None, val_every=500, progress=True):
    """Train a :class:`~neuronet.models.CharLM`; returns ``(model, vocab, history)``."""
    text = load_tinyshakespeare() if text is None else text
    vocab = CharVocab.from_text(text)
    (xtr, ytr), (xva, yva) = streams(text, vocab, n_streams)
    model = nt.models.CharLM(vocab.size, n_hidden, n_layers, cell=cell, seed=seed)
    opt = nt.optim.Adam(model.parameters(), lr=lr)
    hist = nt.fit_stream(model, nt.SequenceSoftmaxCrossEntropy(), opt, xtr, ytr, seq_len=seq_len,
                         steps=steps, clip_grad_norm=clip, transform=model.encode_inputs,
                         validation=(xva, yva), val_every=val_every, val_seq_len=250,
                         checkpoint=checkpoint, extra={"vocab": vocab.chars}, progress=progress)
    return model, vocab, hist


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
