"""Margin losses for labels y ∈ {±1} (MISSION A4)."""
from __future__ import annotations

import numpy as np

from ..backend import get_array_module
from ..layers.activations import sigmoid
from ..validation import check_ndim
from .base import Loss, _batch, _float

__all__ = ["MarginLoss"]


class MarginLoss(Loss):
    """Margin losses for two classes ``t ∈ {−1, +1}`` and scores ``a`` (``(N,)`` or ``(N, 1)``).

    With the margin ``M = a·t``, ``E = (1/N) Σ_n L(M_n)`` where ``L`` is

    * ``'logistic'``: ``ln(1 + e^{−M})`` (logistic regression);
    * ``'hinge'``: ``(1 − M)_+`` (SVM);
    * ``'exponential'``: ``e^{−M}`` (AdaBoost);
    * ``'sigmoid'``: ``1/(1 + e^{M})`` (a smooth count of errors).

    ``∂E/∂a = t·L'(M)/N``; curvature ``∂²E/∂a² = L''(M)/N`` (``t² = 1``), zero
    for hinge, clipped at zero for the non-convex sigmoid loss (Gauss-Newton
    curvature must not be negative).
    """

    KINDS = ("logistic", "hinge", "exponential", "sigmoid")

    def __init__(self, kind: str = "logistic"):
        if kind not in self.KINDS:
            raise ValueError(f"MarginLoss kind must be one of {self.KINDS}, got {kind!r}")
        self.kind = kind

    def task(self, target) -> str:
        return "classification"

    def predict(self, output):
        """``sign(a)`` as labels in {−1, +1}."""
        from ..backend import asnumpy
        return np.where(asnumpy(output).reshape(len(output), -1)[:, 0] > 0, 1, -1)

    def forward(self, output, target) -> float:
        a = _float(output, "MarginLoss scores")
        check_ndim(a, (1, 2), "MarginLoss scores", "(N,) or (N, 1)")
        if a.ndim == 2 and a.shape[1] != 1:
            raise ValueError(f"MarginLoss scores must have shape (N,) or (N, 1), got {tuple(a.shape)}")
        _batch(a, "MarginLoss scores")
        t = _float(target, "MarginLoss targets", like=a)
        if t.size == a.size and t.ndim <= 2:
            t = t.reshape(a.shape)
        else:
            raise ValueError(f"MarginLoss targets must have one label per score, shape "
                             f"{(a.shape[0],)}, got {tuple(t.shape)}")
        xp = get_array_module(a)
        if not bool(xp.all((t == 1) | (t == -1))):
            raise ValueError("MarginLoss targets must be -1 or +1")
        m = a * t
        self._m, self._t, self._n = m, t, a.shape[0]
        if self.kind == "logistic":
            per = xp.logaddexp(0, -m)
        elif self.kind == "hinge":
            per = xp.maximum(1 - m, 0)
        elif self.kind == "exponential":
            per = xp.exp(-m)
        else:
            per = sigmoid(-m)
        return float(per.sum() / self._n)

    def _dl(self):
        """``L'(M)``."""
        xp = get_array_module(self._m)
        m = self._m
        if self.kind == "logistic":
            return -sigmoid(-m)
        if self.kind == "hinge":
            return -(m < 1).astype(m.dtype)
        if self.kind == "exponential":
            return -xp.exp(-m)
        s = sigmoid(-m)
        return -s * (1 - s)

    def _d2l(self):
        """``L''(M)`` (clipped at zero for the sigmoid loss)."""
        xp = get_array_module(self._m)
        m = self._m
        if self.kind == "logistic":
            s = sigmoid(m)
            return s * (1 - s)
        if self.kind == "hinge":
            return xp.zeros_like(m)
        if self.kind == "exponential":
            return xp.exp(-m)
        s = sigmoid(-m)
        return xp.maximum(s * (1 - s) * (1 - 2 * s), 0)

    def backward(self):
        self._cached("backward")
        return self._t * self._dl() / self._n

    def backward_curvature(self):
        self._cached("backward_curvature")
        return self._d2l() / self._n
