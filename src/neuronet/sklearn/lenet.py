"""``LeNet5Classifier``: :class:`neuronet.models.LeNet5` as a scikit-learn classifier.

LeNet-5 reads a 32×32 field. Images come as ``(N, H, W)`` or ``(N, 1, H, W)``
with ``H, W ≤ 32``, or as flat rows: 784 features are 28×28 digits, 1024 a
32×32 field, and any other ``D ≤ 1024`` features are laid row by row on the
smallest ``s×s`` square (``s = ⌈√D⌉``, the rest zero). The image is centred in
the 32×32 field with zeros around it, as LeCun padded the 28×28 MNIST digits
by 2. Training minimises the softmax cross-entropy of the ten (or
``len(classes_)``) outputs, as :class:`~neuronet.sklearn.MLPClassifier` does.
"""
from __future__ import annotations

import math

import numpy as np
from sklearn.base import ClassifierMixin

from .. import validation as V
from ..models.lenet import _POOLS, LeNet5
from .base import NetworkEstimator
from .mlp import ClassifierOutputs

__all__ = ["LeNet5Classifier"]

_FIELD = 32


def image_side(n_features: int) -> tuple:
    """``(H, W)`` of the image a flat row of ``n_features`` pixels is laid on."""
    if n_features > _FIELD * _FIELD:
        raise ValueError(f"LeNet5Classifier reads a 32×32 field: at most 1024 features, got {n_features}")
    side = math.isqrt(n_features - 1) + 1 if n_features > 1 else 1
    return side, side


class LeNet5Classifier(ClassifierOutputs, ClassifierMixin, NetworkEstimator):
    """LeNet-5 trained by backprop on images (scikit-learn API).

    ``table`` (``'lecun'``: the 1998 S2→C3 connections, or ``'full'``) and
    ``pooling`` (``'subsample'``, ``'max'``, ``'avg'``) choose the network; the
    training arguments are :class:`~neuronet.sklearn.MLPClassifier`'s.
    Fitted: ``model_`` (an ``nt.models.LeNet5``), ``classes_``, ``image_shape_``.
    """

    def __init__(self, table="lecun", pooling="subsample", solver="adam", alpha=0.0, batch_size=32,
                 learning_rate_init=1e-3, max_iter=10, shuffle=True, random_state=None, tol=1e-4,
                 verbose=False, warm_start=False, momentum=0.9, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=5):
        self._keep_arguments(locals())

    def _check_hyper(self):
        super()._check_hyper()
        V.check_choice(self.table, "LeNet5Classifier table", ("lecun", "full"))
        V.check_choice(self.pooling, "LeNet5Classifier pooling", _POOLS)

    def _build_model(self, X, n_outputs, seed, dtype):
        return LeNet5(table=self.table, pooling=self.pooling, n_classes=n_outputs, seed=seed, dtype=dtype)

    def _flat(self, X, reset: bool):
        """Images ``(N, H, W)`` / ``(N, 1, H, W)`` as flat rows; remembers ``(H, W)`` on fit."""
        shape = getattr(X, "shape", None)
        if shape is not None and len(shape) in (3, 4):
            if len(shape) == 4 and shape[1] != 1:
                raise ValueError(f"LeNet5Classifier reads one channel: images (N, 1, H, W), got {shape}")
            hw = tuple(shape[-2:])
            if max(hw) > _FIELD:
                raise ValueError(f"LeNet5Classifier reads a 32×32 field, got images of {hw[0]}×{hw[1]}")
            X = np.asarray(X).reshape(shape[0], -1)
        else:
            hw = None
        if reset:
            self._image_shape = hw
        return X

    def _check_X(self, X, reset: bool):
        return super()._check_X(self._flat(X, reset), reset)

    def _check_Xy(self, X, y, reset: bool):
        X, y = super()._check_Xy(self._flat(X, reset), y, reset)
        if reset:
            self.image_shape_ = self._image_shape or image_side(X.shape[1])
        return X, y

    def _network_input(self, X):
        """Flat rows as ``(N, 1, 32, 32)``: on the ``image_shape_`` canvas, centred, zeros around."""
        h, w = self.image_shape_
        canvas = np.zeros((len(X), h * w), dtype=X.dtype)
        canvas[:, :X.shape[1]] = X
        field = np.zeros((len(X), 1, _FIELD, _FIELD), dtype=X.dtype)
        top, left = (_FIELD - h) // 2, (_FIELD - w) // 2
        field[:, 0, top:top + h, left:left + w] = canvas.reshape(-1, h, w)
        return field
