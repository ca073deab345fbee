"""Character-level language model on tiny-shakespeare, trained by truncated BPTT.

``p(c_{t+1} | c_≤t) = softmax(V h_t + c)`` with ``h_t`` an LSTM's state, trained on
``−Σ_t ln p(c_{t+1} | c_≤t)`` (nats per character). The text (1.1 M characters,
65 distinct) is split 90 % / 10 % into training and validation streams; the
training stream is cut into ``N`` parallel streams read in chunks of ``T``
characters with the LSTM state carried between chunks. After a fixed budget of
optimiser steps the validation loss is reported (uniform guessing: ln 65 = 4.17).
"""
from __future__ import annotations

import numpy as np

import neuronet as nt
from neuronet.data import CharVocab, batchify, load_tinyshakespeare

from .registry import Reproduction, register


def streams(text: str, vocab: CharVocab, n_streams: int, val_fraction: float = 0.1,
            n_val_streams: int = 8):
    """Training and validation streams ``(L, N)`` as ``(inputs, targets)`` pairs."""
    codes = vocab.encode(text)
    cut = int(len(codes) * (1 - val_fraction))
    tr, va = batchify(codes[:cut], n_streams), batchify(codes[cut:], n_val_streams)
    return (tr[:-1], tr[1:]), (va[:-1], va[1:])


def train(text=None, n_hidden=256, n_layers=1, cell="lstm", steps=1500, seq_len=100, n_streams=32,
          lr=2e-3, clip=5.0, seed=0, checkpoint=None, val_every=500, progress=True, resume=True):
    """Train a :class:`~neuronet.models.CharLM`; returns ``(model, vocab, history)``."""
    text = load_tinyshakespeare() if text is None else text
    vocab = CharVocab.from_text(text)
    (xtr, ytr), (xva, yva) = streams(text, vocab, n_streams)
    model = nt.models.CharLM(vocab.size, n_hidden, n_layers, cell=cell, seed=seed)
    opt = nt.optim.Adam(model.parameters(), lr=lr)
    hist = nt.fit_stream(model, nt.SequenceSoftmaxCrossEntropy(), opt, xtr, ytr, seq_len=seq_len,
                         steps=steps, clip_grad_norm=clip, transform=model.encode_inputs,
                         validation=(xva, yva), val_every=val_every, val_seq_len=250,
                         checkpoint=checkpoint, resume=resume, extra={"vocab": vocab.chars},
                         progress=progress)
    return model, vocab, hist


def run(ctx) -> dict:
    text = load_tinyshakespeare()
    kw = dict(n_hidden=256, steps=1500, seq_len=100, n_streams=32, lr=2e-3, clip=5.0)
    if ctx.quick:
        text = text[:40000]
        kw.update(n_hidden=32, steps=20, seq_len=25, n_streams=8, lr=1e-2)
    ctx.config.update(kw, characters=len(text))
    model, vocab, hist = train(text, seed=ctx.seed, checkpoint=ctx.checkpoint("charlm"),
                               resume=ctx.resume, progress=ctx.progress, **kw)
    ctx.log("validation nats/char at steps " + ", ".join(
        f"{s}: {v:.3f}" for s, v in zip(hist.val_step, hist.val_loss)))
    sample = model.sample(vocab, "ROMEO:\n", 300, temperature=0.8, seed=ctx.seed)
    ctx.log("sample (temperature 0.8):\n" + sample)
    return {"val_nats_per_char": float(hist.val_loss[-1]), "uniform_nats_per_char": float(np.log(vocab.size)),
            "val_bits_per_char": float(hist.val_loss[-1] / np.log(2)), "steps": hist.steps_done,
            "sample": sample}


register(Reproduction(
    name="char-lstm",
    title="Character-level LSTM language model on tiny-shakespeare (nats per character)",
    published={"val_nats_per_char": 1.4697},
    source="nanoGPT README (Karpathy 2023), character-level tiny-shakespeare, 90/10 split: "
           "validation loss 1.4697 (a 6-layer 384-wide transformer, 5000 steps of 64×256 characters)",
    recipe="one LSTM layer H = 256, one-hot input, truncated BPTT over 32 streams × 100 characters, "
           "Adam 2·10⁻³, gradient norm clipped at 5, 1500 steps (4.8 M characters, ≈ 5 passes)",
    differences="the reference is a transformer with ~10 M parameters trained on ≈ 80 M characters on a "
                "GPU; ours is a 330 k-parameter LSTM on 4.8 M characters on 2 CPU cores (uniform: 4.17)",
    target={"val_nats_per_char": 1.85}, minutes=3, run=run))
