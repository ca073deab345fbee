"""Adaptive rules: RMSProp, AdaDelta, Adam, Nadam (MISSION B1).

Notation of the lecture: ``g = ∇E(w)``, ``⊙``/``⊘`` element-wise; ``G`` the
running mean of ``g ⊙ g``, ``v`` the running mean of ``g``, ``k`` the step count.
Hyper-parameters are named as in ``torch.optim``.
"""
from __future__ import annotations

import math

from .. import kernels
from ..backend import get_array_module
from ..validation import check_positive, check_probability
from .optimizer import Optimizer

__all__ = ["RMSProp", "AdaDelta", "Adam", "Nadam"]


def _betas(betas):
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise (ValueError if isinstance(betas, (tuple, list)) else TypeError)(
            f"betas must be a pair (beta1, beta2), got {betas!r}")
    b1, b2 = (float(b) for b in betas)
    check_probability(b1, "betas[0]")
    check_probability(b2, "betas[1]")
    return (b1, b2)


class RMSProp(Optimizer):
    """RMSProp: ``G := αG + (1−α) g⊙g``, ``w := w − η g ⊘ (√G + ε)``.

    ``alpha`` (default 0.99) averages over ``≈ 1/(1−α)`` steps. ``momentum > 0``
    keeps a buffer ``b := γ b + g ⊘ (√G + ε)``, ``w := w − η b``; ``centered=True``
    divides by the running variance ``√(G − v²) + ε`` instead. Equals
    ``torch.optim.RMSprop`` with the same arguments.
    """

    hyper_names = ("lr", "alpha", "eps", "momentum", "centered", "weight_decay", "l1")

    def __init__(self, params, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8,
                 momentum: float = 0.0, centered: bool = False, weight_decay: float = 0.0,
                 l1: float = 0.0):
        super().__init__(params, lr, weight_decay, l1)
        self.alpha = check_probability(alpha, "alpha")
        self.eps = float(check_positive(eps, "eps", allow_zero=True))
        self.momentum = float(check_positive(momentum, "momentum", allow_zero=True))
        self.centered = bool(centered)

    def _update(self, p, g, state):
        xp = get_array_module(g)
        if "square_avg" not in state:
            state["square_avg"] = xp.zeros_like(p.data)
            if self.centered:
                state["grad_avg"] = xp.zeros_like(p.data)
            if self.momentum > 0:
                state["momentum_buffer"] = xp.zeros_like(p.data)
        kernels.rmsprop_step(p.data, state["square_avg"], g, self.lr, self.alpha, self.eps,
                             state.get("grad_avg"), state.get("momentum_buffer"), self.momentum)


class AdaDelta(Optimizer):
    """AdaDelta (Zeiler 2012), a double normalisation that works with ``η = 1``:

    ``G := ρG + (1−ρ) g⊙g``, ``δ := g ⊙ √(Δ + ε) ⊘ √(G + ε)``,
    ``Δ := ρΔ + (1−ρ) δ⊙δ``, ``w := w − η δ``.

    The lecture writes ``δ := g ⊙ (√Δ + ε) ⊘ (√G + ε)``; the ``ε`` inside the
    roots (Zeiler's paper, ``torch.optim.Adadelta``) is used here so the rule
    equals PyTorch's. ``rho`` is the lecture's ``α`` (default 0.9).
    """

    hyper_names = ("lr", "rho", "eps", "weight_decay", "l1")

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, l1: float = 0.0):
        super().__init__(params, lr, weight_decay, l1)
        self.rho = check_probability(rho, "rho")
        self.eps = float(check_positive(eps, "eps", allow_zero=True))

    def _update(self, p, g, state):
        xp = get_array_module(g)
        if "square_avg" not in state:
            state["square_avg"] = xp.zeros_like(p.data)
            state["acc_delta"] = xp.zeros_like(p.data)
        kernels.adadelta_step(p.data, state["square_avg"], state["acc_delta"], g, self.lr, self.rho, self.eps)


class Adam(Optimizer):
    """Adam = momentum + RMSProp, with bias correction:

    ``v := γv + (1−γ) g``, ``v̂ := v/(1−γ^k)``; ``G := αG + (1−α) g⊙g``,
    ``Ĝ := G/(1−α^k)``; ``w := w − η v̂ ⊘ (√Ĝ + ε)``. ``betas = (γ, α)``
    (default ``(0.9, 0.999)``), ``eps = 1e-8``. Equals ``torch.optim.Adam``.
    """

    hyper_names = ("lr", "betas", "eps", "weight_decay", "l1")

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, l1: float = 0.0):
        super().__init__(params, lr, weight_decay, l1)
        self.betas = _betas(betas)
        self.eps = float(check_positive(eps, "eps", allow_zero=True))

    def _step(self, p, g, state, lr_m, lr_g=0.0):
        """``v``, ``G`` updated and ``w −= (lr_m·v + lr_g·g) ⊘ (√Ĝ + ε)`` in one fused kernel."""
        xp = get_array_module(g)
        if "exp_avg" not in state:
            state["exp_avg"] = xp.zeros_like(p.data)
            state["exp_avg_sq"] = xp.zeros_like(p.data)
        b1, b2 = self.betas
        kernels.adam_step(p.data, state["exp_avg"], state["exp_avg_sq"], g, lr_m, b1, b2, self.eps,
                          1.0 / math.sqrt(1 - b2 ** self.t), lr_g)

    def _update(self, p, g, state):
        self._step(p, g, state, self.lr / (1 - self.betas[0] ** self.t))


class Nadam(Adam):
    """Nadam (Dozat 2016): Adam with a Nesterov look-ahead on the momentum.

    Lecture formula (default, ``momentum_decay=None``): the same ``v, v̂, G, Ĝ``
    as :class:`Adam` and
    ``w := w − η (γ v̂ + (1−γ)/(1−γ^k) · g) ⊘ (√Ĝ + ε)``.

    With ``momentum_decay=ψ`` (PyTorch's schedule; ``torch.optim.NAdam``'s default
    is ``ψ = 0.004``) the momentum varies with the step,
    ``μ_k = γ(1 − ½·0.96^{kψ})``, and
    ``w := w − η(1−μ_k)/(1−Π_{i≤k}μ_i) · g ⊘ (√Ĝ+ε) − η μ_{k+1}/(1−Π_{i≤k+1}μ_i) · v ⊘ (√Ĝ+ε)``,
    which equals ``torch.optim.NAdam(momentum_decay=ψ)``.
    """

    hyper_names = ("lr", "betas", "eps", "momentum_decay", "weight_decay", "l1")

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 momentum_decay: float | None = None, weight_decay: float = 0.0, l1: float = 0.0):
        super().__init__(params, lr, betas, eps, weight_decay, l1)
        if momentum_decay is not None:
            momentum_decay = float(check_positive(momentum_decay, "momentum_decay", allow_zero=True))
        self.momentum_decay = momentum_decay

    def _update(self, p, g, state):
        b1, k = self.betas[0], self.t
        if self.momentum_decay is None:
            bc1 = 1 - b1 ** k
            self._step(p, g, state, self.lr * b1 / bc1, self.lr * (1 - b1) / bc1)
            return
        psi = self.momentum_decay
        mu = b1 * (1 - 0.5 * 0.96 ** (k * psi))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((k + 1) * psi))
        prod = state.get("mu_product", 1.0) * mu
        state["mu_product"] = prod
        self._step(p, g, state, self.lr * mu_next / (1 - prod * mu_next), self.lr * (1 - mu) / (1 - prod))
