"""Heads for sequences ``(T, N, ...)``: a module applied at every step, the last step,
and the per-step softmax cross-entropy (MISSION D5, D7).

With them a recurrent net is an ordinary :class:`~neuronet.layers.containers.Sequential`:
``Sequential(LSTM(D, H), TimeDistributed(Dense(H, V)))`` predicts at every step
(``y_t = V·h_t``, a language model), ``Sequential(LSTM(D, H), LastStep(), Dense(H, K))``
classifies a whole sequence from ``h_T``.
"""
from __future__ import annotations

import numpy as np

from ..backend import get_array_module
from ..losses import Loss, SoftmaxCrossEntropy
from ..module import Module
from ..validation import check_ndim

__all__ = ["TimeMajor", "TimeDistributed", "LastStep", "SequenceSoftmaxCrossEntropy"]


def _check_sequence(x, name):
    if not hasattr(x, "ndim"):
        x = np.asarray(x)
    check_ndim(x, tuple(range(3, 9)), name, "(T, N, ...): time, batch, features")
    return x


class TimeMajor(Module):
    """``(N, T, ...) → (T, N, ...)``: batch-major sequences (one object per row, as
    :func:`~neuronet.train.supervised.fit` slices them) into the recurrent layers'
    time-major layout. Backward swaps the axes back. The output is contiguous, so
    each step ``x_t`` is one block of memory."""

    def __init__(self):
        self._on = False

    def forward(self, x):
        x = _check_sequence(x, "TimeMajor input")
        self._on = True
        return get_array_module(x).ascontiguousarray(x.swapaxes(0, 1))

    def backward(self, dy):
        if not self._on:
            raise RuntimeError("TimeMajor.backward called before forward()")
        if dy is None:  # the layer above skipped ∂E/∂x (input_grad=False): nothing to pass on
            return None
        return get_array_module(dy).ascontiguousarray(dy.swapaxes(0, 1))

    backward_curvature = backward


class TimeDistributed(Module):
    """``y_t = f(x_t)`` for every step ``t`` with the same module ``f`` (shared weights).

    The steps are folded into the batch, ``(T, N, ...) → (T·N, ...)``, so ``f`` runs
    once on all of them (one GEMM for a Dense); backward unfolds the same way and
    ``f``'s weight gradients are the sums over steps, ``∂E/∂W = Σ_t ∂E_t/∂W``.
    """

    def __init__(self, module: Module):
        if not isinstance(module, Module):
            raise TypeError(f"TimeDistributed takes a Module, got {type(module).__name__}")
        self.module = module
        self._lead = None

    def forward(self, x):
        x = _check_sequence(x, "TimeDistributed input")
        self._lead = x.shape[:2]
        y = self.module.forward(x.reshape((-1,) + x.shape[2:]))
        return y.reshape(self._lead + y.shape[1:])

    def _unfold(self, d, what):
        if self._lead is None:
            raise RuntimeError(f"TimeDistributed.{what} called before forward()")
        if tuple(d.shape[:2]) != tuple(self._lead):
            raise ValueError(f"TimeDistributed {what} input must start with (T, N) = "
                             f"{tuple(self._lead)}, got shape {tuple(d.shape)}")
        return d.reshape((-1,) + d.shape[2:])

    def backward(self, dy):
        dx = self.module.backward(self._unfold(dy, "backward"))
        return None if dx is None else dx.reshape(self._lead + dx.shape[1:])

    def backward_curvature(self, d2y):
        d2x = self.module.backward_curvature(self._unfold(d2y, "backward_curvature"))
        return None if d2x is None else d2x.reshape(self._lead + d2x.shape[1:])


class LastStep(Module):
    """``y = x_T``: the last step of a sequence ``(T, N, ...)``, e.g. the final hidden
    state for classifying a whole sequence. Backward puts ``∂E/∂y`` at step ``T``
    and zeros elsewhere (the earlier states get their gradient through the
    recurrence, inside the recurrent layer)."""

    def __init__(self):
        self._shape = None

    def forward(self, x):
        x = _check_sequence(x, "LastStep input")
        self._shape, self._dtype = x.shape, x.dtype
        return x[-1]

    def _scatter(self, d, what):
        if self._shape is None:
            raise RuntimeError(f"LastStep.{what} called before forward()")
        if tuple(d.shape) != tuple(self._shape[1:]):
            raise ValueError(f"LastStep {what} input must have shape {tuple(self._shape[1:])}, "
                             f"got {tuple(d.shape)}")
        xp = get_array_module(d)
        out = xp.zeros(self._shape, dtype=self._dtype)
        out[-1] = d
        return out

    def backward(self, dy):
        return self._scatter(dy, "backward")

    def backward_curvature(self, d2y):
        return self._scatter(d2y, "backward_curvature")


class SequenceSoftmaxCrossEntropy(Loss):
    """Softmax cross-entropy at every step, averaged over all ``T·N`` predictions:
    ``E = −(1/(T·N)) Σ_t Σ_n ln y_{t,n,c_{t,n}}`` with ``y_t = softmax(a_t)``.

    ``output``: logits ``(T, N, C)``; ``target``: class indices ``(T, N)`` or rows
    ``(T, N, C)``. The engine's :class:`~neuronet.losses.SoftmaxCrossEntropy` does the
    work on the steps folded into the batch, so ``∂E/∂a_t = (y_t − t_t)/(T·N)``.
    ``E`` in nats per prediction (a language model's nats per character).
    """

    def __init__(self):
        self._ce = SoftmaxCrossEntropy()
        self._n = None

    def forward(self, output, target) -> float:
        a = _check_sequence(output, "SequenceSoftmaxCrossEntropy logits")
        check_ndim(a, 3, "SequenceSoftmaxCrossEntropy logits", "(T, N, C)")
        if not hasattr(target, "shape"):
            target = np.asarray(target)
        if tuple(target.shape[:2]) != tuple(a.shape[:2]) or target.ndim not in (2, 3):
            raise ValueError(f"SequenceSoftmaxCrossEntropy targets must have shape (T, N) = "
                             f"{tuple(a.shape[:2])} (class indices) or {tuple(a.shape)} (rows), "
                             f"got {tuple(target.shape)}")
        T, N, C = a.shape
        self._shape = a.shape
        self._n = T * N
        return self._ce.forward(a.reshape(T * N, C), target.reshape((T * N,) + target.shape[2:]))

    def backward(self):
        self._cached("backward")
        return self._ce.backward().reshape(self._shape)

    def backward_curvature(self):
        self._cached("backward_curvature")
        return self._ce.backward_curvature().reshape(self._shape)

    @property
    def probabilities(self):
        """The softmax ``y`` of the last forward call, ``(T, N, C)``."""
        self._cached("probabilities")
        return self._ce.probabilities.reshape(self._shape)
