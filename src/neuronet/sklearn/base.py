"""What every neuronet estimator shares: seeds, input checks, and fitting a network.

scikit-learn's conventions (``BaseEstimator``): hyper-parameters are the
constructor's arguments, stored unchanged and checked in ``fit`` with messages
that name the argument; what ``fit`` learns ends in ``_`` (``model_``,
``optimizer_``, ``n_features_in_``, ``loss_curve_``, ``history_``, ``n_iter_``).

:class:`NetworkEstimator` trains any backprop network on the library's one
training path (``nt.fit``): ``max_iter`` epochs of mini-batch steps of an
``nt.optim`` rule (``solver``) with the L2 penalty ``alpha·‖w‖²/2``, stopping
when the monitored loss has not improved by ``tol`` for ``n_iter_no_change``
epochs (the training loss, or with ``early_stopping`` the loss on a held-out
``validation_fraction`` of the data, whose best weights are then kept).
``warm_start`` continues from the fitted network; ``partial_fit`` runs one epoch
over the batch it is given. Data keep float32 when they come as float32 and are
float64 otherwise, as scikit-learn's own networks do.
"""
from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils import get_tags
from sklearn.utils.validation import check_is_fitted, check_non_negative, validate_data

from .. import optim
from .. import validation as V
from ..train.callbacks import EarlyStopping
from ..train.supervised import fit, predict

__all__ = ["NetworkEstimator", "seed_from", "float_dtype", "layer_sizes", "validate_input", "SOLVERS"]

#: ``solver`` names and the ``nt.optim`` rule each one builds
SOLVERS = {"sgd": optim.SGD, "momentum": optim.Momentum, "nesterov": optim.Nesterov,
           "rmsprop": optim.RMSProp, "adadelta": optim.AdaDelta, "adam": optim.Adam,
           "nadam": optim.Nadam}
_MOMENTUM_SOLVERS = ("momentum", "nesterov")


def seed_from(random_state) -> int:
    """An int seed drawn from a scikit-learn ``random_state`` (None, int or RandomState)."""
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def layer_sizes(value, name: str) -> list:
    """Hidden layer sizes as a list of ints >= 1; one int is one layer (scikit-learn's habit)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = [value]
    return V.check_sizes(value, name, min_len=0)


def validate_input(estimator, X, reset: bool = True):
    """``X`` through scikit-learn's ``validate_data`` (float32 kept, else float64); an
    estimator tagged ``positive_only`` refuses negative values with scikit-learn's own
    message (``Negative values in data passed to ...``), before the model's own range check."""
    X = validate_data(estimator, X, dtype=(np.float64, np.float32), reset=reset)
    if get_tags(estimator).input_tags.positive_only:
        check_non_negative(X, type(estimator).__name__)
    return X


def float_dtype(X):
    """float32 data stay float32; everything else is trained in float64."""
    return np.float32 if X.dtype == np.float32 else np.float64


class NetworkEstimator(BaseEstimator):
    """Base of the estimators whose model is a backprop network.

    A subclass supplies ``_build_model(X, n_outputs, seed, dtype)`` (``X`` the checked
    training rows, which a pretrained model learns from first),
    ``_make_loss()``, ``_targets(y, first)`` (the encoded targets and the number
    of network outputs) and the scikit-learn mixin (classifier or regressor).
    """

    def _keep_arguments(self, arguments: dict) -> None:
        """Store the constructor's arguments unchanged (``__init__`` passes ``locals()``)."""
        for name in self._get_param_names():
            setattr(self, name, arguments[name])

    def _check_hyper(self) -> None:
        """Every shared hyper-parameter, named as the constructor names it."""
        name = type(self).__name__
        V.check_choice(self.solver, f"{name} solver", SOLVERS)
        V.check_int(self.max_iter, f"{name} max_iter", minimum=1)
        if isinstance(self.batch_size, str) and self.batch_size != "auto":
            raise ValueError(f"{name} batch_size must be 'auto' or an int >= 1, got {self.batch_size!r}")
        if self.batch_size != "auto":
            V.check_int(self.batch_size, f"{name} batch_size ('auto' or an int)", minimum=1)
        V.check_positive(self.learning_rate_init, f"{name} learning_rate_init")
        V.check_positive(self.alpha, f"{name} alpha", allow_zero=True)
        V.check_positive(self.tol, f"{name} tol", allow_zero=True)
        V.check_int(self.n_iter_no_change, f"{name} n_iter_no_change", minimum=1)
        V.check_probability(self.momentum, f"{name} momentum")
        if self.early_stopping:
            V.check_probability(self.validation_fraction, f"{name} validation_fraction")
            if self.validation_fraction == 0:
                raise ValueError(f"{name} validation_fraction must be > 0 with early_stopping=True, got 0")

    # ------------------------------------------------------------ inputs
    def _check_X(self, X, reset: bool):
        """``X`` checked by scikit-learn (2-D, finite, dense, feature count and names)."""
        return validate_data(self, X, reset=reset, dtype=(np.float64, np.float32))

    def _check_Xy(self, X, y, reset: bool):
        return validate_data(self, X, y, reset=reset, dtype=(np.float64, np.float32),
                             multi_output=self._multi_output, y_numeric=not self._classifier)

    def _network_input(self, X):
        """Rows of ``X`` as the network's input (a subclass may reshape them)."""
        return X

    # ------------------------------------------------------------ fitting
    def fit(self, X, y):
        """Train a fresh network (or, with ``warm_start``, the fitted one) for ``max_iter`` epochs."""
        self._check_hyper()
        keep = self.warm_start and hasattr(self, "model_")
        X, y = self._check_Xy(X, y, reset=not keep)
        return self._train(X, y, epochs=self.max_iter, first=not keep, incremental=False)

    def _partial_fit(self, X, y, **target_args):
        self._check_hyper()
        first = not hasattr(self, "model_")
        X, y = self._check_Xy(X, y, reset=first)
        return self._train(X, y, epochs=1, first=first, incremental=True, **target_args)

    def _train(self, X, y, epochs: int, first: bool, incremental: bool, **target_args):
        T, n_outputs = self._targets(y, first, **target_args)
        if first:
            self._rng_ = check_random_state(self.random_state)
            seed = seed_from(self._rng_)
            self.model_ = self._build_model(X, n_outputs, seed, float_dtype(X))
            self.optimizer_ = self._make_optimizer(self.model_.parameters())
            self.loss_curve_, self.validation_scores_, self.history_ = [], [], {}
        dtype = self.model_.parameters()[0].data.dtype
        X = np.asarray(X, dtype=dtype)
        if T.dtype.kind == "f":
            T = T.astype(dtype)
        self.optimizer_.lr = float(self.learning_rate_init)
        stopper = None
        if not incremental:
            stopper = EarlyStopping("val_loss" if self.early_stopping else "loss",
                                    patience=self.n_iter_no_change, min_delta=self.tol,
                                    mode="min", restore_best=bool(self.early_stopping))
        split = self.validation_fraction if self.early_stopping and not incremental else 0.0
        n = len(X)
        if split and not 1 <= round(n * split) < n:
            raise ValueError(f"{type(self).__name__} validation_fraction={split} of {n} samples leaves "
                             "no training or no validation samples for early_stopping")
        batch = min(200, n) if self.batch_size == "auto" else min(self.batch_size, n)
        history = fit(self.model_, self._make_loss(), self.optimizer_, self._network_input(X), T,
                      epochs=epochs, batch_size=batch, shuffle=self.shuffle, seed=seed_from(self._rng_),
                      validation_split=split, split_seed=seed_from(self._rng_), metrics=[],
                      callbacks=[stopper] if stopper else None, progress=bool(self.verbose))
        self._record(history.to_dict())
        if stopper is not None and stopper.stopped_epoch is None:
            warnings.warn(f"{type(self).__name__}: {epochs} epochs (max_iter) ended before the "
                          f"loss stopped improving by tol={self.tol}", ConvergenceWarning)
        return self

    def _make_optimizer(self, params):
        rule = SOLVERS[self.solver]
        kwargs = {"momentum": self.momentum} if self.solver in _MOMENTUM_SOLVERS else {}
        return rule(params, lr=self.learning_rate_init, weight_decay=self.alpha, **kwargs)

    def _record(self, history: dict) -> None:
        for key, values in history.items():
            self.history_.setdefault(key, []).extend(values)
        self.loss_curve_ = list(self.history_.get("loss", []))
        self.validation_scores_ = list(self.history_.get("val_loss", []))
        self.n_iter_ = len(self.loss_curve_)

    # ------------------------------------------------------------ outputs
    def _outputs(self, X):
        """The network's outputs for the rows of ``X`` (evaluation mode, in chunks)."""
        check_is_fitted(self, "model_")
        X = self._check_X(X, reset=False)
        return predict(self.model_, self._network_input(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags
