"""Multi-layer perceptrons and the lecture's first examples (MISSION A1).

* :class:`MLP`: ``Dense → activation → [Dropout] → … → Dense`` from a list of sizes.
* The McCulloch–Pitts neuron ``a(x, w) = σ(⟨w, x⟩ − w₀)`` with a threshold
  ``σ``, and the logic functions of the lecture as single neurons:

  - ``x¹ ∧ x² = [x¹ + x² − 3/2 > 0]``
  - ``x¹ ∨ x² = [x¹ + x² − 1/2 > 0]``
  - ``¬x¹ = [−x¹ + 1/2 > 0]``

* XOR is not a single neuron (no line separates its classes: Rosenblatt's
  perceptron never reaches zero errors); it is solved by the added feature
  ``x¹ ⊕ x² = [x¹ + x² − 2x¹x² − 1/2 > 0]`` and by a two-layer net
  ``x¹ ⊕ x² = [(x¹ ∨ x²) − (x¹ ∧ x²) − 1/2 > 0]``, or one trained by BackProp.
"""
from __future__ import annotations

import numpy as np

from ..layers.activations import ReLU, Sigmoid, Tanh, Threshold
from ..layers.containers import Sequential
from ..layers.dense import Dense
from ..layers.dropout import Dropout
from ..random import make_rng
from ..validation import as_float_array, check_features, check_int, check_ndim, check_probability, check_sizes

__all__ = ["MLP", "ACTIVATIONS", "threshold_neuron", "LOGIC_NEURONS", "logic_neuron",
           "xor_product_feature", "xor_feature_neuron", "xor_two_layer_threshold_net",
           "perceptron_train", "train_xor_backprop"]

ACTIVATIONS = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}


class MLP(Sequential):
    """``sizes = [n_in, h_1, …, n_out]``: Dense layers with ``activation`` between them.

    ``dropout`` (hidden layers) and ``input_dropout`` add :class:`Dropout` with that
    ``p``; the output layer has no activation (logits for SoftmaxCrossEntropy).
    ``seed`` seeds the weights and the dropout masks.
    """

    def __init__(self, sizes, activation: str = "relu", dropout: float = 0.0,
                 input_dropout: float = 0.0, init: str | None = None, seed=None, dtype=None):
        sizes = check_sizes(sizes, "sizes", min_len=2)  # at least [n_in, n_out]
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        check_probability(dropout, "dropout")
        check_probability(input_dropout, "input_dropout")
        if init is None:
            init = "he" if activation == "relu" else "glorot"
        rng = make_rng(seed=seed)
        layers = []
        if input_dropout:
            layers.append(Dropout(input_dropout, rng=np.random.default_rng(rng.integers(2**63))))
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Dense(a, b, init=init, rng=np.random.default_rng(rng.integers(2**63)),
                                dtype=dtype, input_grad=i > 0))
            if i < len(sizes) - 2:
                layers.append(ACTIVATIONS[activation]())
                if dropout:
                    layers.append(Dropout(dropout, rng=np.random.default_rng(rng.integers(2**63))))
        super().__init__(*layers)


# --------------------------------------------------------------- A1: logic
def threshold_neuron(w, w0: float, dtype=np.float64) -> Sequential:
    """McCulloch–Pitts neuron ``a(x) = [Σ_j w_j x^j − w₀ ≥ 0]`` as ``Dense → Threshold('step')``."""
    w = np.asarray(w, dtype=dtype).reshape(-1)
    dense = Dense(len(w), 1, dtype=dtype)
    dense.W.data[:, 0] = w
    dense.b.data[0] = -w0
    return Sequential(dense, Threshold("step"))


#: the lecture's weights ``(w, w₀)`` for ``[⟨w, x⟩ − w₀ > 0]``
LOGIC_NEURONS = {
    "and": ([1.0, 1.0], 1.5),
    "or": ([1.0, 1.0], 0.5),
    "not": ([-1.0], -0.5),
}


def logic_neuron(name: str) -> Sequential:
    """AND, OR or NOT as a single threshold neuron with the lecture's weights."""
    key = str(name).lower()
    if key not in LOGIC_NEURONS:
        raise ValueError(f"name must be one of the single-neuron logic functions {sorted(LOGIC_NEURONS)}, got {name!r} "
                         "(XOR is not one neuron: see xor_feature_neuron, xor_two_layer_threshold_net)")
    return threshold_neuron(*LOGIC_NEURONS[key])


def xor_product_feature(X):
    """``(x¹, x²) → (x¹, x², x¹x²)``: the nonlinear feature that makes XOR separable."""
    X = np.asarray(X, dtype=np.float64)
    return np.c_[X, X[:, 0] * X[:, 1]]


def xor_feature_neuron() -> Sequential:
    """``[x¹ + x² − 2x¹x² − 1/2 > 0]`` on the features of :func:`xor_product_feature`."""
    return threshold_neuron([1.0, 1.0, -2.0], 0.5)


def xor_two_layer_threshold_net() -> Sequential:
    """``[(x¹ ∨ x²) − (x¹ ∧ x²) − 1/2 > 0]``: hidden OR and AND neurons, one output neuron."""
    hidden = Dense(2, 2, dtype=np.float64)
    (w_or, b_or), (w_and, b_and) = LOGIC_NEURONS["or"], LOGIC_NEURONS["and"]
    hidden.W.data[:] = np.array([w_or, w_and]).T
    hidden.b.data[:] = [-b_or, -b_and]
    out = Dense(2, 1, dtype=np.float64)
    out.W.data[:, 0] = [1.0, -1.0]
    out.b.data[0] = -0.5
    return Sequential(hidden, Threshold("step"), out, Threshold("step"))


def perceptron_train(X, y, epochs: int = 100, lr: float = 1.0, rng=None, seed=None):
    """Rosenblatt's rule on one threshold neuron, objects in random order:
    ``w := w + η (y_i − a(x_i)) x_i``, ``w₀ := w₀ − η (y_i − a(x_i))``, ``y ∈ {0, 1}``.

    Returns ``(w, w0, errors)`` with the number of misclassified objects after each
    epoch.  On a linearly separable set the errors reach 0 (Novikoff's theorem);
    on XOR they never do.
    """
    X, y = as_float_array(X, np.float64, "X"), as_float_array(y, np.float64, "y")
    check_ndim(X, 2, "X")
    check_features(y, len(X), axis=0, name="y", what="labels (one per row of X)")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError(f"y must hold labels 0 or 1, got values {np.unique(y)[:5].tolist()}")
    epochs = check_int(epochs, "epochs", minimum=1)
    gen = make_rng(rng, seed)
    w, w0 = np.zeros(X.shape[1]), 0.0
    errors = []
    for _ in range(epochs):
        for i in gen.permutation(len(X)):  # one object at a time, as the lecture's SG
            d = y[i] - float(X[i] @ w - w0 >= 0)
            w += lr * d * X[i]
            w0 -= lr * d
        errors.append(int(np.sum((X @ w - w0 >= 0) != (y > 0.5))))
    return w, w0, errors


def train_xor_backprop(hidden: int = 4, epochs: int = 2000, lr: float = 0.5, seed: int = 0):
    """A two-layer sigmoid net ``2 → hidden → 1`` trained by BackProp with per-object SG
    (``batch_size=1``) and the squared loss ``½(a − y)²``; returns ``(net, history)``."""
    from ..losses import MSE
    from ..optim import SGD
    from ..train.callbacks import StopAtTarget
    from ..train.supervised import fit
    from ..data.toy import logic_table
    X, y = logic_table("xor")
    net = Sequential(Dense(2, hidden, dtype=np.float64, seed=seed), Sigmoid(),
                     Dense(hidden, 1, dtype=np.float64, seed=seed + 1), Sigmoid())
    hist = fit(net, MSE(), SGD(net.parameters(), lr=lr), X, y.reshape(-1, 1).astype(np.float64),
               epochs=epochs, batch_size=1, seed=seed, validation=(X, y.reshape(-1, 1).astype(np.float64)),
               metrics=["accuracy"], callbacks=[StopAtTarget("val_loss", 0.01, mode="min")])
    return net, hist
