"""Losses (MISSION A4): a value averaged over the batch, its gradient and curvature.

Protocol: ``loss.forward(output, target) -> float`` (also ``loss(output, target)``)
caches what it needs; ``loss.backward() -> ∂E/∂output``; ``loss.backward_curvature()
-> ∂²E/∂output²`` (the diagonal, for OBD and Levenberg-Marquardt). Every loss is
a mean over the batch (axis 0) of a per-object loss summed over outputs, so the
gradient carries the factor ``1/N``.
"""
from __future__ import annotations

import numpy as np

from ..backend import get_array_module, get_default_dtype
from ..registry import REGISTRIES, Registered
from ..validation import as_float_array, check_ndim

__all__ = ["Loss", "LOSSES"]



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
        from ..train.metrics import predict_classes
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


#: every Loss subclass by class name (what a config or a saved spec may name).
LOSSES = REGISTRIES["loss"]
