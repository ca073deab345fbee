"""``RBM``: a restricted Boltzmann machine as a scikit-learn transformer.

``fit(X)`` trains :class:`neuronet.energy.RBM` by CD-k (or PCD-k with
``persistent=True``) on the rows of ``X``; ``transform(X)`` gives the hidden
means ``E[h_j | x] = mean_h(b_j + Σ_i x_i w_ij)`` (``σ(·)`` for Bernoulli
hiddens), the learned features. Every unit pairing of the energy model works
(``visible``/``hidden``: ``'bernoulli'``, ``'gaussian'``, ``'poisson'``,
``'softmax:K'``). As ``sklearn.neural_network.BernoulliRBM``: ``components_``
is ``Wᵀ``, ``intercept_hidden_`` and ``intercept_visible_`` the biases,
``partial_fit`` one CD update on a batch, ``score_samples`` the stochastic
pseudo-likelihood (Bernoulli visibles).
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from .. import validation as V
from ..energy.monitors import pseudo_likelihood
from ..energy.rbm import RBM as EnergyRBM
from .base import float_dtype, seed_from, validate_input

__all__ = ["RBM"]

_NON_NEGATIVE = ("bernoulli", "poisson")


class RBM(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Restricted Boltzmann machine features for a ``Pipeline`` (scikit-learn API).

    ``n_components`` hidden units; ``learning_rate`` (``None``: 0.1 for Bernoulli
    visibles, 0.01 otherwise), ``batch_size``, ``n_iter`` epochs, ``k`` Gibbs
    steps, ``persistent`` (PCD), ``momentum`` (``None``: 0.5 then 0.9, Hinton's
    schedule), ``weight_decay`` (L2 on ``W``). The fitted energy model is ``rbm_``.
    Bernoulli visibles need ``X`` in ``[0, 1]``; Gaussian visibles standardised data.
    """

    def __init__(self, n_components: int = 256, visible="bernoulli", hidden="bernoulli",
                 learning_rate=None, batch_size: int = 10, n_iter: int = 10, k: int = 1,
                 persistent: bool = False, momentum=None, weight_decay: float = 1e-4,
                 random_state=None, verbose: bool = False):
        self.n_components, self.visible, self.hidden = n_components, visible, hidden
        self.learning_rate, self.batch_size, self.n_iter, self.k = learning_rate, batch_size, n_iter, k
        self.persistent, self.momentum, self.weight_decay = persistent, momentum, weight_decay
        self.random_state, self.verbose = random_state, verbose

    def _check_hyper(self):
        V.check_int(self.n_components, "RBM n_components", minimum=1)
        V.check_int(self.batch_size, "RBM batch_size", minimum=1)
        V.check_int(self.n_iter, "RBM n_iter", minimum=1)
        V.check_int(self.k, "RBM k", minimum=1)
        if self.learning_rate is not None:
            V.check_positive(self.learning_rate, "RBM learning_rate")
        if self.momentum is not None:
            V.check_probability(self.momentum, "RBM momentum")
        V.check_positive(self.weight_decay, "RBM weight_decay", allow_zero=True)

    def _new_model(self, X):
        self._check_hyper()
        self.rbm_ = EnergyRBM(X.shape[1], self.n_components, self.visible, self.hidden,
                              seed=seed_from(self.random_state), dtype=float_dtype(X))
        return self.rbm_

    def fit(self, X, y=None):
        """``n_iter`` epochs of CD-k / PCD-k on the rows of ``X``."""
        X = validate_input(self, X)
        self._check_hyper()
        model = self._new_model(X)
        model.fit(X, epochs=self.n_iter, batch_size=min(self.batch_size, len(X)), k=self.k,
                  persistent=self.persistent, lr=self.learning_rate, momentum=self.momentum,
                  weight_decay=self.weight_decay, verbose=bool(self.verbose),
                  seed=seed_from(self.random_state))
        return self

    def partial_fit(self, X, y=None):
        """One CD-k / PCD-k update (plain SGD, ``learning_rate``) on the batch ``X``."""
        first = not hasattr(self, "rbm_")
        X = validate_input(self, X, reset=first)
        self._check_hyper()
        model = self._new_model(X) if first else self.rbm_
        lr = self.learning_rate or (0.1 if model.visible.name in ("bernoulli", "softmax") else 0.01)
        model.partial_fit(np.asarray(X, dtype=model.dtype), k=self.k, persistent=self.persistent,
                          lr=lr, weight_decay=self.weight_decay)
        return self

    def _fitted_input(self, X):
        check_is_fitted(self, "rbm_")
        X = validate_input(self, X, reset=False)
        return np.asarray(X, dtype=self.rbm_.dtype)

    def transform(self, X):
        """Hidden means ``E[h | x]``, shape ``(N, n_components)``."""
        X = self._fitted_input(X)  # checks fitted before self.rbm_ is read
        return self.rbm_.transform(X)

    @available_if(lambda self: self.visible == "bernoulli")
    def score_samples(self, X):
        """Stochastic pseudo-likelihood of each row (as ``BernoulliRBM.score_samples``)."""
        X = self._fitted_input(X)
        return pseudo_likelihood(self.rbm_, X, seed=self.random_state)

    @property
    def components_(self):
        return self.rbm_.W.data.T

    @property
    def intercept_hidden_(self):
        return self.rbm_.b.data

    @property
    def intercept_visible_(self):
        return self.rbm_.a.data

    @property
    def _n_features_out(self):
        return self.n_components

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = self.visible in _NON_NEGATIVE
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.non_deterministic = self.random_state is None
        return tags
