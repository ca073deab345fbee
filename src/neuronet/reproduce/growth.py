"""growth: dynamic growth of a hidden layer (the lecture's heuristic) on the flower set
and on scikit-learn's 8×8 digits.

Start with one hidden neuron; whenever the training loss falls by less than 1 % over 5
epochs add a neuron (fitted to the residual by one of the four initialisations) and
continue backprop; stop growing once a neuron did not lower the loss by 5 % by the next
stall. Compared with fixed-width nets trained from scratch for as many
epochs: the smallest one whose test accuracy reaches the grown net's.
"""
from __future__ import annotations

import numpy as np

from .registry import Reproduction, register

WIDTHS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32)
SCALES = {"full": dict(epochs={"flower": 300, "digits": 120}, widths=WIDTHS, max_units=32,
                       strategies=("subsample", "worst", "inputs", "best_of")),
          "quick": dict(epochs={"flower": 8, "digits": 4}, widths=(2,), max_units=3,
                        strategies=("subsample",))}


def _data(name, seed):
    from ..data import load_digits, make_flower
    if name == "digits":
        (X, y), (Xt, yt) = load_digits("train", seed=seed), load_digits("test", seed=seed)
        return X.astype(np.float64), y, Xt.astype(np.float64), yt
    X, y = make_flower(800, seed=seed)
    perm = np.random.default_rng(seed).permutation(len(X))
    return X[perm[:600]], y[perm[:600]], X[perm[600:]], y[perm[600:]]


def _net(d, width, k, seed):
    from ..layers import Dense, Sequential, Tanh
    return Sequential(Dense(d, width, seed=seed), Tanh(), Dense(width, k, seed=seed + 1)).astype(np.float64)


def _train(net, X, y, Xt, yt, epochs, seed, callbacks=()):
    from ..losses import SoftmaxCrossEntropy
    from ..optim import Adam
    from ..train.supervised import evaluate, fit
    loss = SoftmaxCrossEntropy()
    fit(net, loss, Adam(net, lr=0.01), X, y, epochs=epochs, batch_size=32, seed=seed,
        callbacks=list(callbacks))
    return evaluate(net, loss, Xt, yt)["accuracy"]


def _grown(name, strategy, data, scale, seed):
    from ..losses import SoftmaxCrossEntropy
    from ..surgery import Grow
    X, y, Xt, yt = data
    k = int(y.max()) + 1
    net = _net(X.shape[1], 1, k, seed)
    grow = Grow(SoftmaxCrossEntropy(), X, y, index=0, strategy=strategy, window=5,
                threshold=0.01, max_units=scale["max_units"], n_pool=500, seed=seed, n_starts=3)
    acc = _train(net, X, y, Xt, yt, scale["epochs"][name], seed, [grow])
    return acc, net.layers[0].n_out, grow.sizes


def run(ctx) -> dict:
    from ..viz.surgery import plot_growth
    scale = SCALES["quick" if ctx.quick else "full"]
    out, traces = {}, {}
    for name in ("flower", "digits"):
        data = _data(name, ctx.seed)
        fixed = {w: _train(_net(data[0].shape[1], w, int(data[1].max()) + 1, ctx.seed), *data,
                           scale["epochs"][name], ctx.seed) for w in scale["widths"]}
        for strategy in scale["strategies"]:
            acc, width, sizes = _grown(name, strategy, data, scale, ctx.seed)
            reach = [w for w, a in fixed.items() if a >= acc - 1e-9]
            key = f"{name}_{strategy}"
            out[f"{key}_final_width"], out[f"{key}_test_accuracy"] = width, round(acc, 4)
            out[f"{key}_smallest_fixed_width_reaching_it"] = min(reach) if reach else None
            ctx.log(f"{name}/{strategy}: grew to {width} neurons, test accuracy {acc:.4f}; "
                    f"smallest fixed net reaching it: {min(reach) if reach else 'none'}")
            if strategy == "subsample":
                traces[f"{name} (subsample)"] = sizes
        out[f"{name}_fixed_test_accuracy"] = {str(w): round(a, 4) for w, a in fixed.items()}
    plot_growth(traces, ctx.picture("growth.png"))
    return out


register(Reproduction(
    name="growth",
    title="Growing a hidden layer from one neuron: final size against the smallest fixed net",
    published={},
    source="lecture 3 (dynamic growth heuristic); no published number",
    recipe="one tanh hidden layer starting at 1 neuron (Adam 0.01, batch 32); add a "
           "neuron when the training loss falls < 1 % over 5 epochs (each of the four "
           "initialisations), until a neuron lowers the loss by < 5 %; fixed widths 1..32 "
           "trained from scratch as long",
    differences="flower: 800-point planar set (600 train / 200 test), 300 epochs; digits: "
                "scikit-learn 8×8 (stratified 75/25 split), 120 epochs",
    target={}, minutes=1, lower_is_better=False, run=run))
