"""The deep autoencoder of Hinton & Salakhutdinov (2006), "Reducing the dimensionality
of data with neural networks" (lecture 004; MISSION E6).

A stack of RBMs ``sizes[0] → … → sizes[-1]`` is pretrained greedily (the top one
with Gaussian hidden units: the linear code layer of their ``rbmhidlinear.m``),
then unrolled into an encoder and a decoder::

    encoder:  x^l = σ(x^{l−1} W_l + b_l),   code z = x^{L−1} W_L + b_L   (linear)
    decoder:  y^{L−1} = σ(z W_Lᵀ + a_L),   …,   x̂ = σ(y^1 W_1ᵀ + a_1)

so the decoder starts from the transposed weights and the RBMs' visible biases.
Fine-tuning by backprop minimises the cross-entropy of the reconstruction,
``E = −(1/N) Σ_n Σ_i [x_i log x̂_i + (1 − x_i) log(1 − x̂_i)]``, through both halves
(any :mod:`neuronet.optim` rule; the paper used conjugate gradients).
"""
from __future__ import annotations

from .. import validation as V
from ..backend import get_default_dtype
from ..layers import Sequential
from ..module import Module

__all__ = ["DeepAutoencoder"]


class DeepAutoencoder(Module):
    """``DeepAutoencoder(sizes)``, e.g. ``[784, 1000, 500, 250, 30]``: an encoder and a
    mirrored decoder (two ``Sequential``s); ``code='gaussian'`` makes the code layer
    linear, ``'bernoulli'`` logistic. Built with small random weights (``init_std``);
    :meth:`pretrain` or :meth:`from_dbn` gives them the RBMs' weights."""

    def __init__(self, sizes, code: str = "gaussian", init_std: float = 0.01, seed=None, rng=None,
                 dtype=None):
        from ..energy.dbn import DBN

        if code not in ("gaussian", "bernoulli"):
            raise ValueError(f"code must be 'gaussian' (linear) or 'bernoulli' (logistic), got {code!r}")
        self.code = code
        stack = DBN(sizes, hidden=self._hidden(len(sizes) - 1, code), init_std=init_std, seed=seed,
                    rng=rng, dtype=dtype or get_default_dtype())
        self.sizes = stack.sizes
        self._spec_args["sizes"] = list(self.sizes)
        self._unroll(stack)

    @staticmethod
    def _hidden(n_rbms, code):
        return ["bernoulli"] * (n_rbms - 1) + [code]

    def _unroll(self, dbn) -> None:
        """Encoder: ``dbn.to_network()``; decoder: each RBM's down-pass, top RBM first."""
        self.encoder = dbn.to_network()
        self.decoder = Sequential(*[layer for r in reversed(dbn.rbms) for layer in r.to_layers(decoder=True)])

    @classmethod
    def from_dbn(cls, dbn) -> "DeepAutoencoder":
        """The unrolled autoencoder of a pretrained :class:`~neuronet.energy.DBN` (without
        labels, Bernoulli data layer); weights are copies."""
        from ..energy.dbn import DBN

        if not isinstance(dbn, DBN):
            raise TypeError(f"from_dbn takes a neuronet.energy.DBN, got {type(dbn).__name__}")
        if dbn.n_labels:
            raise ValueError(f"a deep autoencoder unrolls a DBN without label units, this one has "
                             f"n_labels={dbn.n_labels}")
        code = dbn.rbms[-1].hidden.name
        if dbn.data_units.name != "bernoulli" or any(r.hidden.name != "bernoulli" for r in dbn.rbms[:-1]) \
                or code not in ("gaussian", "bernoulli"):
            raise ValueError("a deep autoencoder needs Bernoulli data and hidden layers and a Gaussian "
                             f"or Bernoulli code layer; this DBN has hidden units "
                             f"{[r.hidden.name for r in dbn.rbms]}")
        ae = cls(dbn.sizes, code=code, dtype=dbn.rbms[0].dtype)
        ae._unroll(dbn)
        return ae

    def pretrain(self, X, epochs=10, batch_size=100, layers=None, seed=None, verbose=True, **fit_kwargs):
        """Greedy RBM pretraining (:meth:`DBN.pretrain`, Hinton's ``rbm.m`` defaults; a
        Gaussian code layer learns at ``lr=0.001`` as in ``rbmhidlinear.m`` unless
        ``layers`` says otherwise), then unrolling. Returns the per-layer histories."""
        from ..energy.dbn import DBN

        n = len(self.sizes) - 1
        stack = DBN(self.sizes, hidden=self._hidden(n, self.code), seed=seed,
                    dtype=self.encoder.layers[0].W.data.dtype)
        if layers is None:
            layers = [{}] * (n - 1) + [{"lr": 0.001} if self.code == "gaussian" else {}]
        histories = stack.pretrain(X, epochs=epochs, batch_size=batch_size, layers=layers, seed=seed,
                                   verbose=verbose, **fit_kwargs)
        self._unroll(stack)
        return histories

    # ------------------------------------------------------------------ passes
    def forward(self, x):
        return self.decoder.forward(self.encoder.forward(x))

    def backward(self, dy):
        return self.encoder.backward(self.decoder.backward(dy))

    def _batched(self, net, X, n, name, batch_size):
        from ..train import predict

        X = V.as_float_array(X, self.encoder.layers[0].W.data.dtype, name)
        V.check_ndim(X, 2, name, "(N, features)")
        V.check_features(X, n, name=name)
        return predict(net, X, batch_size)

    def encode(self, X, batch_size: int = 4096):
        """Codes ``z`` of the rows of ``X``, ``(N, sizes[-1])``."""
        return self._batched(self.encoder, X, self.sizes[0], "X", batch_size)

    def decode(self, Z, batch_size: int = 4096):
        """Reconstructions ``x̂`` (probabilities) of codes ``Z``, ``(N, sizes[0])``."""
        return self._batched(self.decoder, Z, self.sizes[-1], "Z", batch_size)

    def reconstruct(self, X, batch_size: int = 4096):
        """``decode(encode(X))``."""
        return self.decode(self.encode(X, batch_size), batch_size)

    # ------------------------------------------------------------- fine-tuning
    def logit_network(self) -> Sequential:
        """Encoder and decoder without the final sigmoid, sharing this model's layers: what
        :meth:`fit` trains with ``BinaryCrossEntropy(from_logits=True)`` (stable)."""
        return Sequential(*self.encoder.layers, *self.decoder.layers[:-1])

    def fit(self, X, epochs: int = 10, batch_size: int = 100, optimizer=None, lr: float = 1e-3,
            validation=None, **fit_kwargs):
        """Backprop fine-tuning on the reconstruction's cross-entropy with ``nt.fit``
        (``optimizer`` defaults to ``Adam(lr)``; ``validation`` is held-out rows).
        Keywords go to ``nt.fit`` (``seed``, ``callbacks``, ``progress``, ``resume_from`` …)."""
        from ..losses import BinaryCrossEntropy
        from ..optim import Adam
        from ..train import fit

        X = V.as_float_array(X, self.encoder.layers[0].W.data.dtype, "X")
        V.check_ndim(X, 2, "X", "(N, features)")
        V.check_features(X, self.sizes[0], name="X")
        net = self.logit_network()
        optimizer = optimizer or Adam(net.parameters(), lr=lr)
        val = None if validation is None else (validation, validation)
        return fit(net, BinaryCrossEntropy(from_logits=True), optimizer, X, X, epochs=epochs,
                   batch_size=batch_size, validation=val, metrics=(), **fit_kwargs)
