"""Principal component analysis: the linear baseline of the deep autoencoder
(Hinton & Salakhutdinov 2006), and their reconstruction metric.

Fitted on training rows ``X (N, d)``, centred at their mean ``μ``; with the
thin SVD ``X − μ = U S Vᵀ`` the components are the first ``k`` rows of ``Vᵀ``
(the eigenvectors of the scatter matrix ``(X − μ)ᵀ(X − μ) = V S² Vᵀ``, which is
how they are computed when ``N ≥ d``: one ``d × d`` product
instead of an ``N × d`` SVD)::

    code  z = (x − μ) Vₖ                    (transform)
    x̂     = z Vₖᵀ + μ                        (inverse_transform)

The paper's metric, :func:`reconstruction_sse`, is the mean over images of the
squared error summed over the pixels, reconstructions unclipped.
"""
from __future__ import annotations

import numpy as np

from .. import validation as V
from ..backend import get_array_module

__all__ = ["PCA", "reconstruction_sse"]


def reconstruction_sse(X, R) -> float:
    """``(1/N) Σ_n ‖x_n − x̂_n‖²``: the squared error summed over features, averaged over rows."""
    X = V.as_float_array(X, np.float64, "X")
    R = V.as_float_array(R, np.float64, "R")
    if X.shape != R.shape:
        raise ValueError(f"X and its reconstruction R must have the same shape, got {X.shape} and {R.shape}")
    V.check_ndim(X, 2, "X", "(N, features)")
    d = X - R
    return float((d * d).sum() / max(len(X), 1))


class PCA:
    """``PCA(n_components)``: ``fit(X)``, ``transform``, ``inverse_transform``.

    Attributes after ``fit``: ``mean_ (d,)``, ``components_ (k, d)`` (orthonormal
    rows, each signed so its largest-magnitude entry is positive),
    ``explained_variance_ (k,)`` (``S²/(N − 1)``).
    """

    def __init__(self, n_components: int):
        self.n_components = V.check_int(n_components, "n_components", minimum=1)

    def fit(self, X):
        X = V.as_float_array(X, getattr(X, "dtype", np.float64) if getattr(X, "dtype", None) == np.float32
                             else np.float64, "X")
        V.check_ndim(X, 2, "X", "(N, features)")
        V.check_finite(X, "X")
        n, d = X.shape
        if self.n_components > min(n, d):
            raise ValueError(f"n_components must be at most min(N, features) = {min(n, d)}, "
                             f"got {self.n_components}")
        xp = get_array_module(X)
        self.mean_ = X.mean(axis=0, dtype=np.float64)
        Xc = X - self.mean_.astype(X.dtype)
        if n >= d:  # eigenvectors of the scatter matrix = right singular vectors of Xc
            # float32 data: the product in float32 (half the time), the eigenproblem in float64
            s2, vecs = xp.linalg.eigh((Xc.T @ Xc).astype(np.float64))
            order = xp.argsort(s2)[::-1][:self.n_components]
            comps, s2 = vecs[:, order].T, xp.maximum(s2[order], 0)
        else:
            _, s, vt = xp.linalg.svd(Xc.astype(np.float64), full_matrices=False)
            comps, s2 = vt[:self.n_components], s[:self.n_components] ** 2
        rows = xp.arange(len(comps))
        signs = xp.sign(comps[rows, xp.abs(comps).argmax(axis=1)])
        self.components_ = comps * xp.where(signs == 0, 1, signs)[:, None]
        self.explained_variance_ = s2 / max(n - 1, 1)
        self.n_features_in_ = d
        return self

    def _fitted(self, X, name):
        if not hasattr(self, "components_"):
            raise RuntimeError("this PCA is not fitted yet: call fit(X) first")
        X = V.as_float_array(X, self.components_.dtype, name)
        V.check_ndim(X, 2, name, "(N, features)")
        return X

    def transform(self, X):
        """Codes ``z = (x − μ) Vₖ``, shape ``(N, n_components)``."""
        X = self._fitted(X, "X")
        V.check_features(X, self.n_features_in_, name="X")
        return (X - self.mean_) @ self.components_.T

    def inverse_transform(self, Z):
        """Reconstructions ``x̂ = z Vₖᵀ + μ`` (unclipped), shape ``(N, features)``."""
        Z = self._fitted(Z, "Z")
        V.check_features(Z, self.n_components, name="Z", what="components")
        return Z @ self.components_ + self.mean_

    def fit_transform(self, X):
        return self.fit(X).transform(X)

    def reconstruct(self, X):
        """``inverse_transform(transform(X))``."""
        return self.inverse_transform(self.transform(X))
