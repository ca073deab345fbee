"""Input centring and normalisation (MISSION B7)."""
from __future__ import annotations

import numpy as np

from ..validation import as_float_array, check_finite, check_positive

__all__ = ["Standardizer"]


class Standardizer:
    """``x' = (x − μ) / σ`` per feature, with ``μ, σ`` fitted on training data only.

    Features with ``σ < eps`` (constant pixels) are only centred.  Fit on the
    training set, then apply the same ``transform`` to validation and test data.
    """

    def __init__(self, eps: float = 1e-8):
        self.eps = check_positive(eps, "eps")
        self.mean_ = None
        self.scale_ = None

    def fit(self, X):
        X = as_float_array(X, np.float64, "X")
        if X.ndim < 2 or len(X) == 0:
            raise ValueError(f"X must be a non-empty array (N, features...), got shape {X.shape}")
        check_finite(X, "X")
        self.mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        self.scale_ = np.where(std < self.eps, 1.0, std)
        return self

    def _check_fitted(self, X):
        if self.mean_ is None:
            raise RuntimeError("Standardizer is not fitted: call fit(X_train) first")
        if X.shape[1:] != self.mean_.shape:
            raise ValueError(f"X must have feature shape {self.mean_.shape} (as in fit), "
                             f"got {X.shape[1:]}")

    def transform(self, X, dtype=None):
        """Standardised ``X`` in ``dtype`` (default: X's float dtype, float32 for integers)."""
        X = np.asarray(X)
        if dtype is None:
            dtype = X.dtype if X.dtype.kind == "f" else np.float32
        Xf = as_float_array(X, np.dtype(dtype), "X")
        self._check_fitted(Xf)
        return ((Xf - self.mean_) / self.scale_).astype(Xf.dtype, copy=False)

    def fit_transform(self, X, dtype=None):
        return self.fit(X).transform(X, dtype)

    def inverse_transform(self, Z):
        Z = np.asarray(Z)
        Z = as_float_array(Z, Z.dtype if Z.dtype.kind == "f" else np.float64, "Z")
        self._check_fitted(Z)
        return (Z * self.scale_ + self.mean_).astype(Z.dtype, copy=False)

    def state_dict(self) -> dict:
        return {"mean": self.mean_, "scale": self.scale_, "eps": self.eps}

    def load_state_dict(self, state) -> None:
        self.mean_ = np.asarray(state["mean"], dtype=np.float64)
        self.scale_ = np.asarray(state["scale"], dtype=np.float64)
        self.eps = float(state.get("eps", self.eps))
