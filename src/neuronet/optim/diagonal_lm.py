"""The diagonal Levenberg–Marquardt step size (LeCun et al. 1998, "stochastic diagonal
Levenberg–Marquardt"; the lecture's per-weight learning rate).

Each weight gets its own step ``η_k = lr / (μ + h_kk)``, with ``h_kk`` an estimate
of ``∂²Q/∂w_k²`` from the curvature pass (``backward_curvature``) and ``μ > 0``
keeping the step bounded where the curvature is small::

    w_k := w_k − η_k · g_k                          (momentum = 0)
    v_k := γ v_k + g_k / (μ + h_kk),  w_k := w_k − lr · v_k   (momentum γ > 0)

``h`` is set by :meth:`DiagonalLM.update_curvature` from the parameters' ``curv``
(filled by :func:`neuronet.surgery.data_curvature`, or per epoch on a subset by the
:class:`neuronet.surgery.CurvatureEstimate` callback): replaced, or with ``decay``
``β`` the running estimate ``h := (1 − β) h + β · curv``.
"""
from __future__ import annotations

from ..backend import get_array_module
from ..validation import check_positive, check_probability
from .optimizer import Optimizer, axpy

__all__ = ["DiagonalLM"]


class DiagonalLM(Optimizer):
    """``w_k := w_k − lr/(μ + h_kk) · g_k``, ``h_kk`` the diagonal curvature estimate.

    ``DiagonalLM(params, lr, mu=0.02, momentum=0., decay=None, weight_decay=0., l1=0.)``;
    ``μ > 0``; ``decay`` ``β ∈ (0, 1]`` makes :meth:`update_curvature` a running
    average instead of a replacement. A step before any curvature estimate raises.
    """

    hyper_names = ("lr", "mu", "momentum", "decay", "weight_decay", "l1")

    def __init__(self, params, lr: float = 5e-4, mu: float = 0.02, momentum: float = 0.0,
                 decay: float | None = None, weight_decay: float = 0.0, l1: float = 0.0):
        super().__init__(params, lr, weight_decay, l1)
        self.mu = float(check_positive(mu, "mu"))
        self.momentum = float(check_probability(momentum, "momentum"))
        if decay is not None:
            decay = check_probability(decay, "decay", closed_right=True)
            if decay == 0:
                raise ValueError("decay must be in (0, 1] (or None to replace h), got 0")
        self.decay = decay

    def update_curvature(self, curvatures=None) -> None:
        """``h := curv`` (or ``(1 − β) h + β curv`` with ``decay = β``) for every
        parameter, from ``curvatures`` (a list aligned with the parameters) or each
        parameter's ``p.curv``. Negative entries (none from the Gauss–Newton pass) are
        clipped to 0."""
        if curvatures is None:
            curvatures = [p.curv for p in self.params]
        if len(curvatures) != len(self.params):
            raise ValueError(f"curvatures must hold one array per parameter ({len(self.params)}), "
                             f"got {len(curvatures)}")
        for i, (p, c, st) in enumerate(zip(self.params, curvatures, self.state)):
            if c is None:
                raise ValueError(f"parameter {i} ({p.name!r}) has no curvature: run the "
                                 "curvature pass (data_curvature) before update_curvature()")
            xp = get_array_module(p.data)
            c = xp.maximum(xp.asarray(c, dtype=p.data.dtype), 0)
            if tuple(c.shape) != tuple(p.shape):
                raise ValueError(f"curvature of parameter {i} must have shape {tuple(p.shape)}, "
                                 f"got {tuple(c.shape)}")
            h = st.get("h")
            if h is None or self.decay is None:
                st["h"] = c.copy()
            else:
                h *= 1 - self.decay
                axpy(self.decay, c, h)

    def step_sizes(self) -> list:
        """The current per-weight steps ``η_k = lr / (μ + h_kk)``, one array per parameter."""
        return [self.lr / (self.mu + self._h(st)) for st in self.state]

    def _h(self, state):
        h = state.get("h")
        if h is None:
            raise RuntimeError("DiagonalLM has no curvature estimate yet: call update_curvature() "
                               "after a curvature pass, or train with the CurvatureEstimate callback")
        return h

    def _update(self, p, g, state):
        scaled = g / (self.mu + self._h(state))
        if self.momentum == 0:
            axpy(-self.lr, scaled, p.data)
            return
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = state["momentum_buffer"] = scaled
        else:
            buf *= self.momentum
            buf += scaled
        axpy(-self.lr, buf, p.data)
