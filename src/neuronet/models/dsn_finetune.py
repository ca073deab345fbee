"""Batch-mode fine-tuning of one DSN module's lower weights, as a step of the one loop.

Each "epoch" of the loop is one full-batch gradient step on the module objective

    J(W) = (1/N) ‖H(W) U(W) − T‖²,   U(W) = (HᵀH + λI)⁻¹ HᵀT,

(:mod:`neuronet.models.dsn_module`): one pass over the data sums ``HᵀH``, ``HᵀT``
and gives ``U``, ``V`` and ``J``; a second pass sums ``∂J/∂W``; the optimiser
moves ``W``, ``b``. The step keeps the lower weights with the lowest ``J`` seen,
and :meth:`FinetuneStep.finish` returns to them if the last step overshot, so
fine-tuning never leaves a module worse than it started.
"""
from __future__ import annotations

import math

from ..backend import get_array_module
from ..train.batches import Batches
from ..train.loop import Step
from .dsn_module import DSNModule, accumulate_finetune_gradient, solve_upper

__all__ = ["StackedInputs", "FinetuneStep"]


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
    """One full-batch gradient step on ``J(W)`` (``U`` the closed-form function of ``W``).

    ``optimizer`` runs over ``module.lower.parameters()`` (``W``, ``b``); ``U`` is
    set in closed form at every step, never by the optimiser.
    """

    def __init__(self, module: DSNModule, optimizer, ridge: float):
        self.model, self.optimizer, self.ridge = module, optimizer, float(ridge)
        self.best_objective, self._best = math.inf, None

    def _remember(self, objective: float) -> None:
        if objective < self.best_objective:
            self.best_objective = objective
            self._best = [p.data.copy() for p in self.model.parameters()]

    def compute(self, data: StackedInputs) -> dict:
        sol = solve_upper(self.model, data, self.ridge)
        self._remember(sol.objective)
        accumulate_finetune_gradient(self.model, data, sol)
        return {"loss": sol.objective}

    def finish(self, data: StackedInputs) -> float:
        """``U`` solved at the final ``W``; back to the best ``W`` seen if that was lower."""
        final = solve_upper(self.model, data, self.ridge, need_v=False).objective
        if self._best is not None and final > self.best_objective:
            for p, saved in zip(self.model.parameters(), self._best):
                p.data[...] = saved
            return self.best_objective
        return final
