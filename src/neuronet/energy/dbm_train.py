"""Joint training of a DBM on the one loop (Salakhutdinov & Hinton, 2009, Algorithm 1).

For a mini-batch of ``N`` cases and ``C`` persistent chains, the gradient of the
negative mean variational bound is, for each weight ``W_l`` between layers ``l−1``
and ``l`` (biases likewise with one layer)::

    ∂/∂W_l = −( (1/N) Σ_n q_{l−1,n} q_{l,n}ᵀ  −  (1/C) Σ_c s̃_{l−1,c} s̃_{l,c}ᵀ )

* positive phase: ``q`` from mean field (:meth:`DBM.mean_field`, ``q_0 = v``, labels clamped);
* negative phase: ``C`` persistent chains advanced by ``gibbs_steps`` odd/even sweeps
  (nothing clamped; they live on between updates, Tieleman's PCD). Every weight
  joins an even and an odd layer, so the statistics use the even layers' states
  and the odd layers' conditional means ``E[s_odd | s_even]`` (Rao–Blackwellised:
  the same expectation, less noise).

Both phases are one stacked product per weight: ``[q; s̃]ᵀ diag(−1/N … +1/C) [q; s̃]``.
Options as in Salakhutdinov's code: learning rate divided by ``lr_decay`` after
every update down to ``lr_min``; weight cost (the optimiser's ``weight_decay``);
momentum 0.5 then 0.9; a sparsity target ``t_l`` per hidden layer, pulling a
running mean ``m_l := d·m_l + (1−d)·mean(q_l)`` of the positive activities with
``g_l = cost·(m_l − t_l)`` added to ``∂/∂b_l`` and to the weights on both sides
(``mean(q_{l−1}) g_lᵀ`` and ``g_l mean(q_{l+1})ᵀ``). The chains, the running means
and the sampler's RNG are the step's state: a checkpoint resumes exactly.
"""
from __future__ import annotations

import numpy as np

from .. import validation as V
from ..backend import asnumpy, get_array_module, step_scalar
from ..distributed import get_communicator, rank_generator, split_count
from ..random import make_rng, set_rng_state
from ..train.loop import Loop, Step

__all__ = ["DBMStep", "fit"]


class DBMStep(Step):
    """One joint update of ``dbm`` per mini-batch ``(v,)`` or ``(v, y)``."""

    def __init__(self, dbm, optimizer, n_chains: int = 100, gibbs_steps: int = 5,
                 mean_field_steps: int = 10, tol: float = 1e-7, lr_decay: float = 1.0,
                 lr_min: float = 0.0, momentum_schedule=None, sparsity_target=None,
                 sparsity_cost: float = 0.0, sparsity_damping: float = 0.9, rng=None):
        self.model, self.optimizer = dbm, optimizer
        self.n_chains = V.check_int(n_chains, "n_chains", minimum=1)
        self.gibbs_steps = V.check_int(gibbs_steps, "gibbs_steps", minimum=1)
        self.mean_field_steps = V.check_int(mean_field_steps, "mean_field_steps", minimum=0)
        self.tol = V.check_positive(tol, "tol", allow_zero=True)
        self.lr_decay = V.check_positive(lr_decay, "lr_decay")
        self.lr_min = V.check_positive(lr_min, "lr_min", allow_zero=True)
        self.momentum_schedule = momentum_schedule  # (first, then, switch epoch) or None
        self.targets = _sparsity_targets(sparsity_target, dbm.n_layers)
        self.sparsity_cost = V.check_positive(sparsity_cost, "sparsity_cost", allow_zero=True)
        self.sparsity_damping = V.check_probability(sparsity_damping, "sparsity_damping")
        self.rng = dbm._rng if rng is None else make_rng(rng)
        self.chains, self.means = None, {}

    # ------------------------------------------------------------- the update
    def compute(self, batch) -> dict:
        d = self.model
        # rows as fit checked them (y one-hot): the dtype here, no range check (a host copy)
        v = d._as_layer(batch[0], 0, "batch")
        q = d.mean_field(v, y=batch[1] if len(batch) > 1 else None, steps=self.mean_field_steps, tol=self.tol,
                         check=False)
        pos = [v] + q
        if self.chains is None:
            self.chains = d.random_states(self.n_chains, self.rng)
        d.gibbs(self.chains, self.gibbs_steps, clamp=(), rng=self.rng)
        neg = [s if i % 2 == 0 else d.conditional_mean(i, self.chains) for i, s in enumerate(self.chains)]
        self._write_gradient(pos, neg)
        if self.sparsity_cost and self.targets:
            self._add_sparsity(pos)
        recon = _reconstruction_error(d, v, q[0])
        opt = self.optimizer
        if self.lr_decay != 1.0 and opt is not None:
            opt.lr = max(opt.lr / self.lr_decay, self.lr_min)
        return {"loss": recon, "recon_error": recon}

    def _write_gradient(self, pos, neg):
        """``∂/∂W_l = Sᵀ_{l−1} diag(s) S_l`` with ``S = [pos; neg]``, ``s = (−1/N, …, +1/C, …)``."""
        xp = get_array_module(pos[0])
        N, C = len(pos[0]), len(neg[0])
        dt = self.model.dtype
        s = xp.concatenate([xp.full(N, -1.0 / N, dtype=dt), xp.full(C, 1.0 / C, dtype=dt)])
        stacked = [xp.concatenate([p.astype(dt, copy=False), n]) for p, n in zip(pos, neg)]
        for i, (w, b) in enumerate(zip(self.model.weights, self.model.biases)):
            scaled = stacked[i] * s[:, None]
            w.grad += scaled.T @ stacked[i + 1]
            b.grad += s @ stacked[i]
        self.model.biases[-1].grad += s @ stacked[-1]

    def _add_sparsity(self, pos):
        xp = get_array_module(pos[0])
        W, b = self.model.weights, self.model.biases
        for l, target in self.targets.items():
            act = pos[l].mean(axis=0)
            m = self.means.get(l)
            m = xp.full_like(act, target) if m is None else m
            self.means[l] = m = self.sparsity_damping * m + (1 - self.sparsity_damping) * act
            g = self.sparsity_cost * (m - target)
            b[l].grad += g
            W[l - 1].grad += xp.outer(pos[l - 1].mean(axis=0), g)
            if l < len(W):
                W[l].grad += xp.outer(g, pos[l + 1].mean(axis=0))

    # -------------------------------------------------------------- the loop
    def evaluate(self, data) -> dict:
        """Mean-field reconstruction error ``mean ‖v − σ(b_0 + q¹W_1ᵀ)‖²`` of held-out rows."""
        v = self.model._check_data(data[0] if isinstance(data, tuple) else data, "validation")
        q = self.model.mean_field(v, steps=self.mean_field_steps, tol=self.tol)
        return {"recon_error": _reconstruction_error(self.model, v, q[0])}

    def on_epoch_begin(self, epoch: int) -> None:
        switch_momentum(self.optimizer, self.momentum_schedule, epoch)

    def state_dict(self) -> dict:
        return {"chains": None if self.chains is None else [asnumpy(c) for c in self.chains],
                "means": {int(k): asnumpy(m) for k, m in self.means.items()},
                "rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        if not state:
            return
        xp = get_array_module(self.model.W1.data)
        chains = state.get("chains")
        self.chains = None if chains is None else [xp.asarray(c, dtype=self.model.dtype) for c in chains]
        self.means = {int(k): xp.asarray(m) for k, m in (state.get("means") or {}).items()}
        set_rng_state(self.rng, state["rng"])


def switch_momentum(optimizer, schedule, epoch: int) -> None:
    """Momentum ``first`` for epochs ``≤ switch``, then ``then`` (``schedule = (first, then, switch)``;
    ``None`` leaves the optimiser alone)."""
    if schedule is not None and hasattr(optimizer, "momentum"):
        first, then, switch = schedule
        optimizer.momentum = first if epoch <= switch else then


def _sparsity_targets(target, n_layers: int) -> dict:
    """``{hidden layer: target}`` from one number (every hidden layer) or one per hidden layer."""
    if target is None:
        return {}
    values = [target] * n_layers if np.ndim(target) == 0 else list(target)
    if len(values) != n_layers:
        raise ValueError(f"sparsity_target needs one value per hidden layer ({n_layers}), got {len(values)}")
    return {l: V.check_probability(t, f"sparsity_target[{l - 1}]") for l, t in enumerate(values, start=1)}


def _reconstruction_error(dbm, v, q1) -> float:
    r = dbm.conditional_mean(0, [None, q1])
    r -= v
    return step_scalar((r * r).sum()) / len(v)


def fit(dbm, X, y=None, epochs: int = 10, batch_size: int = 100, n_chains: int = 100,
        gibbs_steps: int = 5, mean_field_steps: int = 10, tol: float = 1e-7, lr: float = 0.001,
        lr_decay: float = 1.000015, lr_min: float = 1e-4, momentum=None, momentum_switch_epoch: int = 5,
        weight_decay: float = 2e-4, sparsity_target=None, sparsity_cost: float = 0.0,
        sparsity_damping: float = 0.9, optimizer=None, seed=None, callbacks=None,
        progress: bool = False, validation=None, checkpoint=None, resume_from=None, comm=None):
    """Train ``dbm`` jointly on the rows of ``X`` (labels ``y`` clamped to the label units).

    Defaults are Salakhutdinov's: ``lr`` 0.001 divided by 1.000015 per update down to
    1e-4, momentum 0.5 for ``momentum_switch_epoch`` epochs then 0.9 (a number keeps it
    fixed), weight cost 2e-4 (``weight_decay`` of the default :class:`~neuronet.optim.Momentum`),
    100 persistent chains with 5 Gibbs sweeps per update, 10 mean-field sweeps.
    ``optimizer`` replaces the default rule. ``checkpoint``: a path written every epoch
    (model, optimiser, RNGs, chains); ``resume_from`` continues from one exactly.
    ``comm``: data-parallel as ``RBM.fit`` (``n_chains / R`` chains per rank). Returns the loop's
    history (``loss`` = ``recon_error``, the mean-field reconstruction error; ``val_recon_error``).
    """
    from .. import optim
    from ..train.callbacks import ModelCheckpoint

    X = dbm._check_data(X, "X")
    data = (X,) if y is None else (X, dbm._check_labels(y, len(X)))
    if validation is not None:
        validation = dbm._check_data(validation, "validation")
    schedule = None
    if optimizer is None:
        V.check_positive(lr, "lr")
        m0 = 0.5 if momentum is None else float(momentum)
        optimizer = optim.Momentum(dbm.parameters(), lr=lr, momentum=m0, weight_decay=weight_decay)
        schedule = (0.5, 0.9, V.check_int(momentum_switch_epoch, "momentum_switch_epoch", minimum=0)) \
            if momentum is None else None
    comm = get_communicator(comm)
    if comm.size > 1:
        n_chains = split_count(V.check_int(n_chains, "n_chains", minimum=comm.size), comm)
    step = DBMStep(dbm, optimizer, n_chains=n_chains, gibbs_steps=gibbs_steps,
                   mean_field_steps=mean_field_steps, tol=tol, lr_decay=lr_decay, lr_min=lr_min,
                   momentum_schedule=schedule, sparsity_target=sparsity_target,
                   sparsity_cost=sparsity_cost, sparsity_damping=sparsity_damping)
    callbacks = list(callbacks or [])
    if checkpoint is not None:
        callbacks.append(ModelCheckpoint(checkpoint))
    rng = make_rng(seed=seed) if seed is not None else dbm._rng
    loop = Loop(step, epochs=epochs, batch_size=batch_size, rng=rng, callbacks=callbacks,
                progress=progress, validation=validation, resume_from=resume_from, desc="DBM epoch",
                comm=comm)
    if comm.size > 1:  # each rank's own chains
        step.rng = rank_generator(loop.rng, comm)
    history = loop.run(*data)
    dbm.optimizer_, dbm.persistent_chains = optimizer, step.chains
    return history
