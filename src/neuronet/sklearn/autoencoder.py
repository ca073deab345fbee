"""``DeepAutoencoder``: Hinton & Salakhutdinov's autoencoder as a scikit-learn transformer.

``fit`` pretrains the encoder as a stack of RBMs (Bernoulli layers, a linear
Gaussian code layer by default), unrolls it into an encoder and its mirrored
decoder, and fine-tunes both by backprop on the reconstruction's cross-entropy
``−Σ_i [x_i log x̂_i + (1 − x_i) log(1 − x̂_i)]`` (:class:`neuronet.models.DeepAutoencoder`).
``transform`` gives the codes, ``inverse_transform`` the reconstructions from codes.
The data layer is Bernoulli: ``X`` must lie in [0, 1] (pixels scaled to it).
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .. import validation as V
from ..models.autoencoder import DeepAutoencoder as Autoencoder
from .base import float_dtype, layer_sizes, seed_from, validate_input

__all__ = ["DeepAutoencoder"]


class DeepAutoencoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Deep autoencoder codes for a ``Pipeline``.

    ``hidden_layer_sizes``: the encoder's layers, the last one the code (e.g.
    ``(1000, 500, 250, 30)``); ``code`` (``'gaussian'``: linear, ``'bernoulli'``:
    logistic); ``pretrain_epochs`` of CD-1 per RBM with ``batch_size``; ``max_iter``
    epochs of fine-tuning by Adam at ``learning_rate_init``; ``random_state``,
    ``verbose``. Fitted: ``model_`` (``nt.models.DeepAutoencoder``), ``history_``, ``n_iter_``.
    """

    def __init__(self, hidden_layer_sizes=(256, 64, 16), code="gaussian", pretrain_epochs: int = 10,
                 batch_size: int = 100, max_iter: int = 10, learning_rate_init: float = 1e-3,
                 random_state=None, verbose: bool = False):
        self.hidden_layer_sizes, self.code, self.pretrain_epochs = hidden_layer_sizes, code, pretrain_epochs
        self.batch_size, self.max_iter, self.learning_rate_init = batch_size, max_iter, learning_rate_init
        self.random_state, self.verbose = random_state, verbose

    def _check_hyper(self):
        sizes = layer_sizes(self.hidden_layer_sizes, "DeepAutoencoder hidden_layer_sizes")
        if not sizes:
            raise ValueError("DeepAutoencoder hidden_layer_sizes must list at least the code layer, got ()")
        V.check_choice(self.code, "DeepAutoencoder code", ("gaussian", "bernoulli"))
        V.check_int(self.pretrain_epochs, "DeepAutoencoder pretrain_epochs", minimum=0)
        V.check_int(self.batch_size, "DeepAutoencoder batch_size", minimum=1)
        V.check_int(self.max_iter, "DeepAutoencoder max_iter", minimum=0)
        V.check_positive(self.learning_rate_init, "DeepAutoencoder learning_rate_init")
        return sizes

    def fit(self, X, y=None):
        """Pretrain, unroll, fine-tune on the rows of ``X`` (values in [0, 1])."""
        sizes = self._check_hyper()
        X = validate_input(self, X)
        seed = seed_from(self.random_state)
        self.model_ = Autoencoder([X.shape[1], *sizes], code=self.code, seed=seed, dtype=float_dtype(X))
        batch = min(self.batch_size, len(X))
        self.history_ = {}
        if self.pretrain_epochs:
            self.model_.pretrain(X, epochs=self.pretrain_epochs, batch_size=batch, seed=seed,
                                 verbose=bool(self.verbose))
        if self.max_iter:
            hist = self.model_.fit(X, epochs=self.max_iter, batch_size=batch, lr=self.learning_rate_init,
                                   seed=seed, progress=bool(self.verbose))
            self.history_ = hist.to_dict()
        self.n_iter_ = len(self.history_.get("loss", []))  # fine-tuning epochs run (scikit-learn's n_iter_)
        return self

    def _dtype(self):
        check_is_fitted(self, "model_")
        return self.model_.encoder.layers[0].W.data.dtype

    def transform(self, X):
        """Codes ``z``, shape ``(N, hidden_layer_sizes[-1])``."""
        dtype = self._dtype()
        X = validate_input(self, X, reset=False)
        return self.model_.encode(np.asarray(X, dtype=dtype))

    def inverse_transform(self, Z):
        """Reconstructions ``x̂`` of codes ``Z``, shape ``(N, n_features_in_)``."""
        return self.model_.decode(np.asarray(Z, dtype=self._dtype()))

    @property
    def _n_features_out(self):
        return layer_sizes(self.hidden_layer_sizes, "hidden_layer_sizes")[-1]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.non_deterministic = self.random_state is None
        return tags
