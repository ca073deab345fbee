"""Greedy pretraining of a DBM with doubled weights (Salakhutdinov & Hinton 2009, §3.1; 2012, §4).

In the DBM a hidden layer hears from two neighbours, in an RBM from one. So each
RBM of the stack doubles the input on the side whose neighbour it will later
gain (``rbm.m``/``rbm_l2.m`` of Salakhutdinov's code double the bias too)::

    bottom RBM  (v, h¹):        P(h¹ | v)    = σ(2 (b + v W))      P(v | h¹)    = σ(a + W h¹)
    middle RBMs (h^{l−1}, h^l): P(h^l | ·)   = σ(2 (b + h W))      P(h^{l−1} | ·) = σ(2 (a + W h^l))
    top RBM     (h^{L−1}, hᴸ):  P(hᴸ | ·)    = σ(b + h W [+ y U])  P(h^{L−1} | ·) = σ(2 (a + W hᴸ))

(labels, when given, are a softmax block of the top RBM's visible layer, not
doubled). Each RBM learns by CD-k with these conditionals on the one loop, from
the doubled up-pass means of the one below. The DBM takes ``W_l`` from RBM ``l``;
a hidden layer shared by two RBMs gets the sum of their two biases,
``b_l = b^{(l)} + a^{(l+1)}``, so its DBM input is the average of the two doubled inputs::

    b_l + h^{l−1}W_l + h^{l+1}W_{l+1}ᵀ = ½·2(b^{(l)} + h^{l−1}W_l) + ½·2(a^{(l+1)} + h^{l+1}W_{l+1}ᵀ)
"""
from __future__ import annotations

import numpy as np

from .. import validation as V
from ..backend import device_of, get_array_module, step_scalar
from ..distributed import rank_generator
from ..random import make_rng, set_rng_state
from ..train.loop import Loop, Step
from .dbm_train import switch_momentum
from .rbm import RBM

__all__ = ["DoubledRBMStep", "make_stack", "pretrain", "init_from_rbms"]


class DoubledRBMStep(Step):
    """CD-k for an RBM whose inputs are scaled by ``up`` (to the hiddens) and ``down`` (to the
    first ``n_doubled`` visibles): ``P(h | v) = σ(up (b + vW))``, ``P(v | h) = σ(down (a + Wh))``.

    ``∂/∂W = −(v₀ᵀ q₀ − v_kᵀ q_k)/N`` with ``q = P(h = 1 | v)``, biases likewise (the updates of
    Salakhutdinov's code); the negative visibles are sampled.
    """

    def __init__(self, rbm, optimizer, up: float = 1.0, down: float = 1.0, n_doubled=None, k: int = 1,
                 momentum_schedule=None, rng=None):
        self.model, self.optimizer = rbm, optimizer
        self.up, self.down = float(up), float(down)
        self.n_doubled = rbm.n_visible if n_doubled is None else int(n_doubled)
        self.k = V.check_int(k, "k", minimum=1)
        self.momentum_schedule = momentum_schedule
        self.rng = make_rng(rng)

    def hidden_mean(self, v):
        """``σ(up (b + v W))``."""
        r = self.model
        x = v @ r.W.data
        x += r.b.data
        if self.up != 1:
            x *= self.up
        return r.hidden.mean(x, out=x)

    def visible_mean(self, h):
        """``σ(down (a + W h))`` on the doubled block (the labels' softmax undoubled)."""
        r = self.model
        x = h @ r.W.data.T
        x += r.a.data
        if self.down != 1:
            x[:, :self.n_doubled] *= self.down
        return r.visible.mean(x, out=x)

    def compute(self, batch) -> dict:
        r = self.model
        v0 = batch[0]
        q0 = self.hidden_mean(v0)
        q = q0
        for _ in range(self.k):
            vk = r.visible.sample(self.visible_mean(r.hidden.sample(q, self.rng)), self.rng)
            q = self.hidden_mean(vk)
        N = len(v0)
        r.W.grad += (vk.T @ q - v0.T @ q0) / N
        r.a.grad += (vk - v0).mean(axis=0)
        r.b.grad += (q - q0).mean(axis=0)
        d = v0 - vk
        err = step_scalar((d * d).sum()) / N
        return {"loss": err, "recon_error": err}

    def on_epoch_begin(self, epoch: int) -> None:
        switch_momentum(self.optimizer, self.momentum_schedule, epoch)

    def state_dict(self) -> dict:
        return {"rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        if state:
            set_rng_state(self.rng, state["rng"])


def make_stack(dbm, rng=None) -> list:
    """The RBMs of ``dbm``'s stack, ``(up, down)`` factors beside each: ``[(rbm, up, down), …]``."""
    rng = make_rng(rng)
    L, K, device = dbm.n_layers, dbm.n_labels, device_of(dbm.biases[0].data)  # the RBMs beside the DBM
    out = []
    for l in range(1, L + 1):
        n_vis, n_hid = dbm.sizes[l - 1], dbm.sizes[l]
        visible = "bernoulli" if (l < L or not K) else f"bernoulli*{n_vis}+softmax:{K}*{K}"
        rbm = RBM(n_vis + (K if l == L else 0), n_hid, visible=visible, init_std=0.01,
                  rng=np.random.default_rng(rng.integers(2 ** 63)), dtype=dbm.dtype).to(device)
        out.append((rbm, 2.0 if l < L else 1.0, 1.0 if l == 1 else 2.0))
    return out


def init_from_rbms(dbm, rbms) -> None:
    """``W_l := W^{(l)}``, ``b_0 := a^{(1)}``, ``b_l := b^{(l)} + a^{(l+1)}`` (shared layers),
    ``b_L := b^{(L)}``; with labels ``U := W^{(L)}[labels]ᵀ``, ``c := a^{(L)}[labels]``."""
    L = dbm.n_layers
    if len(rbms) != L:
        raise ValueError(f"a DBM with {L} hidden layers is initialised from {L} RBMs, got {len(rbms)}")
    W, b = dbm.weights, dbm.biases
    b[0].data[...] = rbms[0].a.data
    for l, r in enumerate(rbms, start=1):
        n = dbm.sizes[l - 1]
        W[l - 1].data[...] = r.W.data[:n]
        b[l].data[...] = r.b.data + (rbms[l].a.data[:dbm.sizes[l]] if l < L else 0)
    if dbm.n_labels:
        n = dbm.sizes[L - 1]
        dbm.U.data[...] = rbms[-1].W.data[n:].T
        dbm.c.data[...] = rbms[-1].a.data[n:]


def pretrain(dbm, X, y=None, epochs=10, batch_size: int = 100, lr=None, k: int = 1,
             weight_decay: float = 1e-3, momentum=None, momentum_switch_epoch: int = 5, seed=None,
             progress: bool = False, callbacks=None, comm=None) -> list:
    """Train the doubled RBMs greedily on ``X`` (``y``: labels for the top RBM), then set the
    DBM's parameters from them (:func:`init_from_rbms`). ``epochs`` and ``lr``: one number or
    one per RBM. Returns the trained RBMs. Defaults follow ``rbm.m``: weight cost 1e-3, momentum
    0.5 then 0.9, CD-1, lr 0.05 for the bottom RBM; the others get 0.02 (at 0.05 the doubled
    down-pass of a 500-1000 RBM on MNIST overshoots in its first updates and every hidden
    unit switches off for good, measured). ``comm``: each RBM data-parallel as ``RBM.fit``."""
    from .. import optim

    X = dbm._check_data(X, "X")
    Y = None if y is None else dbm._check_labels(y, len(X))
    if dbm.n_labels and Y is None:
        raise ValueError("this DBM has label units: pretrain needs the labels y")
    per_layer = _per_rbm(epochs, dbm.n_layers, "epochs")
    rates = _per_rbm([0.05] + [0.02] * (dbm.n_layers - 1) if lr is None else lr, dbm.n_layers, "lr")
    rng = make_rng(seed=seed) if seed is not None else dbm._rng
    data, rbms = X, []
    for l, (rbm, up, down) in enumerate(make_stack(dbm, rng), start=1):
        rbm.a.data[...] = rbm.visible.init_bias(_with_labels(data, Y, l == dbm.n_layers))
        opt = optim.Momentum(rbm.parameters(), lr=rates[l - 1], momentum=0.5 if momentum is None else momentum,
                             weight_decay=weight_decay)
        step = DoubledRBMStep(rbm, opt, up=up, down=down, n_doubled=dbm.sizes[l - 1], k=k, rng=rng,
                              momentum_schedule=(0.5, 0.9, momentum_switch_epoch) if momentum is None else None)
        loop = Loop(step, epochs=V.check_int(per_layer[l - 1], f"epochs[{l - 1}]", minimum=1),
                    batch_size=batch_size, rng=rng, progress=progress, callbacks=list(callbacks or []),
                    desc=f"RBM {l} epoch", comm=comm)
        if loop.comm.size > 1:  # the shared order from rng, each rank's own samples
            step.rng = rank_generator(rng, loop.comm)
        loop.run(_with_labels(data, Y, l == dbm.n_layers))
        rbms.append(rbm)
        if l < dbm.n_layers:
            data = _up_pass(step, data)
    init_from_rbms(dbm, rbms)
    return rbms


def _per_rbm(value, n: int, name: str) -> list:
    values = [value] * n if np.ndim(value) == 0 else list(value)
    if len(values) != n:
        raise ValueError(f"{name} needs one value per RBM ({n}), got {len(values)}")
    return values


def _with_labels(data, Y, top: bool):
    if not top or Y is None:
        return data
    xp = get_array_module(data)
    return xp.concatenate([data, Y.astype(data.dtype)], axis=1)


def _up_pass(step, data, chunk: int = 4096):
    """Doubled up-pass means ``σ(2 (b + vW))`` of every row: the next RBM's data."""
    xp = get_array_module(data)
    return xp.concatenate([step.hidden_mean(data[i:i + chunk]) for i in range(0, len(data), chunk)])
