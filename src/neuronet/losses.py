"""Losses (MISSION A4): a value averaged over the batch, its gradient and curvature.

Protocol: ``loss.forward(output, target) -> float`` (also ``loss(output, target)``)
caches what it needs; ``loss.backward() -> ∂E/∂output``; ``loss.backward_curvature()
-> ∂²E/∂output²`` (the diagonal, for OBD and Levenberg-Marquardt). Every loss is
a mean over the batch (axis 0) of a per-object loss summed over outputs, so the
gradient carries the factor ``1/N``.
"""
from __future__ import annotations

import numpy as np

from .backend import get_array_module, get_default_dtype
from .layers.activations import sigmoid
from .registry import REGISTRIES, Registered
from .validation import as_float_array, check_ndim

__all__ = ["Loss", "MSE", "SoftmaxCrossEntropy", "BinaryCrossEntropy", "MarginLoss", "LOSSES"]

#: every Loss subclass by class name (for configs and saved training state).


def _float(x, name, like=None):
    """Float array; keeps a float dtype, converts ints to ``like``'s dtype or the default."""
    if like is not None:
        dtype = like.dtype
    elif getattr(x, "dtype", None) is not None and x.dtype.kind == "f":
        dtype = x.dtype
    else:
        dtype = get_default_dtype()
    return as_float_array(x, dtype, name)


class Loss(Registered, kind="loss"):
    """Base class: subclasses define ``forward``, ``backward``, ``backward_curvature``."""

    def forward(self, output, target) -> float:
        raise NotImplementedError

    def backward(self):
        raise NotImplementedError

    def backward_curvature(self):
        raise NotImplementedError(f"{type(self).__name__} has no curvature pass")

    # ------------------------------------------------------ targets and predictions
    def task(self, target) -> str:
        """``"classification"`` if outputs are read as classes for these targets, else
        ``"regression"``; for a generic loss, 1-D integer targets mean classes."""
        kind = getattr(target, "dtype", np.asarray(target).dtype).kind
        return "classification" if kind in "iub" and np.ndim(target) == 1 else "regression"

    def prepare_targets(self, target, n: int, name: str = "y"):
        """``target`` checked once before training: numeric, one per object, finite;
        integer labels stay integers (int64), anything else is float."""
        xp = get_array_module(target) if hasattr(target, "dtype") else np
        y = target if hasattr(target, "dtype") else np.asarray(target)
        if y.dtype.kind not in "fiub":
            raise TypeError(f"{name} must be numeric, got dtype {y.dtype}")
        if y.ndim == 0:
            raise ValueError(f"{name} must hold one target per object, got a scalar")
        if len(y) != n:
            raise ValueError(f"X and {name} must have the same number of samples, "
                             f"got X: {n}, {name}: {len(y)}")
        if y.dtype.kind == "f" and not bool(xp.isfinite(y).all()):
            raise ValueError(f"{name} contains NaN or infinity")
        return y.astype(np.int64) if y.dtype.kind in "ub" else y

    def predict(self, output):
        """Class labels from outputs as this loss reads them: ``argmax`` over classes,
        or ``[a > ½]`` for one output column."""
        from .train.metrics import predict_classes
        return predict_classes(output)

    def __call__(self, output, target) -> float:
        return self.forward(output, target)

    def _cached(self, what):
        if getattr(self, "_n", None) is None:
            raise RuntimeError(f"{type(self).__name__}.{what} called before forward()")


    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.spec()["args"].items())
        return f"{type(self).__name__}({args})"


def _same_shape(output, target, oname, tname):
    """``target`` with the shape of ``output``; ``(N,)`` is accepted for ``(N, 1)``."""
    if target.shape != output.shape:
        if output.ndim == 2 and output.shape[1] == 1 and target.shape == (output.shape[0],):
            return target.reshape(output.shape)
        raise ValueError(f"{tname} must have the shape of the {oname} {tuple(output.shape)}, "
                         f"got {tuple(target.shape)}")
    return target


def _batch(output, name):
    check_ndim(output, tuple(range(1, 9)), name, "(N, ...)")
    if output.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one object, got shape {tuple(output.shape)}")


class MSE(Loss):
    """Squared error ``E = (1/N) Σ_n ½ Σ_k (y_nk − t_nk)²``.

    ``∂E/∂y = (y − t)/N``; ``∂²E/∂y² = 1/N`` (exact).
    """

    def forward(self, output, target) -> float:
        y = _float(output, "MSE output")
        _batch(y, "MSE output")
        t = _same_shape(y, _float(target, "MSE target", like=y), "output", "MSE target")
        self._n = y.shape[0]
        self._diff = y - t
        return float(0.5 * (self._diff * self._diff).sum() / self._n)

    def backward(self):
        self._cached("backward")
        return self._diff / self._n

    def backward_curvature(self):
        self._cached("backward_curvature")
        xp = get_array_module(self._diff)
        return xp.full(self._diff.shape, 1.0 / self._n, dtype=self._diff.dtype)


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
        if bool((t < 0).any()) or bool((t > 1).any()):
            raise ValueError("SoftmaxCrossEntropy target rows must be probabilities in [0, 1]")
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
        from .train.metrics import predict_classes
        return predict_classes(output, threshold=0.0 if self.from_logits else 0.5)

    def forward(self, output, target) -> float:
        name = "BinaryCrossEntropy " + ("logits" if self.from_logits else "probabilities")
        y = _float(output, name)
        _batch(y, name)
        t = _same_shape(y, _float(target, "BinaryCrossEntropy targets", like=y), name,
                        "BinaryCrossEntropy targets")
        xp = get_array_module(y)
        if bool((t < 0).any()) or bool((t > 1).any()):
            raise ValueError("BinaryCrossEntropy targets must be in [0, 1], got values in "
                             f"[{float(t.min())}, {float(t.max())}]")
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
        from .backend import asnumpy
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


#: every Loss subclass by class name (what a config or a saved spec may name).
LOSSES = REGISTRIES["loss"]
