"""The scikit-learn estimators: every check of ``check_estimator``, plus their own behaviour."""
from __future__ import annotations

import os
import pickle
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
# check_estimator's array-API check (dispatch switched on, NumPy inputs, results unchanged)
# runs only with this set; it is read when the check runs
os.environ.setdefault("SCIPY_ARRAY_API", "1")
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler, minmax_scale  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from neuronet.energy import DBN  # noqa: E402
from neuronet.sklearn import (RBM, DBNClassifier, DeepAutoencoder, DSNClassifier, LeNet5Classifier,  # noqa: E402
                              MLPClassifier, MLPRegressor)
from neuronet.sklearn.base import seed_from  # noqa: E402

_STOCHASTIC_SCORE = ("score_samples flips one randomly drawn unit per row (BernoulliRBM's "
                     "stochastic pseudo-likelihood), so its values depend on the rows around it; "
                     "scikit-learn lists the same check as failing for its own BernoulliRBM")
_UNIT_RANGE = ("Bernoulli visible (data) units refuse data outside [0, 1] (a ValueError naming X), "
               "and this check feeds unscaled data (blobs or k·uniform, only shifted to >= 0 by the "
               "positive_only tag); behind x -> sigmoid(x) the same estimator passes it "
               "(test_unit_range_checks_pass_on_unit_data)")

# small, fast settings; the checks' data sets are a few hundred rows
ESTIMATORS = [
    MLPClassifier(hidden_layer_sizes=(16,), max_iter=40, learning_rate_init=0.01, random_state=0),
    MLPRegressor(hidden_layer_sizes=(16,), max_iter=60, learning_rate_init=0.05, random_state=0),
    RBM(n_components=8, visible="gaussian", n_iter=3, random_state=0),
    RBM(n_components=8, n_iter=3, random_state=0),
    DSNClassifier(hidden=16, n_modules=2, finetune_iters=3, random_state=0),
    DBNClassifier(hidden_layer_sizes=(16,), visible="gaussian", pretrain_epochs=1, max_iter=40,
                  learning_rate_init=0.01, random_state=0),
    DeepAutoencoder(hidden_layer_sizes=(8, 4), pretrain_epochs=1, max_iter=2, random_state=0),
]


#: the checks that fit on data outside [0, 1] (blobs, standardised features, shifted to >= 0
#: by the positive_only tag but not scaled): the Gaussian-visible RBM above passes each of them
_FIT_ON_UNSCALED_DATA = (
    "check_estimators_overwrite_params", "check_dont_overwrite_parameters",
    "check_estimators_fit_returns_self", "check_readonly_memmap_input",
    "check_n_features_in_after_fitting",
    "check_estimators_dtypes", "check_pipeline_consistency", "check_estimators_pickle",
    "check_array_api_input", "check_f_contiguous_array_estimator",
    "check_transformer_data_not_an_array", "check_transformer_general",
    "check_transformer_preserve_dtypes", "check_fit2d_1sample", "check_fit2d_1feature",
    "check_dict_unchanged", "check_fit_idempotent", "check_fit_check_is_fitted",
    "check_n_features_in", "check_fit2d_predict1d")


def _expected_failed(estimator):
    """Checks that cannot apply, with the reason (scikit-learn's expected_failed_checks)."""
    if isinstance(estimator, DeepAutoencoder):
        return dict.fromkeys(_FIT_ON_UNSCALED_DATA + ("check_transformer_n_iter", "check_methods_subset_invariance",
                                                      "check_methods_sample_order_invariance"), _UNIT_RANGE)
    if isinstance(estimator, RBM) and estimator.visible == "bernoulli":
        failed = dict.fromkeys(_FIT_ON_UNSCALED_DATA, _UNIT_RANGE)
        failed.update({"check_methods_subset_invariance": _STOCHASTIC_SCORE,
                       "check_methods_sample_order_invariance": _STOCHASTIC_SCORE})
        return failed
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed)
def test_check_estimator(estimator, check):
    check(estimator)


def _sigmoid(X):
    X = np.asarray(X)
    X = X if X.dtype.kind == "f" else X.astype(np.float64)
    return 1 / (1 + np.exp(-X))


class _UnitRBM(RBM):
    """The Bernoulli RBM behind the fixed map x -> sigmoid(x) of the reals onto (0, 1)."""

    def fit(self, X, y=None):
        return super().fit(_sigmoid(X), y)

    def partial_fit(self, X, y=None):
        return super().partial_fit(_sigmoid(X), y)

    def transform(self, X):
        return super().transform(_sigmoid(X))

    def score_samples(self, X):
        return super().score_samples(_sigmoid(X))


class _UnitAutoencoder(DeepAutoencoder):
    """The deep autoencoder behind x -> sigmoid(x)."""

    def fit(self, X, y=None):
        return super().fit(_sigmoid(X), y)

    def transform(self, X):
        return super().transform(_sigmoid(X))


def _unit_range_checks():
    from sklearn.utils.estimator_checks import estimator_checks_generator

    for original, twin in ((ESTIMATORS[3], _UnitRBM), (ESTIMATORS[6], _UnitAutoencoder)):
        failing = {name for name, why in _expected_failed(original).items() if why == _UNIT_RANGE}
        for estimator, check in estimator_checks_generator(twin(**original.get_params()), legacy=True):
            name = getattr(check, "func", check).__name__
            if name in failing:
                yield pytest.param(estimator, check, id=f"{type(original).__name__}-{name}")


@pytest.mark.parametrize("estimator, check", list(_unit_range_checks()))
def test_unit_range_checks_pass_on_unit_data(estimator, check):
    """Every check expected to fail for the data range alone passes on data mapped into (0, 1):
    the expected failures hide no other fault."""
    check(estimator)


# LeNet-5 trains ~60k weights over 32×32 fields: its 55 checks took 11 s on one idle core
# (2026-12-03; minutes on the machine loaded 10-20 deep, when they were marked slow)
@parametrize_with_checks([LeNet5Classifier(max_iter=3, learning_rate_init=0.01, random_state=0)])
def test_check_estimator_lenet5(estimator, check):
    check(estimator)


# ------------------------------------------------------------------ behaviour
@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.25, random_state=0)


def test_mlp_classifier_learns_digits_in_a_pipeline(digits):
    Xtr, Xte, ytr, yte = digits
    pipe = Pipeline([("scale", StandardScaler()),
                     ("mlp", MLPClassifier(hidden_layer_sizes=(64,), batch_size=32, max_iter=20,
                                           random_state=0))])
    pipe.fit(Xtr, ytr)
    assert pipe.score(Xte, yte) > 0.95
    mlp = pipe.named_steps["mlp"]
    proba = mlp.predict_proba(pipe.named_steps["scale"].transform(Xte))
    assert proba.shape == (len(Xte), 10) and np.allclose(proba.sum(axis=1), 1)
    assert mlp.n_iter_ == len(mlp.loss_curve_) <= 20 and mlp.loss_curve_[-1] < mlp.loss_curve_[0] / 5
    assert list(mlp.classes_) == list(range(10)) and mlp.n_features_in_ == 64


def test_grid_search_and_cross_validation(digits):
    Xtr, _, ytr, _ = digits
    grid = GridSearchCV(MLPClassifier(max_iter=5, random_state=0),
                        {"hidden_layer_sizes": [(4,), (64,)], "learning_rate_init": [1e-4, 1e-2]}, cv=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        grid.fit(Xtr, ytr)
        scores = cross_val_score(MLPClassifier(max_iter=5, learning_rate_init=0.01, random_state=0),
                                 Xtr, ytr, cv=3)
    assert grid.best_params_ == {"hidden_layer_sizes": (64,), "learning_rate_init": 1e-2}
    assert scores.shape == (3,) and scores.min() > 0.85


def test_partial_fit_needs_classes_then_learns(digits):
    Xtr, Xte, ytr, yte = digits
    clf = MLPClassifier(hidden_layer_sizes=(32,), learning_rate_init=0.01, random_state=0)
    with pytest.raises(ValueError, match="classes="):
        clf.partial_fit(Xtr[:50], ytr[:50])
    clf.partial_fit(Xtr[:50], ytr[:50], classes=np.arange(10))
    first = clf.score(Xte, yte)
    for _ in range(5):
        for i in range(0, len(Xtr), 100):
            clf.partial_fit(Xtr[i:i + 100], ytr[i:i + 100])
    assert clf.score(Xte, yte) > max(first, 0.85)
    with pytest.raises(ValueError, match="not among the classes_"):
        clf.partial_fit(Xtr[:5], np.full(5, 11))


def test_warm_start_continues_and_cold_start_restarts(digits):
    Xtr, _, ytr, _ = digits
    kw = dict(hidden_layer_sizes=(16,), max_iter=3, tol=0.0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warm = MLPClassifier(warm_start=True, **kw).fit(Xtr, ytr)
        curve = list(warm.loss_curve_)
        warm.fit(Xtr, ytr)
        cold = MLPClassifier(**kw).fit(Xtr, ytr).fit(Xtr, ytr)
    assert warm.loss_curve_[:3] == curve and len(warm.loss_curve_) == 6
    assert warm.loss_curve_[3] < curve[-1]
    assert cold.loss_curve_ == curve  # refit from scratch: same seed, same run


def test_early_stopping_keeps_the_best_validation_epoch(digits):
    Xtr, _, ytr, _ = digits
    clf = MLPClassifier(hidden_layer_sizes=(64,), learning_rate_init=0.05, max_iter=200,
                        early_stopping=True, n_iter_no_change=3, random_state=0).fit(Xtr, ytr)
    assert clf.n_iter_ < 200 and len(clf.validation_scores_) == clf.n_iter_
    assert np.argmin(clf.validation_scores_) == clf.n_iter_ - 1 - 3


def test_pickle_and_clone(digits):
    Xtr, Xte, ytr, _ = digits
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(Xtr, ytr)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(Xte), clf.predict_proba(Xte))
    twin = clone(clf)
    assert twin.get_params() == clf.get_params() and not hasattr(twin, "model_")
    with pytest.raises(NotFittedError):
        twin.predict(Xte)


def test_float32_data_train_a_float32_network(digits):
    Xtr, Xte, ytr, _ = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(
            Xtr.astype(np.float32), ytr)
    assert clf.model_.parameters()[0].data.dtype == np.float32
    assert clf.predict_proba(Xte).dtype == np.float32


@pytest.mark.parametrize("make, message", [
    (lambda: MLPClassifier(max_iter=0), "MLPClassifier max_iter must be >= 1, got 0"),
    (lambda: MLPClassifier(activation="softsign"), "MLPClassifier activation must be one of"),
    (lambda: MLPRegressor(solver="lbfgs"), "MLPRegressor solver must be one of"),
    (lambda: MLPRegressor(hidden_layer_sizes=(8, 0)), r"MLPRegressor hidden_layer_sizes\[1\] must be >= 1"),
    (lambda: MLPClassifier(batch_size=0), r"MLPClassifier batch_size \('auto' or an int\) must be >= 1"),
    (lambda: MLPClassifier(dropout=1.5), r"MLPClassifier dropout must be in \[0, 1\)"),
    (lambda: MLPClassifier(early_stopping=True, validation_fraction=0.0), "validation_fraction must be > 0"),
    (lambda: RBM(n_components=0), "RBM n_components must be >= 1"),
])
def test_bad_hyper_parameters_are_named(make, message):
    X, y = np.random.default_rng(0).random((20, 3)), np.arange(20) % 2
    with pytest.raises(ValueError, match=message):
        make().fit(X, y)


def test_mlp_regressor_fits_two_targets():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(400, 1))
    Y = np.c_[np.sin(2 * X[:, 0]), X[:, 0] ** 2 / 4]
    reg = MLPRegressor(hidden_layer_sizes=(32, 32), activation="tanh", learning_rate_init=0.01,
                       max_iter=150, batch_size=32, random_state=0).fit(X, Y)
    assert reg.predict(X).shape == (400, 2)
    assert np.abs(reg.predict(X) - Y).max() < 0.15 and reg.score(X, Y) > 0.98
    one = MLPRegressor(hidden_layer_sizes=(8,), max_iter=2, tol=0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert one.fit(X, Y[:, 0]).predict(X).shape == (400,)


def test_rbm_features_beat_raw_pixels():
    """scikit-learn's RBM example: nudged digits, RBM(100) + logistic vs raw pixels."""
    from scipy.ndimage import convolve
    from sklearn import datasets, linear_model, metrics

    X, y = datasets.load_digits(return_X_y=True)
    shifts = [np.array(w).reshape(3, 3) for w in ([0, 1, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0, 0, 0, 0],
                                                 [0, 0, 0, 0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 1, 0])]
    imgs = X.reshape(-1, 8, 8)
    X = np.concatenate([X] + [np.stack([convolve(im, w, mode="constant") for im in imgs]).reshape(len(X), 64)
                              for w in shifts])
    y = np.tile(y, 5)
    X = minmax_scale(X.astype(np.float32), feature_range=(0, 1))
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=0)
    model = Pipeline([("rbm", RBM(n_components=100, learning_rate=0.06, n_iter=10, batch_size=10,
                                  random_state=0)),
                      ("logistic", linear_model.LogisticRegression(C=6000, max_iter=1000))])
    model.fit(Xtr, ytr)
    f1_rbm = metrics.f1_score(yte, model.predict(Xte), average="weighted")
    raw = linear_model.LogisticRegression(C=100, max_iter=1000).fit(Xtr, ytr)
    f1_raw = metrics.f1_score(yte, raw.predict(Xte), average="weighted")
    assert f1_rbm > 0.9 and f1_rbm > f1_raw + 0.1, (f1_rbm, f1_raw)
    rbm = model.named_steps["rbm"]
    assert rbm.components_.shape == (100, 64) and rbm.transform(Xte).dtype == np.float32
    assert list(rbm.get_feature_names_out()[:2]) == ["rbm0", "rbm1"]


@pytest.mark.parametrize("visible, hidden", [("bernoulli", "bernoulli"), ("gaussian", "bernoulli"),
                                             ("gaussian", "gaussian"), ("poisson", "bernoulli")])
def test_rbm_partial_fit_every_pairing(visible, hidden):
    rng = np.random.default_rng(0)
    X = {"bernoulli": (rng.random((60, 6)) < 0.3) * 1.0, "gaussian": rng.standard_normal((60, 6)),
         "poisson": rng.poisson(2.0, (60, 6)) * 1.0}[visible]
    rbm = RBM(n_components=4, visible=visible, hidden=hidden, learning_rate=0.01, random_state=0)
    rbm.partial_fit(X[:30])
    before = rbm.components_.copy()
    rbm.partial_fit(X[30:])
    assert rbm.transform(X).shape == (60, 4) and not np.allclose(rbm.components_, before)
    assert hasattr(rbm, "score_samples") == (visible == "bernoulli")


def test_lenet5_classifier_on_digit_images(digits, tmp_path):
    """sklearn's 8×8 digits as images (N, 8, 8), centred in LeNet's 32×32 field."""
    Xtr, Xte, ytr, yte = digits
    clf = LeNet5Classifier(max_iter=4, learning_rate_init=3e-3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(Xtr.reshape(-1, 8, 8), ytr)
    assert clf.image_shape_ == (8, 8) and clf.n_features_in_ == 64
    assert clf.score(Xte.reshape(-1, 1, 8, 8), yte) > 0.85  # 4 epochs
    assert clf.score(Xte, yte) == clf.score(Xte.reshape(-1, 8, 8), yte)  # flat rows: the same images
    field = clf._network_input(Xte[:1])
    assert field.shape == (1, 1, 32, 32) and np.array_equal(field[0, 0, 12:20, 12:20], Xte[0].reshape(8, 8))
    assert field.sum() == Xte[0].sum()
    # loaded read-only (joblib's memory map), its convolutions get fresh work arrays
    import joblib

    joblib.dump(clf, tmp_path / "lenet.joblib")
    mapped = joblib.load(tmp_path / "lenet.joblib", mmap_mode="r")
    np.testing.assert_array_equal(mapped.predict(Xte), clf.predict(Xte))  # the cached shapes
    with pytest.raises(ValueError, match="32×32 field"):
        clf.fit(np.zeros((4, 40, 40)), [0, 1, 0, 1])


def test_dsn_classifier_on_digits(digits):
    Xtr, Xte, ytr, yte = digits
    labels = np.array(list("abcdefghij"))  # any labels: classes_ maps them
    clf = DSNClassifier(hidden=100, n_modules=3, finetune_iters=5, random_state=0).fit(Xtr, labels[ytr])
    small = DSNClassifier(hidden=100, n_modules=3, finetune_iters=5, finetune_lr=1.0, random_state=0)
    small.fit(Xtr, labels[ytr])
    # the default first step (100) lowers every module's objective far more than a step of 1
    for rec, rec_small in zip(clf.history_, small.history_):
        assert rec["objective"] < 0.8 * rec_small["objective"]
    assert clf.score(Xte, labels[yte]) > max(0.96, small.score(Xte, labels[yte]))
    assert list(clf.classes_) == list(labels)
    assert len(clf.history_) == 3 and clf.predict_proba(Xte).shape == (len(Xte), 10)
    assert clf.model_.n_modules == 3 and clf.n_features_in_ == 64
    with pytest.raises(ValueError, match="DSNClassifier n_modules must be >= 1"):
        DSNClassifier(n_modules=0).fit(Xtr, ytr)


def test_dbn_classifier_pretrains_then_fine_tunes(digits):
    Xtr, Xte, ytr, yte = digits
    clf = DBNClassifier(hidden_layer_sizes=(100,), pretrain_epochs=5, max_iter=10, batch_size=32,
                        random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(Xtr, ytr)
    assert clf.score(Xte, yte) > 0.85 and len(clf.loss_curve_) == 10
    # the net fine-tuning starts from is the pretrained DBN's up-pass (a vanishing step keeps it)
    frozen = DBNClassifier(hidden_layer_sizes=(20,), pretrain_epochs=2, max_iter=1, solver="sgd",
                           learning_rate_init=1e-12, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        frozen.fit(Xtr, ytr)
    rbm = frozen.dbn_.rbms[0]
    untrained = DBN([64, 20], seed=seed_from(0), dtype=np.float64).rbms[0]
    assert np.abs(rbm.W.data - untrained.W.data).max() > 0.01  # pretraining moved the weights
    np.testing.assert_allclose(frozen.model_.parameters()[0].data, rbm.W.data, atol=1e-9)
    np.testing.assert_allclose(frozen.model_.parameters()[1].data, rbm.b.data, atol=1e-9)


def test_deep_autoencoder_codes_and_reconstructions(digits):
    Xtr, Xte, _, _ = digits
    ae = DeepAutoencoder(hidden_layer_sizes=(64, 16), pretrain_epochs=5, max_iter=10, random_state=0).fit(Xtr)
    Z = ae.transform(Xte)
    assert Z.shape == (len(Xte), 16) and ae.get_feature_names_out()[0] == "deepautoencoder0"
    error = np.mean((ae.inverse_transform(Z) - Xte) ** 2)
    assert error < 0.9 * np.mean((Xtr.mean(axis=0) - Xte) ** 2)  # better than the mean image
    assert len(ae.history_["loss"]) == 10 and ae.history_["loss"][-1] < ae.history_["loss"][0]
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        DeepAutoencoder(hidden_layer_sizes=(4,), pretrain_epochs=1, max_iter=1).fit(Xtr * 16)
