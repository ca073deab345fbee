"""One module (block) of a Deep Stacking Network and its closed-form training.

A module maps its input ``Z`` (N×D) to a hidden layer and a linear prediction

    H = σ(Z W + b)          (N×h, lower weights W, b)
    Y = H U                 (N×C, upper weights U)

Given ``W``, the upper weights are the ridge solution (convex in ``U``)

    U(W) = (HᵀH + λI)⁻¹ HᵀT,

found from the sums ``HᵀH``, ``HᵀT`` (:class:`~neuronet.models.ridge.RidgeStatistics`).
The lower weights are then fine-tuned on the module's squared error with ``U``
taken as that function of ``W`` (Deng, Yu & Platt 2012):

    J(W) = (1/N) ‖H U(W) − T‖².

With ``R = HU − T``, ``A = HᵀH + λI`` and ``V = A⁻¹U``, differentiating
``AU = HᵀT`` gives ``dU = −A⁻¹(dHᵀR + HᵀdH U)`` and ``HᵀR = −λU``, so

    ∂J/∂H = (2/N) [ R Uᵀ + λ R Vᵀ + λ H V Uᵀ ].

For ``λ = 0`` this is Deng et al.'s ``(2/N) R Uᵀ`` (the change of ``U`` drops out
because ``HᵀR = 0``); the two ``λ`` terms are the price of the ridge. The
gradient of ``W`` and ``b`` follows through the sigmoid and the dense layer
(``∂J/∂A = ∂J/∂H ⊙ H(1−H)``, ``∂J/∂W = Zᵀ ∂J/∂A``). Every row's term needs only
``U`` and ``V``, so the gradient, like the statistics, is a sum over batches.
"""
from __future__ import annotations

from ..backend import get_array_module, get_default_dtype
from ..distributed.statistics import allreduce_ridge_statistics
from ..layers.activations import Sigmoid
from ..layers.dense import Dense
from ..module import Module, Parameter
from ..validation import as_float_array, check_int
from .ridge import RidgeStatistics, ridge_solve

__all__ = ["DSNModule", "upper_statistics", "UpperSolution", "solve_upper",
           "accumulate_finetune_gradient"]


class DSNModule(Module):
    """``Y = σ(Z W + b) U``: one block of a DSN (``W`` (D×h), ``b`` (h,), ``U`` (h×C)).

    ``U`` is set by the ridge solution (:func:`solve_upper`); it is a Parameter,
    so backprop over the whole stack trains it too. ``input_grad=False`` skips
    ``∂E/∂Z`` (the lowest block's input needs none).
    """

    def __init__(self, n_in: int, hidden: int, n_out: int, init="glorot", rng=None, seed=None,
                 dtype=None, input_grad: bool = True):
        self.n_in = check_int(n_in, "n_in", minimum=1)
        self.hidden = check_int(hidden, "hidden", minimum=1)
        self.n_out = check_int(n_out, "n_out", minimum=1)
        dtype = get_default_dtype() if dtype is None else dtype
        self.lower = Dense(self.n_in, self.hidden, init=init, rng=rng, seed=seed, dtype=dtype,
                           input_grad=input_grad)
        self.act = Sigmoid()
        self.U = Parameter(get_array_module(self.lower.W.data).zeros(
            (self.hidden, self.n_out), dtype=self.lower.W.data.dtype), name="U")

    @property
    def W(self):
        return self.lower.W

    @property
    def b(self):
        return self.lower.b

    def hidden_units(self, z):
        """``H = σ(Z W + b)`` (cached for backward)."""
        return self.act.forward(self.lower.forward(z))

    def forward(self, z):
        self._h = self.hidden_units(z)
        return self._h @ self.U.data

    def backward(self, dy):
        """``∂E/∂U += Hᵀ ε``; the error ``ε Uᵀ`` goes down through σ and the dense layer."""
        dy = as_float_array(dy, self.U.data.dtype, "DSNModule backward input")
        self.U.grad += self._h.T @ dy
        return self.lower.backward(self.act.backward(dy @ self.U.data.T))

    def backward_curvature(self, d2y):
        """Gauss-Newton diagonal: ``∂²E/∂u_jc² = Σ_n h_nj² d2y_nc``, ``∂²E/∂h_nj² = Σ_c u_jc² d2y_nc``."""
        self.U.add_curv((self._h * self._h).T @ d2y)
        d2h = d2y @ (self.U.data * self.U.data).T
        return self.lower.backward_curvature(self.act.backward_curvature(d2h))


def upper_statistics(module: DSNModule, batches, comm=None) -> tuple[RidgeStatistics, float]:
    """``(HᵀH, HᵀT)`` summed over ``batches`` (an iterable of ``(Z_b, T_b)``), and ``Σ‖T‖²``;
    with ``comm`` (several ranks, each with its own rows) summed over the ranks as well."""
    dtype = module.U.data.dtype
    stats = RidgeStatistics(module.hidden, module.n_out, dtype=dtype,
                            xp=get_array_module(module.U.data))
    tt = 0.0
    for z, t in batches:
        t = as_float_array(t, dtype, "T")
        stats.add(module.hidden_units(z), t)
        tt += float((t * t).sum())
    if comm is not None and comm.size > 1:
        return allreduce_ridge_statistics(stats, tt, comm)
    return stats, tt


class UpperSolution:
    """``U = A⁻¹HᵀT``, ``V = A⁻¹U`` (``A = HᵀH + λI``) and ``J = ‖HU − T‖²/N``.

    ``J`` comes from the statistics alone:
    ``‖HU − T‖² = tr(UᵀHᵀHU) − 2 tr(UᵀHᵀT) + ‖T‖²``.
    """

    def __init__(self, stats: RidgeStatistics, tt: float, ridge: float, need_v: bool = True):
        self.ridge = float(ridge)
        self.n = stats.n
        self.U = stats.solve(ridge)
        xp = get_array_module(self.U)
        self.V = ridge_solve(stats.HtH, self.U, ridge) if need_v and ridge else xp.zeros_like(self.U)
        sq = float((self.U * (stats.HtH @ self.U)).sum() - 2 * (self.U * stats.HtT).sum()) + tt
        self.objective = max(sq, 0.0) / max(self.n, 1)


def solve_upper(module: DSNModule, batches, ridge: float, need_v: bool = True, comm=None) -> UpperSolution:
    """One pass over ``batches``: the statistics (summed over ``comm``'s ranks), then the
    closed-form ``U`` (set in the module)."""
    stats, tt = upper_statistics(module, batches, comm)
    sol = UpperSolution(stats, tt, ridge, need_v)
    module.U.data[...] = sol.U
    return sol


def accumulate_finetune_gradient(module: DSNModule, batches, sol: UpperSolution) -> float:
    """Add ``∂J/∂W``, ``∂J/∂b`` of ``J(W) = ‖H U(W) − T‖²/N`` into ``W.grad``, ``b.grad``.

    ``∂J/∂H = (2/N)[R (U + λV)ᵀ + λ (H V) Uᵀ]`` per batch (module docstring), then
    backward through σ and the dense layer. Returns ``J`` summed from the residuals.
    """
    U, V, lam = sol.U, sol.V, sol.ridge
    scale = 2.0 / sol.n
    UV = (U + lam * V).T if lam else U.T
    sq, dense = 0.0, module.lower
    keep, dense.input_grad = dense.input_grad, False  # ∂J/∂Z is not needed: one GEMM saved
    try:
        for z, t in batches:
            H = module.hidden_units(z)
            R = H @ U
            R -= as_float_array(t, U.dtype, "T")
            sq += float((R * R).sum())
            dH = R @ UV
            if lam:
                dH += lam * ((H @ V) @ U.T)
            dH *= scale
            dense.backward(module.act.backward(dH))
    finally:
        dense.input_grad = keep
    return sq / sol.n
