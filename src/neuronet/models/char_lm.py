"""Character-level language model (MISSION D7): stacked recurrent layers and a
per-step softmax over the characters, with temperature sampling.

    p(c_{t+1} | c_1..c_t) = softmax(V·h_t + b),   h_t = RNN(onehot(c_t), h_{t-1})

trained by truncated BPTT (:func:`neuronet.fit_stream`) with the per-step cross-entropy
(:class:`~neuronet.layers.sequence.SequenceSoftmaxCrossEntropy`, in nats per character).
"""
from __future__ import annotations

import numpy as np

from ..backend import asnumpy
from ..data.text import CharVocab, one_hot
from ..layers.containers import Sequential
from ..layers.dense import Dense
from ..layers.recurrent import GRU, LSTM, RNN
from ..layers.sequence import TimeDistributed
from ..module import Module
from ..random import make_rng
from ..validation import check_int, check_positive

__all__ = ["CharLM"]

_CELLS = {"lstm": LSTM, "gru": GRU, "rnn": RNN}


class CharLM(Module):
    """``n_layers`` stateful recurrent layers (``cell`` = ``'lstm'``, ``'gru'`` or
    ``'rnn'``) of ``n_hidden`` units on one-hot characters, then a Dense to the
    ``vocab_size`` logits at every step. Input ``(T, N, V)`` one-hot (see
    :meth:`encode_inputs`), output logits ``(T, N, V)``.
    """

    def __init__(self, vocab_size: int, n_hidden: int = 256, n_layers: int = 1, cell: str = "lstm",
                 peepholes=(), seed=None, dtype=None):
        V = check_int(vocab_size, "vocab_size", minimum=1)
        H = check_int(n_hidden, "n_hidden", minimum=1)
        check_int(n_layers, "n_layers", minimum=1)
        if cell not in _CELLS:
            raise ValueError(f"cell must be one of {sorted(_CELLS)}, got {cell!r}")
        rng = make_rng(None, seed)
        extra = {"peepholes": peepholes} if cell == "lstm" else {}
        # the first layer's input is data: no ∂E/∂x needed (input_grad=False saves a GEMM)
        layers = [_CELLS[cell](V if k == 0 else H, H, stateful=True, rng=rng, dtype=dtype,
                               input_grad=k > 0, **extra)
                  for k in range(n_layers)]
        self.vocab_size = V
        self.net = Sequential(*layers, TimeDistributed(Dense(H, V, rng=rng, dtype=dtype)))

    @property
    def recurrent(self):
        return self.net.layers[:-1]

    def forward(self, x):
        return self.net.forward(x)

    def backward(self, dy):
        return self.net.backward(dy)

    def encode_inputs(self, codes):
        """Character codes ``(T, N)`` → one-hot ``(T, N, V)`` in the model's dtype."""
        return one_hot(codes, self.vocab_size, self.net.layers[-1].module.W.data.dtype)

    def reset_state(self):
        for layer in self.recurrent:
            layer.reset_state()

    def sample(self, vocab: CharVocab, prime: str = "\n", length: int = 200, temperature: float = 1.0,
               rng=None, seed=None) -> str:
        """``prime`` followed by ``length`` characters drawn one at a time from
        ``p_c ∝ exp(a_c / τ)`` (temperature ``τ``: → 0 greedy, 1 the model's own
        distribution, > 1 flatter). The carried training state is left untouched."""
        check_int(length, "length", minimum=0)
        tau = check_positive(temperature, "temperature")
        if not prime:
            raise ValueError("prime must hold at least one character")
        if vocab.size != self.vocab_size:
            raise ValueError(f"the vocabulary has {vocab.size} characters, the model {self.vocab_size}")
        gen = make_rng(rng, seed)
        saved = [layer.get_state() for layer in self.recurrent]
        was_training = self.training
        self.eval()
        self.reset_state()
        try:
            logits = self.forward(self.encode_inputs(vocab.encode(prime)[:, None]))[-1, 0]
            out = []
            for _ in range(length):
                a = asnumpy(logits).astype(np.float64) / tau
                p = np.exp(a - a.max())
                c = int(gen.choice(self.vocab_size, p=p / p.sum()))
                out.append(c)
                logits = self.forward(self.encode_inputs(np.array([[c]])))[-1, 0]
        finally:
            for layer, s in zip(self.recurrent, saved):
                layer.set_state(s)
            self.train(was_training)
        return prime + vocab.decode(out)
