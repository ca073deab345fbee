"""Dynamic growth of a hidden layer (the lecture's heuristic): start with too few
hidden neurons; when ``Q`` stabilises, add a neuron and continue backprop.

Inserting unit ``H+1`` into ``y = φ(x W + b)`` followed by ``z = y V + c`` appends a
column ``w`` to ``W``, an entry ``β`` to ``b`` and a row ``v`` to ``V``. With ``v = 0``
the net's output is unchanged; every existing weight stays as it was (the optimiser's
per-weight state, momentum buffers and running averages, grows with zeros). The new
neuron is initialised by fitting ``v·φ(x w + β)`` to the residual ``−∂L/∂z`` (the
direction the outputs should move), one of the lecture's four ways:

* ``'subsample'`` — on a random subsample of the objects;
* ``'worst'`` — on the objects with the largest loss;
* ``'inputs'`` — on a random subset of the inputs (the other input weights stay 0);
* ``'best_of'`` — the best of several random starts (lowest residual error).

:class:`Grow` is the callback that does it on the training loop.
"""
from __future__ import annotations

import numpy as np

from ..backend import asnumpy, get_array_module
from ..layers.containers import Sequential
from ..layers.dense import Dense
from ..losses import MSE
from ..module import MODULES
from ..optim import Adam
from ..random import make_rng
from ..train.callbacks import Callback
from ..train.supervised import evaluate, fit
from ..validation import as_float_array, check_choice, check_int, check_positive
from .stall import StallDetector

__all__ = ["grow_dense", "init_new_unit", "layer_input", "Grow", "STRATEGIES"]

STRATEGIES = ("subsample", "worst", "inputs", "best_of")


def _pad(a, axis, n, fill):
    xp = get_array_module(a)
    shape = list(a.shape)
    shape[axis] = n
    return xp.concatenate([a, xp.full(shape, fill, dtype=a.dtype)], axis=axis)


def _grow_param(p, axis, n, new_values, optimizer):
    """Append ``n`` slices along ``axis`` to ``p`` (data = ``new_values``), in place on the
    same Parameter object; grad, curv, mask and the optimiser's state arrays grow too."""
    xp = get_array_module(p.data)
    old_shape = tuple(p.data.shape)
    p.data = xp.concatenate([p.data, xp.asarray(new_values, dtype=p.data.dtype)], axis=axis)
    p.grad = xp.zeros_like(p.data)
    p.curv = None if p.curv is None else _pad(p.curv, axis, n, 0)
    p.mask = None if p.mask is None else _pad(p.mask, axis, n, True)
    if optimizer is None:
        return
    for q, state in zip(optimizer.params, optimizer.state):
        if q is p:
            for k, v in state.items():
                if hasattr(v, "shape") and tuple(v.shape) == old_shape:
                    state[k] = _pad(v, axis, n, 0)


def grow_dense(layer: Dense, next_layer: Dense, optimizer=None, w_in=None, b_in=None, w_out=None):
    """Add ``n`` units to ``layer`` (columns ``w_in (n_in, n)`` of ``W``, entries ``b_in
    (n,)`` of ``b``) and the matching rows ``w_out (n, n_out')`` to ``next_layer.W``.
    Defaults: one unit, all zeros (so the net's function does not change)."""
    if not isinstance(layer, Dense) or not isinstance(next_layer, Dense):
        raise TypeError(f"grow_dense takes two Dense layers, got {type(layer).__name__} and "
                        f"{type(next_layer).__name__}")
    if next_layer.n_in != layer.n_out:
        raise ValueError(f"next_layer takes {next_layer.n_in} inputs, layer gives {layer.n_out}")
    dt = layer.W.data.dtype
    w_in = np.zeros((layer.n_in, 1)) if w_in is None else np.asarray(w_in, dtype=np.float64)
    n = w_in.shape[1] if w_in.ndim == 2 else 0
    if w_in.shape != (layer.n_in, n) or n < 1:
        raise ValueError(f"w_in must have shape (n_in, n) = ({layer.n_in}, n), got {w_in.shape}")
    b_in = np.zeros(n) if b_in is None else np.asarray(b_in, dtype=np.float64).reshape(n)
    w_out = np.zeros((n, next_layer.n_out)) if w_out is None else \
        np.asarray(w_out, dtype=np.float64).reshape(n, next_layer.n_out)
    _grow_param(layer.W, 1, n, w_in.astype(dt), optimizer)
    if layer.b is not None:
        _grow_param(layer.b, 0, n, b_in.astype(dt), optimizer)
    _grow_param(next_layer.W, 0, n, w_out.astype(dt), optimizer)
    layer.n_out += n
    next_layer.n_in += n
    layer._spec_args["n_out"], next_layer._spec_args["n_in"] = layer.n_out, next_layer.n_in
    return layer.n_out


def _unit_net(n_in, activation, n_out, rng, dtype, features=None):
    """``v·φ(x w + β)``: the candidate neuron with its outgoing weights, as a small net."""
    act = MODULES[type(activation).__name__](**activation.spec()["args"])
    unit = Sequential(Dense(n_in, 1, rng=rng, dtype=dtype), act,
                      Dense(1, n_out, bias=False, rng=rng, dtype=dtype, init="zeros"))
    if features is not None:
        keep = np.zeros((n_in, 1), dtype=bool)
        keep[features] = True
        unit.layers[0].W.set_mask(keep)
    return unit


def init_new_unit(strategy, H_in, residual, activation, *, per_sample_loss=None, rng=None,
                  n_samples: int = 256, n_starts: int = 5, epochs: int = 20, lr: float = 0.01):
    """``(w_in, β, v, error)`` of a new neuron fitted to ``residual (N, K)`` from the
    grown layer's inputs ``H_in (N, n_in)`` by ``strategy`` (one of :data:`STRATEGIES`);
    ``'worst'`` needs each object's loss in ``per_sample_loss``. Trained on the one
    training loop (``nt.fit``, MSE, Adam)."""
    check_choice(strategy, "strategy", STRATEGIES)
    gen = make_rng(rng)
    H_in = np.asarray(asnumpy(H_in), dtype=np.float64)
    R = np.asarray(asnumpy(residual), dtype=np.float64)
    N, n_in = H_in.shape
    m = min(check_int(n_samples, "n_samples", minimum=1), N)
    if strategy == "worst":
        if per_sample_loss is None:
            raise ValueError("strategy 'worst' needs per_sample_loss (each object's loss)")
        rows = np.argsort(-np.asarray(per_sample_loss))[:m]
    else:
        rows = gen.choice(N, m, replace=False)
    features = gen.choice(n_in, max(1, n_in // 2), replace=False) if strategy == "inputs" else None
    best = None
    for _ in range(n_starts if strategy == "best_of" else 1):
        unit = _unit_net(n_in, activation, R.shape[1], gen, np.float64, features)
        fit(unit, MSE(), Adam(unit, lr=lr), H_in[rows], R[rows], epochs=epochs,
            batch_size=32, rng=gen, metrics=[])
        err = evaluate(unit, MSE(), H_in[rows], R[rows], metrics=())["loss"]
        if best is None or err < best[3]:
            W1, W2 = unit.layers[0], unit.layers[2]
            best = (W1.W.data.copy(), W1.b.data.copy(), W2.W.data.copy(), float(err))
    return best


def layer_input(model, index, X):
    """The input of ``model.layers[index]`` for the objects ``X`` (eval mode)."""
    was = model.training
    model.eval()
    try:
        h = as_float_array(X, model.parameters()[0].data.dtype, "X")
        for layer in model.layers[:index]:
            h = layer.forward(h)
    finally:
        model.train(was)
    return h


class Grow(Callback):
    """Grow ``model.layers[index]`` (a Dense layer, then an activation, then the next
    Dense layer) by one neuron whenever ``Q`` stabilises: the training loss fell by less
    than ``threshold`` (relative) over the last ``window`` epochs. Up to ``max_units``
    neurons; each new one by ``strategy``, fitted on a pool of ``n_pool`` objects drawn
    once with ``seed``. ``sizes`` records per epoch the width and the logged losses;
    ``events`` the epochs at which a neuron was added. Growth ends for good when a
    neuron did not pay: at the next stall the loss is not ``min_gain`` (relative) below
    the loss at the stall that added it. A checkpoint holds the grown
    widths (``spec()`` follows them): resume into a model built from it (``nt.load``).
    """

    def __init__(self, loss, X, y, index: int, strategy: str = "subsample", window: int = 3,
                 threshold: float = 0.01, max_units: int | None = None, n_pool: int = 1000,
                 seed: int = 0, min_gain: float = 0.05, **unit_options):
        self.loss, self.index = loss, check_int(index, "index", minimum=0)
        self.strategy = check_choice(strategy, "strategy", STRATEGIES)
        self.stall = StallDetector(window, threshold)
        self.min_gain = float(check_positive(min_gain, "min_gain", allow_zero=True))
        self.done, self._event_loss = False, None
        self.max_units = None if max_units is None else check_int(max_units, "max_units", minimum=1)
        self.rng = make_rng(None, seed)
        idx = np.sort(self.rng.permutation(len(X))[:check_int(n_pool, "n_pool", minimum=1)])
        self.X, self.y = np.asarray(asnumpy(X))[idx], np.asarray(asnumpy(y))[idx]
        self.unit_options = unit_options
        self.sizes, self.events = [], []

    def _layers(self, model):
        layers = getattr(model, "layers", None)
        nxt = next((j for j in range(self.index + 1, len(layers or [])) if isinstance(layers[j], Dense)),
                   None)
        if nxt is None or not isinstance(layers[self.index], Dense) or nxt != self.index + 2:
            raise TypeError(f"Grow needs model.layers[{self.index}] to be a Dense layer followed by "
                            "an activation and another Dense layer")
        return layers[self.index], layers[self.index + 1], layers[nxt]

    def on_epoch_end(self, trainer, epoch, logs):
        layer, act, nxt = self._layers(trainer.model)
        self.sizes.append({"epoch": epoch, "width": layer.n_out,
                           **{k: float(v) for k, v in logs.items() if "loss" in k}})
        loss = float(logs["loss"])
        if not self.stall.update(loss) or self.done:
            return
        paid = self._event_loss is None or loss < (1 - self.min_gain) * self._event_loss
        if not paid or (self.max_units and layer.n_out >= self.max_units):
            self.done = True
            return
        self.add_unit(trainer.model, trainer.optimizer)
        self.events.append(epoch)
        self._event_loss = loss

    def add_unit(self, model, optimizer=None) -> int:
        """Fit a neuron by ``strategy`` to the residual on the pool and insert it; returns
        the new width."""
        layer, act, nxt = self._layers(model)
        H_in = layer_input(model, self.index, self.X)
        was = model.training
        model.eval()
        try:
            out = model.forward(self.X)
            self.loss.forward(out, self.y)
            residual = -asnumpy(self.loss.backward()) * len(self.X)
            per = [self.loss.forward(out[i:i + 1], self.y[i:i + 1]) for i in range(len(self.X))] \
                if self.strategy == "worst" else None
        finally:
            model.train(was)
        w, b, v, _ = init_new_unit(self.strategy, H_in, residual, act, per_sample_loss=per,
                                   rng=self.rng, **self.unit_options)
        return grow_dense(layer, nxt, optimizer, w, b, v)

    def state_dict(self) -> dict:
        return {"sizes": self.sizes, "events": self.events, "losses": self.stall.losses,
                "done": self.done, "event_loss": self._event_loss}

    def load_state_dict(self, state: dict) -> None:
        self.sizes = list(state.get("sizes", []))
        self.events = list(state.get("events", []))
        self.stall.losses = list(state.get("losses", []))
        self.done, self._event_loss = bool(state.get("done", False)), state.get("event_loss")
