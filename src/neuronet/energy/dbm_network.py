"""A DBM unrolled into a feed-forward classifier (Salakhutdinov & Hinton 2009, §5 and Fig. 5).

Mean field gives each case ``v`` its marginals ``q(h²)``; the network's input is the
augmented ``[v, q(h²)]`` and its first hidden layer computes the DBM's fixed-point
equation for ``h¹`` with the DBM's weights::

    h¹ = σ(b¹ + v W¹ + q(h²) W²ᵀ),   h^l = σ(b^l + h^{l−1} W^l)  (l = 2..L),   out = h^L W_out + b_out

``W¹`` and ``W²ᵀ`` are stacked into one ``Dense(n_v + n_2, n_1)``; the copies of
``W²`` (down into ``h¹`` and up into ``h²``) are trained separately by backprop, as in
the paper. ``q(h²)`` is computed once, before fine-tuning, and stays fixed. With
``dropout`` a :class:`~neuronet.layers.Dropout` follows every hidden layer
(``input_dropout`` before the first), the table's last row.
"""
from __future__ import annotations

from .. import validation as V
from ..backend import asnumpy, device_of, get_array_module

__all__ = ["augment", "to_network"]


def augment(dbm, X, steps: int = 10, tol: float = 1e-7, chunk: int = 4096):
    """``[X, q(h²)]``: the rows of ``X`` with their mean-field marginals of the second hidden layer."""
    X = dbm._check_data(X, "X")
    xp = get_array_module(X)
    parts = [dbm.mean_field(X[i:i + chunk], steps=steps, tol=tol)[1] for i in range(0, len(X), chunk)]
    return xp.concatenate([X, xp.concatenate(parts).astype(X.dtype, copy=False)], axis=1)


def to_network(dbm, n_out: int, dropout: float = 0.0, input_dropout: float = 0.0, seed=None):
    """The DBM's weights as a ``Sequential`` whose input is :func:`augment`'s ``[v, q(h²)]`` and
    whose last layer is a new ``Dense(n_L, n_out)`` (logits for ``SoftmaxCrossEntropy``)."""
    from ..layers import Dense, Dropout, Sequential, Sigmoid
    from ..random import make_rng

    V.check_int(n_out, "n_out", minimum=1)
    V.check_probability(dropout, "dropout")
    V.check_probability(input_dropout, "input_dropout")
    rng = make_rng(seed=seed) if seed is not None else dbm._rng
    W, b, sizes = dbm.weights, dbm.biases, dbm.sizes
    layers = [Dropout(input_dropout, rng=_child(rng))] if input_dropout else []
    first = Dense(sizes[0] + sizes[2], sizes[1], dtype=dbm.dtype, rng=rng, input_grad=bool(input_dropout))
    first.W.data[:sizes[0]] = asnumpy(W[0].data)  # built on the host, moved beside the DBM below
    first.W.data[sizes[0]:] = asnumpy(W[1].data).T
    first.b.data[...] = asnumpy(b[1].data)
    layers += [first, Sigmoid()]
    for l in range(2, dbm.n_layers + 1):
        if dropout:
            layers.append(Dropout(dropout, rng=_child(rng)))
        dense = Dense(sizes[l - 1], sizes[l], dtype=dbm.dtype, rng=rng)
        dense.W.data[...] = asnumpy(W[l - 1].data)
        dense.b.data[...] = asnumpy(b[l].data)
        layers += [dense, Sigmoid()]
    if dropout:
        layers.append(Dropout(dropout, rng=_child(rng)))
    layers.append(Dense(sizes[-1], n_out, dtype=dbm.dtype, rng=rng))
    return Sequential(*layers).to(device_of(W[0].data))


def _child(rng):
    import numpy as np
    return np.random.default_rng(rng.integers(2 ** 63))
