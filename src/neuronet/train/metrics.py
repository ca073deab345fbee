"""Classification metrics: accuracy, error rate, confusion matrix."""
from __future__ import annotations

import numpy as np

from ..backend import asnumpy

__all__ = ["predict_classes", "accuracy", "error_rate", "confusion_matrix", "METRICS"]


def predict_classes(output, threshold: float = 0.5):
    """Class labels from network outputs: ``argmax`` over the class axis, or
    ``[a > threshold]`` for a single output column (½ for a sigmoid, 0 for a logit)."""
    out = asnumpy(output)
    if out.ndim == 1 or (out.ndim == 2 and out.shape[1] == 1):
        return (out.reshape(len(out)) > threshold).astype(np.int64)
    return out.argmax(axis=-1)


def _labels(y_true, y_pred):
    yt = asnumpy(y_true)
    yp = asnumpy(y_pred)
    if yt.ndim == 2 and yt.shape[1] > 1:       # one-hot targets
        yt = yt.argmax(axis=1)
    if yp.ndim == 2:                           # scores (N, C) or one output column (N, 1)
        yp = predict_classes(yp)
    yt, yp = yt.reshape(len(yt)), yp.reshape(len(yp))
    if len(yt) != len(yp):
        raise ValueError(f"y_true and y_pred must have the same length, got {len(yt)} and {len(yp)}")
    if len(yt) == 0:
        raise ValueError("metrics need at least one sample, got 0")
    return yt, yp


def accuracy(y_true, y_pred) -> float:
    """``(1/ℓ) Σ [a(x_i) = y_i]``; ``y_pred`` may be labels or class scores (argmax taken)."""
    yt, yp = _labels(y_true, y_pred)
    return float(np.mean(yt == yp))


def error_rate(y_true, y_pred) -> float:
    """``(1/ℓ) Σ [a(x_i) ≠ y_i]`` = 1 − accuracy."""
    return 1.0 - accuracy(y_true, y_pred)


def confusion_matrix(y_true, y_pred, n_classes: int | None = None) -> np.ndarray:
    """``C[i, j]`` = number of objects of true class ``i`` predicted as class ``j``."""
    yt, yp = _labels(y_true, y_pred)
    yt, yp = yt.astype(np.int64), yp.astype(np.int64)
    if (yt < 0).any() or (yp < 0).any():
        raise ValueError("class labels must be non-negative integers")
    k = int(max(yt.max(), yp.max())) + 1 if n_classes is None else int(n_classes)
    if yt.max() >= k or yp.max() >= k:
        raise ValueError(f"labels go up to {max(yt.max(), yp.max())}, n_classes={k} is too small")
    return np.bincount(yt * k + yp, minlength=k * k).reshape(k, k)


#: metrics the trainer can compute on validation data, by name
METRICS = {"accuracy": accuracy, "error_rate": error_rate}
