"""Batch-mode fine-tuning of one DSN module's lower weights, as a step of the one loop.

Each "epoch" of the loop is one full-batch gradient step on the module objective

    J(W) = (1/N) ‖H(W) U(W) − T‖²,   U(W) = (HᵀH + λI)⁻¹ HᵀT,

(:mod:`neuronet.models.dsn_module`): one pass over the data sums ``HᵀH``, ``HᵀT``
and gives ``U``, ``V`` and ``J``; a second pass sums ``∂J/∂W``; the optimiser
moves ``W``, ``b`` with a step size adapted by the bold-driver rule, and the step
keeps the lower weights with the lowest ``J`` seen, so fine-tuning never leaves a
module worse than it started.
"""
from __future__ import annotations

import math

from ..backend import asnumpy, get_array_module
from ..distributed.statistics import allreduce_sum
from ..train.batches import Batches
from ..train.loop import Step
from .dsn_module import DSNModule, accumulate_finetune_gradient, solve_upper

__all__ = ["StackedInputs", "FinetuneStep", "rbm_initialise"]


class StackedInputs(Batches):
    """Module ``m``'s training data: rows ``z_n = [x_n, y_1(x_n), …, y_{m−1}(x_n)]`` with
    targets ``t_n``, read in chunks of ``chunk`` rows (``z`` is built per chunk, never
    for all rows at once). For the loop it is one batch per epoch: all of it."""

    def __init__(self, X, lower, T, chunk: int = 2048):
        super().__init__(len(X), batch_size=len(X), shuffle=False)
        self.X, self.lower, self.T = X, lower, T
        self.chunk = max(int(chunk), 1)

    def __iter__(self):
        xp = get_array_module(self.X)
        for i in range(0, self.n, self.chunk):
            x = self.X[i:i + self.chunk]
            z = x if self.lower is None else xp.concatenate([x, self.lower[i:i + self.chunk]], axis=1)
            yield z, self.T[i:i + self.chunk]

    def epoch(self, rng):
        yield self

    def size(self, batch) -> int:
        return self.n


class FinetuneStep(Step):
    """One full-batch gradient step on ``J(W)`` (``U`` the closed-form function of ``W``),
    with the step size set by the "bold driver" rule (Vogl et al. 1988; Battiti 1989):

        J(W_t) ≤ J_best:  accept W_t, η := grow·η;
        J(W_t) > J_best:  return to the best W, η := shrink·η, and step again from there.

    So the step size finds the scale of ``∂J/∂W`` (which depends on the data) by
    itself, and the module never ends worse than its best ``W``. ``optimizer`` runs
    over ``module.lower.parameters()`` (``W``, ``b``); ``U`` is set in closed form.
    """

    def __init__(self, module: DSNModule, optimizer, ridge: float, grow: float = 1.2,
                 shrink: float = 0.5, comm=None):
        self.model, self.optimizer, self.ridge = module, optimizer, float(ridge)
        self.comm = comm  # several ranks, each with its rows: statistics and gradient summed
        self.grow, self.shrink = float(grow), float(shrink)
        self.best_objective, self._best = math.inf, None

    def compute(self, data: StackedInputs) -> dict:
        params = self.model.lower.parameters()
        sol = solve_upper(self.model, data, self.ridge, comm=self.comm)
        if sol.objective <= self.best_objective:  # J is global: every rank decides alike
            if self._best is not None:
                self.optimizer.lr *= self.grow
            accumulate_finetune_gradient(self.model, data, sol)
            if self.comm is not None:
                allreduce_sum([p.grad for p in params], self.comm)
            self.best_objective = sol.objective
            self._best = ([p.data.copy() for p in params], [p.grad.copy() for p in params],
                          sol.U.copy())
        else:
            self.optimizer.lr *= self.shrink
            data_, grads, U = self._best
            for p, d, g in zip(params, data_, grads):
                p.data[...], p.grad[...] = d, g
            self.model.U.data[...] = U
        return {"loss": sol.objective}

    def finish(self, data: StackedInputs) -> float:
        """``U`` solved at the final ``W``; back to the best ``W`` seen if that was lower."""
        final = solve_upper(self.model, data, self.ridge, need_v=False, comm=self.comm).objective
        if self._best is not None and final > self.best_objective:
            for p, saved in zip(self.model.lower.parameters(), self._best[0]):
                p.data[...] = saved
            self.model.U.data[...] = self._best[2]
            return self.best_objective
        return final


def rbm_initialise(block: DSNModule, data: StackedInputs, epochs: int, seed, progress: bool, comm=None):
    """``W``, ``b`` of ``block`` from a Bernoulli RBM trained by CD-1 on its inputs ``z``
    (clipped to [0, 1]: the visible units' range). With ``comm`` the ranks' rows are
    gathered in rank order (all of ``z`` on every rank) and the RBM trains data-parallel."""
    from ..energy.rbm import RBM
    xp = get_array_module(data.X)
    Z = xp.clip(xp.concatenate([z for z, _ in data], axis=0), 0, 1)
    if comm is not None and comm.size > 1:
        Z = xp.concatenate([xp.asarray(part) for part in comm.allgather(asnumpy(Z))], axis=0)
    rbm = RBM(block.n_in, block.hidden, seed=seed, dtype=block.W.data.dtype)
    rbm.fit(Z, epochs=epochs, batch_size=100, verbose=progress, seed=seed, comm=comm)
    block.W.data[...] = rbm.W.data
    block.b.data[...] = rbm.b.data
