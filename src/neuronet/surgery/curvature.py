"""The diagonal curvature of the loss averaged over a data set (LeCun et al. 1990, 1998).

``h_kk = (1/N) Σ_n ∂²L_n/∂w_k²`` in the diagonal Gauss–Newton form of the curvature
pass (``Module.backward_curvature``): the loss supplies ``∂²L/∂y²``, each layer turns
it into ``∂²L/∂x²`` and adds ``∂²L/∂θ²`` into ``p.curv``. Optimal Brain Damage ranks
weights with it, the diagonal Levenberg–Marquardt rule divides the gradient by
``μ + h_kk``; :class:`CurvatureEstimate` re-estimates ``h`` for
:class:`~neuronet.optim.DiagonalLM` on a fixed subset of a few hundred samples at the
start of every epoch (LeCun et al. 1998 use 500).
"""
from __future__ import annotations

import numpy as np

from ..backend import get_array_module
from ..module import Module
from ..random import make_rng
from ..train.callbacks import Callback
from ..validation import as_float_array, check_int

__all__ = ["data_curvature", "CurvatureEstimate"]


def _as_data(model, X, y):
    """``X`` in the model's float dtype and ``y`` as an array, checked to pair up."""
    if not isinstance(model, Module):
        raise TypeError(f"model must be a neuronet Module, got {type(model).__name__}")
    params = model.parameters()
    if not params:
        raise ValueError(f"model {type(model).__name__} has no parameters to measure")
    X = as_float_array(X, params[0].data.dtype, "X")
    y = np.asarray(y) if not hasattr(y, "dtype") else y
    if X.ndim < 1 or y.ndim < 1 or len(X) != len(y):
        raise ValueError(f"X and y must hold the same number of samples, got shapes "
                         f"{tuple(X.shape)} and {tuple(y.shape)}")
    if len(X) == 0:
        raise ValueError("X is empty: the curvature needs at least one sample")
    return X, y


def data_curvature(model, loss, X, y, batch_size: int | None = 1000) -> list:
    """``h_kk = (1/N) Σ_n ∂²L_n/∂w_k²`` for every parameter, in ``p.curv`` and returned.

    The model runs in evaluation mode (no dropout noise). Batches of ``batch_size``
    samples (all at once with ``None``) each add ``(|B|/N)·curv_B``, so the result does
    not depend on the batch size. Batches are cut along the first axis: for time-major
    sequences ``(T, N, D)`` pass ``batch_size=None``. Returns
    ``[p.curv for p in model.parameters()]``.
    """
    X, y = _as_data(model, X, y)
    n = len(X)
    bs = n if batch_size is None else check_int(batch_size, "batch_size", minimum=1)
    was_training = model.training
    model.eval()
    model.zero_curv()
    try:
        for i in range(0, n, bs):
            xb, yb = X[i:i + bs], y[i:i + bs]
            loss.forward(model.forward(xb), yb)
            model.backward_curvature(loss.backward_curvature() * (len(xb) / n))
    finally:
        model.train(was_training)
    return [p.curv for p in model.parameters()]


class CurvatureEstimate(Callback):
    """Before every ``every``-th epoch, ``h`` of the optimiser (a
    :class:`~neuronet.optim.DiagonalLM`) := :func:`data_curvature` on ``n_samples``
    samples of ``(X, y)`` drawn once with ``seed`` (LeCun et al. 1998: 500).

    ``running=True`` also updates ``h`` after every batch from that batch's own
    curvature pass (one more backward sweep on the forward the step already ran;
    with the optimiser's ``decay`` β this is the running ``h := (1 − β) h + β h_B``).
    The loop's step must expose ``model`` and ``loss`` (``nt.fit``'s does).
    """

    def __init__(self, loss, X, y, n_samples: int = 500, every: int = 1, seed: int = 0,
                 batch_size: int | None = 1000, running: bool = False):
        self.loss, self.running = loss, bool(running)
        self.every = check_int(every, "every", minimum=1)
        n = check_int(n_samples, "n_samples", minimum=1)
        Xa = X if hasattr(X, "shape") else np.asarray(X)
        idx = np.sort(make_rng(None, seed).permutation(len(Xa))[:n])
        xp = get_array_module(Xa)
        ya = y if hasattr(y, "shape") else np.asarray(y)
        self.X, self.y = Xa[xp.asarray(idx)], ya[get_array_module(ya).asarray(idx)]
        self.batch_size = batch_size

    def on_epoch_begin(self, trainer, epoch):
        if (epoch - 1) % self.every:
            return
        opt = trainer.optimizer
        if not hasattr(opt, "update_curvature"):
            raise TypeError(f"CurvatureEstimate feeds an optimiser with update_curvature() "
                            f"(DiagonalLM), got {type(opt).__name__}")
        data_curvature(trainer.model, self.loss, self.X, self.y, self.batch_size)
        opt.update_curvature()

    def on_batch_end(self, trainer, batch, loss):
        if not self.running:
            return
        step = trainer.step
        step.model.zero_curv()
        step.model.backward_curvature(step.loss.backward_curvature())
        trainer.optimizer.update_curvature()
