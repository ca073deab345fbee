"""Training an RBM on the one loop: the CD/PCD step and ``RBM.fit``.

One batch ``v⁺`` (the loop does the rest: order, optimiser step, running ``Q``,
progress, callbacks, checkpoints, divergence)::

    ∇ := CD-k or PCD-k estimate of ∂(−mean log P(v⁺))/∂θ     into Parameter.grad
    L := M[E(v⁺, h⁺)] − M[E(v⁻, h⁻)]                         the loss whose gradient ∇ is

and the optimiser applies ``θ := θ − η(∇ + λ₂W + λ₁ sign W)`` (its weight cost
is the only one; biases carry none). Per epoch the step switches the momentum
(Hinton's guide: 0.5 for the first epochs, then 0.9). The persistent chains and
the RBM's generator are the step's state, so a resumed run is bit-identical.
"""
from __future__ import annotations

import numpy as np

from .. import optim
from .. import validation as V
from ..backend import asnumpy, get_array_module
from ..distributed import get_communicator, rank_generator, split_count
from ..random import set_rng_state
from ..train.callbacks import Callback, ModelCheckpoint
from ..train.history import TrainingDiverged
from ..train.loop import Loop, Step
from .cd import ContrastiveDivergence

__all__ = ["RBMStep", "fit_rbm"]

_DEFAULT_WEIGHT_COST = 1e-4


class RBMStep(Step):
    """The RBM family's step: ``sampler`` (a :class:`ContrastiveDivergence`) writes the
    gradient, ``optimizer`` (any ``nt.optim`` rule) applies it. ``momentum_switch``:
    ``None``, or ``(epoch, before, after)`` to set ``optimizer.momentum`` to ``before``
    up to that epoch and to ``after`` from the next one."""

    grads_overwritten = True  # the sampler writes p.grad with out=: no zeroing needed

    def __init__(self, rbm, optimizer, sampler: ContrastiveDivergence, momentum_switch=None):
        self.model, self.optimizer, self.sampler = rbm, optimizer, sampler
        self.momentum_switch = momentum_switch

    def compute(self, batch) -> dict:
        (v,) = batch
        metrics = self.sampler(self.model, v, self.model.rng)
        self.model.n_updates_ += 1
        return metrics

    def evaluate(self, data) -> dict:
        return {"recon_error": self.model.reconstruction_error(data)}

    def on_epoch_begin(self, epoch: int) -> None:
        if self.momentum_switch is not None:
            switch, before, after = self.momentum_switch
            self.optimizer.momentum = before if epoch <= switch else after

    def state_dict(self) -> dict:
        rbm = self.model
        return {"rng": rbm.rng.bit_generator.state, "n_updates": int(rbm.n_updates_),
                "persistent_chains": None if rbm.persistent_chains is None else asnumpy(rbm.persistent_chains)}

    def load_state_dict(self, state: dict) -> None:
        if not state:
            return
        rbm = self.model
        set_rng_state(rbm.rng, state["rng"])
        rbm.n_updates_ = int(state["n_updates"])
        chains = state.get("persistent_chains")
        xp = get_array_module(rbm.W.data)
        rbm.persistent_chains = None if chains is None else xp.asarray(chains, dtype=rbm.dtype)


class _Monitor(Callback):
    """Adds to each epoch's record ``recon_error`` (mean-field, on a fixed, evenly
    spread subset of the training rows: no RNG draw, comparable with
    ``val_recon_error``) and, with validation data, ``free_energy_gap`` (mean F of
    validation rows − mean F of the training subset: overfitting shows as a rise).
    Non-finite weights stop the run before any checkpoint of the epoch is written."""

    def __init__(self, X, size: int):
        rows = np.linspace(0, len(X) - 1, min(size, len(X))).astype(np.int64)
        self.X = X[get_array_module(X).asarray(rows)]

    def on_epoch_end(self, trainer, epoch, logs):
        rbm = trainer.model
        # one check per epoch (a copy to the host from a GPU), none inside the steps
        if not all(bool(get_array_module(p.data).isfinite(p.data).all()) for p in rbm.parameters()):
            raise TrainingDiverged(epoch, trainer.n_batches, float("nan"), getattr(trainer.optimizer, "lr", None))
        logs["recon_error"] = rbm.reconstruction_error(self.X)
        if trainer.validation is not None:
            val = trainer.validation[:len(self.X)]
            logs["free_energy_gap"] = float(rbm.free_energy(val).mean() - rbm.free_energy(self.X).mean())


def _optimizer(rbm, optimizer, lr, momentum, weight_decay, l1):
    """The optimiser and the momentum schedule; every conflicting argument named."""
    # a zero weight cost asks for nothing the optimiser does not already do
    given = {name: value for name, value in (("lr", lr), ("momentum", momentum),
                                             ("weight_decay", weight_decay or None), ("l1", l1 or None))
             if value is not None}
    if optimizer is not None:
        if given:
            raise ValueError(f"give {', '.join(given)} to the optimizer or leave out the optimizer, "
                             f"not both: optimizer={type(optimizer).__name__} has its own "
                             f"(got {', '.join(f'{k}={v}' for k, v in given.items())})")
        if not callable(getattr(optimizer, "step", None)):  # nt.optim rules, DataParallel, ...
            raise TypeError(f"optimizer must be an nt.optim optimizer (with step()), "
                            f"got {type(optimizer).__name__}")
        return optimizer, None
    if lr is None:
        lr = 0.1 if rbm.visible.name in ("bernoulli", "softmax") else 0.01
    V.check_positive(lr, "lr")
    if momentum is not None:
        V.check_probability(momentum, "momentum")
    wd = _DEFAULT_WEIGHT_COST if weight_decay is None else weight_decay
    m0 = 0.5 if momentum is None else float(momentum)
    opt = optim.SGD(rbm.parameters(), lr=lr, momentum=m0, weight_decay=wd, l1=l1 or 0.0)
    return opt, None if momentum is not None else "schedule"


def fit_rbm(rbm, X, *, epochs=10, batch_size=100, k=1, persistent=False, n_chains=None, lr=None,
            momentum=None, momentum_switch_epoch=5, weight_decay=None, l1=None, sample_visible=False,
            sample_hidden_reconstruction=False, validation=None, callbacks=None, seed=None,
            optimizer=None, shuffle=True, verbose=True, init_visible_bias=True, checkpoint=None,
            resume_from=None, monitor_size=1000, comm=None):
    """``RBM.fit`` (see there) on the one loop; returns the history as a dict of lists."""
    V.check_int(epochs, "epochs", minimum=1)
    V.check_int(batch_size, "batch_size", minimum=1)
    V.check_int(momentum_switch_epoch, "momentum_switch_epoch", minimum=0)
    comm = get_communicator(comm)
    chains = n_chains or (batch_size if persistent else None)
    if chains is not None and comm.size > 1:  # the chains of one process, shared out over the ranks
        chains = split_count(V.check_int(chains, "n_chains", minimum=comm.size), comm)
    sampler = ContrastiveDivergence(k, persistent, chains, sample_visible, sample_hidden_reconstruction)
    X = V.check_nonempty(rbm._check_data(X, "X"), "X")
    rbm.visible.warn_if_unsuitable(X, "X")
    if validation is not None:
        validation = rbm._check_data(validation, "validation")
    opt, schedule = _optimizer(rbm, optimizer, lr, momentum, weight_decay, l1)
    if seed is not None:
        rbm.rng = seed
    if init_visible_bias and rbm.n_updates_ == 0 and resume_from is None:
        rbm.a.data[...] = rbm.visible.init_bias(X)
    switch = (momentum_switch_epoch, 0.5, 0.9) if schedule else None
    step = RBMStep(rbm, opt, sampler, switch)
    loop = Loop(step, epochs=epochs, batch_size=batch_size, shuffle=shuffle, rng=rbm.rng,
                callbacks=callbacks, progress=verbose, validation=validation, resume_from=resume_from,
                desc="RBM epoch", comm=comm)
    # the loop's order is shared by all ranks; each rank samples its own Gibbs chains
    rbm.rng = rank_generator(loop.rng, loop.comm)
    # the monitor completes each record and fit's own checkpoint is written before any user hook
    own = [_Monitor(X, V.check_int(monitor_size, "monitor_size", minimum=1))]
    loop.callbacks[:0] = own + ([ModelCheckpoint(checkpoint)] if checkpoint is not None else [])
    history = loop.run(X).to_dict()
    rbm.optimizer_, rbm.history_, rbm.loop_ = opt, history, loop
    return history
