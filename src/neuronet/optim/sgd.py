"""SGD, Momentum, Nesterov (MISSION B1)."""
from __future__ import annotations

from .. import kernels
from ..backend import get_array_module
from ..validation import check_positive
from .optimizer import Optimizer

__all__ = ["SGD", "Momentum", "Nesterov"]


class SGD(Optimizer):
    """Stochastic gradient descent ``w := w − η g`` (with ``momentum`` > 0, heavy ball).

    With momentum ``γ`` (PyTorch's form, a buffer ``b`` without ``η``):
    ``b := γ b + g``, ``w := w − η b``; for constant ``η`` this is Polyak's
    ``v := γ v + η g``, ``w := w − v`` with ``v = η b``. ``nesterov=True``:
    ``w := w − η (g + γ b)`` after updating ``b``, the look-ahead form of
    ``v := γ v + η ∇E(w − γ v)``. Equals ``torch.optim.SGD`` with the same
    ``momentum``, ``nesterov`` and ``weight_decay``.
    """

    hyper_names = ("lr", "momentum", "nesterov", "weight_decay", "l1")

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0, l1: float = 0.0):
        super().__init__(params, lr, weight_decay, l1)
        self.momentum = float(check_positive(momentum, "momentum", allow_zero=True))
        self.nesterov = bool(nesterov)
        if self.nesterov and self.momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0, got momentum=0")

    def _update(self, p, g, state):
        if self.momentum == 0:
            kernels.sgd_step(p.data, g, self.lr)
            return
        buf = state.get("momentum_buffer")
        if buf is None:  # PyTorch's first step sets b = g: b := 0·b + g, then Nesterov's extra ηγb
            buf = state["momentum_buffer"] = get_array_module(g).zeros_like(p.data)
            kernels.momentum_step(p.data, buf, g, self.lr, 0.0)
            if self.nesterov:
                kernels.sgd_step(p.data, g, self.lr * self.momentum)
            return
        kernels.momentum_step(p.data, buf, g, self.lr, self.momentum, self.nesterov)


class Momentum(SGD):
    """Polyak's heavy ball: ``v := γ v + η ∇E``, ``w := w − v`` (default ``γ = 0.9``).

    Equals ``torch.optim.SGD(momentum=γ)``; see :class:`SGD` for the buffer form.
    """

    hyper_names = ("lr", "momentum", "weight_decay", "l1")

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.9, weight_decay: float = 0.0,
                 l1: float = 0.0):
        super().__init__(params, lr, momentum=momentum, nesterov=False,
                         weight_decay=weight_decay, l1=l1)


class Nesterov(SGD):
    """Nesterov's accelerated gradient: ``v := γ v + η ∇E(w − γ v)``, ``w := w − v``.

    Implemented in the form of ``torch.optim.SGD(nesterov=True)``:
    ``b := γ b + g``, ``θ := θ − η (g + γ b)``, with the gradient taken at the
    stored parameter ``θ``. With ``v = η b`` and constant ``η``, ``θ`` is exactly
    the lecture's look-ahead point ``w − γ v`` (a test checks this), so the
    gradient is always evaluated where the lecture evaluates it.
    """

    hyper_names = ("lr", "momentum", "weight_decay", "l1")

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.9, weight_decay: float = 0.0,
                 l1: float = 0.0):
        super().__init__(params, lr, momentum=momentum, nesterov=True,
                         weight_decay=weight_decay, l1=l1)
