"""``DBNClassifier``: a deep belief net, pretrained greedily, fine-tuned by backprop (scikit-learn API).

``fit`` first trains :class:`neuronet.energy.DBN` layer by layer without the
labels (RBM ``l`` by CD-1 on the up-pass ``x^{l−1}``, ``pretrain_epochs`` each),
then unrolls it into ``Dense + Sigmoid`` layers topped by a softmax layer over
the classes (``DBN.to_network``) and fine-tunes the whole net on the softmax
cross-entropy with :class:`~neuronet.sklearn.MLPClassifier`'s training
arguments (Hinton & Salakhutdinov 2006, the discriminative fine-tuning).
"""
from __future__ import annotations

from sklearn.base import ClassifierMixin

from .. import validation as V
from ..energy.dbn import DBN
from .base import NetworkEstimator, layer_sizes
from .mlp import ClassifierOutputs

__all__ = ["DBNClassifier"]


class DBNClassifier(ClassifierOutputs, ClassifierMixin, NetworkEstimator):
    """Deep belief net classifier.

    ``hidden_layer_sizes`` (the DBN's hidden layers), ``visible`` (``'bernoulli'``:
    ``X`` in [0, 1]; ``'gaussian'``: standardised ``X``), ``pretrain_epochs``,
    ``pretrain_batch_size``, ``pretrain_learning_rate`` (``None``: the DBN's
    defaults, 0.1 for Bernoulli data); the rest as :class:`MLPClassifier` (the
    fine-tuning). Fitted: ``model_`` (the fine-tuned ``Sequential``), ``dbn_``
    (the pretrained DBN), ``classes_``, ``loss_curve_``.
    """

    def __init__(self, hidden_layer_sizes=(500, 500), visible="bernoulli", pretrain_epochs: int = 10,
                 pretrain_batch_size: int = 100, pretrain_learning_rate=None, solver="adam", alpha=0.0,
                 batch_size="auto", learning_rate_init=1e-3, max_iter=20, shuffle=True, random_state=None,
                 tol=1e-4, verbose=False, warm_start=False, momentum=0.9, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=5):
        self._keep_arguments(locals())

    def _check_hyper(self):
        super()._check_hyper()
        layer_sizes(self.hidden_layer_sizes, "DBNClassifier hidden_layer_sizes")
        V.check_choice(self.visible, "DBNClassifier visible", ("bernoulli", "gaussian"))
        V.check_int(self.pretrain_epochs, "DBNClassifier pretrain_epochs", minimum=0)
        V.check_int(self.pretrain_batch_size, "DBNClassifier pretrain_batch_size", minimum=1)
        if self.pretrain_learning_rate is not None:
            V.check_positive(self.pretrain_learning_rate, "DBNClassifier pretrain_learning_rate")

    def _build_model(self, X, n_outputs, seed, dtype):
        sizes = [X.shape[1], *layer_sizes(self.hidden_layer_sizes, "hidden_layer_sizes")]
        self.dbn_ = DBN(sizes, visible=self.visible, seed=seed, dtype=dtype)
        if self.pretrain_epochs:
            layer = {} if self.pretrain_learning_rate is None else {"lr": self.pretrain_learning_rate}
            self.dbn_.pretrain(X, epochs=self.pretrain_epochs, batch_size=min(self.pretrain_batch_size, len(X)),
                               layers=[layer] * (len(sizes) - 1), seed=seed, verbose=bool(self.verbose))
        return self.dbn_.to_network(n_out=n_outputs, seed=seed)
