"""Greedy layer-wise pretraining by (denoising) autoencoders: the alternative to RBMs
that the lecture names (MISSION C6; Bengio et al. 2007, Vincent et al. 2008).

Layer ``l`` is a one-hidden-layer autoencoder of the codes ``x^{l−1}`` of the
layers below, trained by backprop on the cross-entropy of its reconstruction of
the clean input from a corrupted copy (masking noise: each input set to zero with
probability ``noise``; ``noise=0`` gives a plain autoencoder)::

    x̃ = x ⊙ ξ,  ξ_i ~ Bernoulli(1 − noise)
    h = σ(x̃ W_l + b_l),   x̂ = σ(h W'_l + c_l)
    E = −(1/N) Σ_n Σ_i [x_i log x̂_i + (1 − x_i) log(1 − x̂_i)]

Then ``x^l = σ(x^{l−1} W_l + b_l)`` (clean) feeds the next layer. The encoders
``(W_l, b_l)`` make the same kind of initialised ``Sequential`` as a DBN's
``to_network()``; the decoders ``W'_l`` are discarded.
"""
from __future__ import annotations

from .. import validation as V
from ..backend import get_default_dtype
from ..layers import Dense, Dropout, Sequential, Sigmoid
from ..module import Module
from ..random import make_rng

__all__ = ["AutoencoderStack"]


class AutoencoderStack(Module):
    """``AutoencoderStack(sizes, noise=0.25)``: encoders ``sizes[l] → sizes[l+1]`` (Dense +
    Sigmoid) with their decoders; inputs in ``[0, 1]``. Weights start Glorot-uniform
    from ``seed``/``rng``."""

    def __init__(self, sizes, noise: float = 0.25, seed=None, rng=None, dtype=None):
        self.sizes = V.check_sizes(sizes, "sizes", min_len=2, what="layer widths (data first)")
        self._spec_args["sizes"] = list(self.sizes)
        self.noise = V.check_probability(noise, "noise")
        self._rng = make_rng(rng, seed)
        dtype = dtype or get_default_dtype()
        pairs = list(zip(self.sizes[:-1], self.sizes[1:]))
        self.encoders = [Dense(i, o, rng=self._rng, dtype=dtype) for i, o in pairs]
        self.decoders = [Dense(o, i, rng=self._rng, dtype=dtype) for i, o in pairs]

    def _check_X(self, X, name="X"):
        X = V.as_float_array(X, self.encoders[0].W.data.dtype, name)
        V.check_ndim(X, 2, name, "(N, features)")
        V.check_features(X, self.sizes[0], name=name)
        V.check_finite(X, name)
        if X.size and (X.min() < 0 or X.max() > 1):
            raise ValueError(f"{name} must be in [0, 1] (the reconstruction's cross-entropy), got values "
                             f"in [{float(X.min())}, {float(X.max())}]")
        return X

    def _up(self, X, n_layers, batch_size=4096):
        """``x^{n_layers}``: the clean codes of the first ``n_layers`` encoders."""
        from ..train import predict

        if n_layers == 0:
            return X
        return predict(Sequential(*[m for enc in self.encoders[:n_layers] for m in (enc, Sigmoid())]),
                       X, batch_size)

    def layer_network(self, layer: int) -> Sequential:
        """The denoising autoencoder of layer ``layer`` as trained: masking noise, encoder,
        sigmoid, decoder (logits). Shares this stack's Dense layers."""
        noise = Dropout(self.noise, inverted=False, rng=self._rng)  # x ⊙ ξ, unscaled
        return Sequential(noise, self.encoders[layer], Sigmoid(), self.decoders[layer])

    def pretrain(self, X, epochs: int = 10, batch_size: int = 20, lr: float = 1e-3, optimizer: str = "Adam",
                 seed=None, progress: bool = False, **fit_kwargs) -> list:
        """Train the autoencoders greedily, bottom-up, each with ``nt.fit`` on
        ``BinaryCrossEntropy(from_logits=True)`` against the clean codes; returns the
        per-layer histories (``optimizer``: the name of an ``nt.optim`` rule)."""
        from .. import optim
        from ..losses import BinaryCrossEntropy
        from ..train import fit

        X = self._check_X(X)
        histories = []
        for layer in range(len(self.encoders)):
            codes = self._up(X, layer)
            net = self.layer_network(layer)
            opt = getattr(optim, optimizer)(net.parameters(), lr=lr)
            if progress:
                from tqdm.auto import tqdm
                tqdm.write(f"autoencoder layer {layer + 1}/{len(self.encoders)}: "
                           f"{self.sizes[layer]}-{self.sizes[layer + 1]}, noise {self.noise}")
            histories.append(fit(net, BinaryCrossEntropy(from_logits=True), opt, codes, codes,
                                 epochs=epochs, batch_size=batch_size, metrics=(), progress=progress,
                                 seed=None if seed is None else seed + layer, **fit_kwargs))
        return histories

    def transform(self, X, batch_size: int = 4096):
        """Top codes: ``x^L`` with ``x^l = σ(x^{l−1} W_l + b_l)``."""
        return self._up(self._check_X(X), len(self.encoders), batch_size)

    def forward(self, x):
        return self.transform(x)

    def to_network(self, n_out: int | None = None, seed=None, rng=None) -> Sequential:
        """Copies of the encoders as ``Dense + Sigmoid`` per layer, plus ``Dense(sizes[-1],
        n_out)`` when ``n_out`` is given: the initialised net for backprop fine-tuning."""
        layers = []
        for enc in self.encoders:
            dense = Dense(enc.n_in, enc.n_out, dtype=enc.W.data.dtype)
            dense.W.data[...], dense.b.data[...] = enc.W.data, enc.b.data
            layers += [dense, Sigmoid()]
        if n_out is not None:
            V.check_int(n_out, "n_out", minimum=1)
            layers.append(Dense(self.sizes[-1], n_out, seed=seed, rng=rng, dtype=self.encoders[0].W.data.dtype))
        return Sequential(*layers)
