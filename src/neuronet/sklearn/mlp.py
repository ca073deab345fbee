"""``MLPClassifier`` and ``MLPRegressor``: :class:`neuronet.models.MLP` as scikit-learn estimators.

The network is ``Dense → activation → [Dropout] → … → Dense`` with the sizes
``[n_features, *hidden_layer_sizes, n_outputs]``. The classifier minimises the
softmax cross-entropy ``−(1/N) Σ_n ln p(y_n | x_n)`` with
``p(c | x) = e^{a_c} / Σ_k e^{a_k}`` over the network's outputs ``a``; the
regressor the squared error ``(1/N) Σ_n ½‖a(x_n) − y_n‖²``. Both add
``alpha·‖w‖²/2`` through the optimiser's ``weight_decay``.
"""
from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets

from .. import validation as V
from ..layers.competitive import Softmax
from ..losses import MSE, SoftmaxCrossEntropy
from ..models.mlp import ACTIVATIONS, MLP
from .base import NetworkEstimator, layer_sizes

__all__ = ["MLPClassifier", "MLPRegressor", "ClassifierOutputs"]


class _MLPEstimator(NetworkEstimator):
    """The constructor and network shared by the two MLP estimators."""

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", solver="adam", alpha=1e-4,
                 batch_size="auto", learning_rate_init=1e-3, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 early_stopping=False, validation_fraction=0.1, n_iter_no_change=10, dropout=0.0):
        self._keep_arguments(locals())

    def _check_hyper(self):
        super()._check_hyper()
        name = type(self).__name__
        layer_sizes(self.hidden_layer_sizes, f"{name} hidden_layer_sizes")
        V.check_choice(self.activation, f"{name} activation", ACTIVATIONS)
        V.check_probability(self.dropout, f"{name} dropout")

    def _build_model(self, X, n_outputs, seed, dtype):
        sizes = [X.shape[1], *layer_sizes(self.hidden_layer_sizes, "hidden_layer_sizes"), n_outputs]
        return MLP(sizes, activation=self.activation, dropout=self.dropout, seed=seed, dtype=dtype)


class ClassifierOutputs:
    """Class labels and probabilities from a network whose outputs are class logits.

    ``predict_proba``: ``p(c | x) = softmax(a(x))_c``; ``predict``: the class of
    the largest output. ``partial_fit`` needs every class (``classes=``) on its
    first call, as scikit-learn's incremental classifiers do.
    """

    _classifier, _multi_output = True, False

    def _make_loss(self):
        return SoftmaxCrossEntropy()

    def _targets(self, y, first, classes=None):
        check_classification_targets(y)
        if first:
            self.classes_ = np.unique(y if classes is None else np.asarray(classes))
            if len(self.classes_) < 2:
                raise ValueError(f"{type(self).__name__} needs at least 2 classes in y, got 1 class "
                                 f"({self.classes_[0]!r})")
        index = np.searchsorted(self.classes_, y).clip(0, len(self.classes_) - 1)
        unknown = self.classes_[index] != y
        if unknown.any():
            raise ValueError(f"y has labels {np.unique(y[unknown])[:5].tolist()} that are not among the "
                             f"classes_ {self.classes_.tolist()} of the first fit")
        return index.astype(np.int64), len(self.classes_)

    def partial_fit(self, X, y, classes=None):
        """One epoch over ``(X, y)``; the first call needs ``classes`` (all labels)."""
        if not hasattr(self, "model_") and classes is None:
            raise ValueError(f"{type(self).__name__}.partial_fit needs classes= (every label) on its "
                             "first call")
        return self._partial_fit(X, y, classes=classes)

    def predict_proba(self, X):
        return Softmax().forward(self._outputs(X))

    def predict_log_proba(self, X):
        return np.log(self.predict_proba(X))

    def predict(self, X):
        index = np.argmax(self._outputs(X), axis=1)
        return self.classes_[index]


class MLPClassifier(ClassifierOutputs, ClassifierMixin, _MLPEstimator):
    """A multi-layer perceptron classifier trained by backprop (scikit-learn API).

    Arguments as ``sklearn.neural_network.MLPClassifier``'s (``hidden_layer_sizes``,
    ``activation`` in ``'relu'``, ``'tanh'``, ``'sigmoid'``, ``solver`` any
    :data:`~neuronet.sklearn.base.SOLVERS` name, ``alpha``, ``batch_size``,
    ``learning_rate_init``, ``max_iter`` epochs, ``tol``, ``n_iter_no_change``,
    ``early_stopping``, ``validation_fraction``, ``momentum``, ``warm_start``,
    ``random_state``, ``verbose`` for a progress bar) plus ``dropout`` on the
    hidden layers. Fitted: ``model_`` (an ``nt.models.MLP``), ``classes_``,
    ``loss_curve_``, ``history_``, ``n_iter_``.
    """


class MLPRegressor(RegressorMixin, _MLPEstimator):
    """A multi-layer perceptron regressor (scikit-learn API), one output per target column.

    Arguments as :class:`MLPClassifier`'s; ``y`` may be ``(N,)`` or ``(N, k)``.
    """

    _classifier, _multi_output = False, True

    def _make_loss(self):
        return MSE()

    def _targets(self, y, first):
        T = np.asarray(y, dtype=np.float64)
        if first:
            self._y_shape_ = T.shape[1:]
        elif T.shape[1:] != self._y_shape_:
            raise ValueError(f"y must have {self._y_shape_ or 'one'} target column(s) as in the first "
                             f"fit, got shape {T.shape}")
        T = T.reshape(len(T), -1)
        return T, T.shape[1]

    def partial_fit(self, X, y):
        """One epoch over ``(X, y)``."""
        return self._partial_fit(X, y)

    def predict(self, X):
        out = self._outputs(X)
        return out.reshape((len(out),) + self._y_shape_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
