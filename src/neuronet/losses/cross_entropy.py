"""Cross-entropy losses: softmax + cross-entropy fused, and the Bernoulli log-likelihood."""
from __future__ import annotations

import numpy as np

from ..backend import get_array_module
from ..layers.activations import sigmoid
from ..validation import as_float_array, check_ndim
from .base import Loss, _batch, _float, _same_shape

__all__ = ["SoftmaxCrossEntropy", "BinaryCrossEntropy"]


class SoftmaxCrossEntropy(Loss):
    """Softmax and cross-entropy fused, on logits ``a`` of shape ``(N, C)``.

    ``y = softmax(a)``, ``E = −(1/N) Σ_n Σ_c t_nc ln y_nc``; targets are class
    indices ``(N,)`` (integers in ``[0, C)``) or rows of ``(N, C)`` (one-hot or
    probabilities). ``∂E/∂a = (y − t)/N`` (the lecture's ``y − t``). Curvature:
    the exact diagonal ``∂²E/∂a_c² = y_c(1 − y_c)/N`` (for targets summing to 1).
    """

    def forward(self, output, target) -> float:
        a = _float(output, "SoftmaxCrossEntropy logits")
        check_ndim(a, 2, "SoftmaxCrossEntropy logits", "(N, C)")
        _batch(a, "SoftmaxCrossEntropy logits")
        n, c = a.shape
        xp = get_array_module(a)
        t = self._targets(target, n, c, a.dtype, xp)
        shifted = a - a.max(axis=1, keepdims=True)
        log_z = xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
        log_y = shifted - log_z
        self._y = xp.exp(log_y)
        self._t = t
        self._n = n
        return float(-(t * log_y).sum() / n)

    @staticmethod
    def _targets(target, n, c, dtype, xp):
        """Targets as an ``(N, C)`` float array (one-hot from indices)."""
        if not hasattr(target, "dtype"):
            target = np.asarray(target)
        kind = target.dtype.kind
        if kind not in "fiub":
            raise TypeError(f"SoftmaxCrossEntropy targets must be class indices or one-hot rows, "
                            f"got dtype {target.dtype}")
        if target.ndim == 1:
            if target.shape[0] != n:
                raise ValueError(f"SoftmaxCrossEntropy targets must have {n} class indices (one per "
                                 f"row of the logits), got shape {tuple(target.shape)}")
            if kind == "f" and not bool(xp.all(target == xp.round(target))):
                raise ValueError("SoftmaxCrossEntropy 1-D targets must be integer class indices, "
                                 "got non-integer values")
            idx = target.astype(np.int64)
            if n and (int(idx.min()) < 0 or int(idx.max()) >= c):
                raise ValueError(f"SoftmaxCrossEntropy class indices must be in [0, {c}), got "
                                 f"values in [{int(idx.min())}, {int(idx.max())}]")
            t = xp.zeros((n, c), dtype=dtype)
            t[xp.arange(n), xp.asarray(idx)] = 1
            return t
        if target.shape != (n, c):
            raise ValueError(f"SoftmaxCrossEntropy targets must be class indices of shape ({n},) "
                             f"or rows of shape {(n, c)}, got shape {tuple(target.shape)}")
        t = as_float_array(target, dtype, "SoftmaxCrossEntropy targets")
        if not bool(((t >= 0) & (t <= 1)).all()):  # written so that NaN fails too
            raise ValueError("SoftmaxCrossEntropy target rows must be probabilities in [0, 1], "
                             f"got values such as {t[~((t >= 0) & (t <= 1))][:3].tolist()}")
        return t

    def task(self, target) -> str:
        return "classification"

    def prepare_targets(self, target, n: int, name: str = "y"):
        """Class indices (integers ≥ 0; integral floats are converted) or one-hot rows."""
        y = super().prepare_targets(target, n, name)
        if y.ndim == 1:
            xp = get_array_module(y)
            if y.dtype.kind == "f":
                if not bool(xp.all(y == xp.round(y))):
                    bad = y[y != xp.round(y)][:3]
                    raise ValueError(f"{name} holds class labels for SoftmaxCrossEntropy; they must "
                                     f"be integers, got non-integer values such as {bad.tolist()}")
                y = y.astype(np.int64)
            if len(y) and int(y.min()) < 0:
                raise ValueError(f"class labels in {name} must be >= 0, got {int(y.min())}")
        return y

    def backward(self):
        self._cached("backward")
        # (y − t)/N assumes rows of t sum to one; the general form keeps soft targets exact.
        return (self._y * self._t.sum(axis=1, keepdims=True) - self._t) / self._n

    def backward_curvature(self):
        self._cached("backward_curvature")
        return self._y * (1 - self._y) * self._t.sum(axis=1, keepdims=True) / self._n

    @property
    def probabilities(self):
        """The softmax ``y`` of the last forward call."""
        self._cached("probabilities")
        return self._y


class BinaryCrossEntropy(Loss):
    """Bernoulli negative log-likelihood ``E = −(1/N) Σ_n Σ_k [t ln y + (1−t) ln(1−y)]``.

    On probabilities ``y ∈ [0, 1]`` (``from_logits=False``): logs are clamped at
    −100 (as PyTorch does) so ``y = 0`` or ``1`` gives a finite value;
    ``∂E/∂y = (y − t)/(y(1 − y))/N``, ``∂²E/∂y² = (t/y² + (1−t)/(1−y)²)/N``.
    On logits ``a`` (``from_logits=True``, ``y = σ(a)``), in the stable form
    ``max(a, 0) − a·t + ln(1 + e^{−|a|})``; ``∂E/∂a = (σ(a) − t)/N``,
    ``∂²E/∂a² = σ(a)(1 − σ(a))/N``. Targets in ``[0, 1]``, the output's shape.
    """

    _EPS = 1e-12

    def __init__(self, from_logits: bool = False):
        self.from_logits = bool(from_logits)

    def task(self, target) -> str:
        return "classification"

    def predict(self, output):
        """``[σ(a) > ½]``, i.e. ``[a > 0]`` for logits."""
        from ..train.metrics import predict_classes
        return predict_classes(output, threshold=0.0 if self.from_logits else 0.5)

    def forward(self, output, target) -> float:
        name = "BinaryCrossEntropy " + ("logits" if self.from_logits else "probabilities")
        y = _float(output, name)
        _batch(y, name)
        t = _same_shape(y, _float(target, "BinaryCrossEntropy targets", like=y), name,
                        "BinaryCrossEntropy targets")
        xp = get_array_module(y)
        if not bool(((t >= 0) & (t <= 1)).all()):  # written so that NaN fails too
            nan = " and nan" if bool(xp.isnan(t).any()) else ""
            raise ValueError("BinaryCrossEntropy targets must be in [0, 1], got values in "
                             f"[{float(xp.nanmin(t))}, {float(xp.nanmax(t))}]{nan}")
        self._n = y.shape[0]
        self._t = t
        if self.from_logits:
            self._p = sigmoid(y)
            per = xp.maximum(y, 0) - y * t + xp.log1p(xp.exp(-xp.abs(y)))
            return float(per.sum() / self._n)
        if bool((y < 0).any()) or bool((y > 1).any()):
            raise ValueError(f"{name} must be in [0, 1] (use from_logits=True for scores), got "
                             f"values in [{float(y.min())}, {float(y.max())}]")
        self._p = y
        with np.errstate(divide="ignore"):  # log 0 = −inf, clamped to −100 next
            log_y = xp.maximum(xp.log(y), -100)
            log_1y = xp.maximum(xp.log(1 - y), -100)
        return float(-(t * log_y + (1 - t) * log_1y).sum() / self._n)

    def backward(self):
        self._cached("backward")
        p, t = self._p, self._t
        if self.from_logits:
            return (p - t) / self._n
        xp = get_array_module(p)
        return (p - t) / xp.maximum(p * (1 - p), self._EPS) / self._n

    def backward_curvature(self):
        self._cached("backward_curvature")
        p, t = self._p, self._t
        if self.from_logits:
            return p * (1 - p) / self._n
        xp = get_array_module(p)
        return (t / xp.maximum(p * p, self._EPS) + (1 - t) / xp.maximum((1 - p) ** 2, self._EPS)) / self._n
