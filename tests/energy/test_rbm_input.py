"""Bad input to RBMs: clear errors that say what was expected and what came."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import neuronet as nt
from neuronet.energy import RBM, make_units
from neuronet.energy import monitors as M


def test_bernoulli_data_outside_unit_interval():
    r = RBM(4, 3, seed=0)
    with pytest.raises(ValueError, match=r"\[0, 1\].*got values in \[0, 255\]"):
        r.fit(np.array([[0, 255, 3, 1.0]]), epochs=1, verbose=False)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        r.transform(-np.ones((2, 4)))


def test_poisson_negative_counts():
    r = RBM(4, 3, visible="poisson", seed=0)
    with pytest.raises(ValueError, match="non-negative counts.*-2"):
        r.fit(np.array([[0, 1, -2, 3.0]]), epochs=1, verbose=False)


def test_gaussian_unstandardised_data_warns():
    r = RBM(4, 3, visible="gaussian", seed=0)
    X = np.random.default_rng(0).normal(100, 30, (50, 4))
    with pytest.warns(UserWarning, match="standardised"):
        r.fit(X, epochs=1, lr=1e-6, verbose=False)
    Z = (X - X.mean(0)) / X.std(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r.fit(Z, epochs=1, verbose=False)


def test_wrong_feature_count():
    r = RBM(4, 3, seed=0)
    with pytest.raises(ValueError, match="4 visible units.*got shape \\(2, 5\\)"):
        r.transform(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="3 hidden units"):
        r.mean_visible(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="2-D"):
        r.fit(np.zeros((2, 2, 4)), epochs=1, verbose=False)


def test_k_less_than_one_and_other_arguments():
    r = RBM(4, 3, seed=0)
    X = np.zeros((10, 4))
    with pytest.raises(ValueError, match="k must be >= 1, got 0"):
        r.fit(X, k=0, verbose=False)
    with pytest.raises(ValueError, match="k must be >= 1"):
        r.gibbs(X, k=0)
    with pytest.raises(TypeError, match="k must be an int"):
        r.fit(X, k=1.5, verbose=False)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        r.fit(X, batch_size=0, verbose=False)
    with pytest.raises(ValueError, match="lr must be > 0"):
        r.fit(X, lr=-1, verbose=False)
    with pytest.raises(ValueError, match="NaN"):
        r.fit(np.full((3, 4), np.nan), verbose=False)
    with pytest.raises(TypeError, match="numeric"):
        r.transform(np.array([["a", "b", "c", "d"]]))


def test_unknown_units_and_softmax_groups():
    with pytest.raises(ValueError, match="unknown unit type 'binomial'"):
        RBM(4, 3, visible="binomial")
    with pytest.raises(ValueError, match="multiple of 3"):
        RBM(4, 3, visible="softmax:3")
    with pytest.raises(ValueError, match="sum to 1"):
        make_units("softmax:2").check(np.array([[1.0, 1.0]]))


def test_exact_values_refuse_large_or_continuous_models():
    with pytest.raises(ValueError, match="max_states"):
        M.log_partition(RBM(40, 30, seed=0))
    gg = RBM(3, 2, "gaussian", "gaussian", seed=0)
    gg.W.data[...] = 2.0
    with pytest.raises(ValueError, match="singular value"):
        M.log_partition(gg)
    with pytest.raises(ValueError, match="Bernoulli visibles"):
        M.pseudo_likelihood(RBM(3, 2, "gaussian", seed=0), np.zeros((2, 3)))


def test_diverging_training_stops_with_clear_error():
    X = np.random.default_rng(0).normal(size=(200, 4)) * 5
    r = RBM(4, 50, visible="gaussian", hidden="gaussian", seed=0, init_std=0.5)
    with pytest.raises(FloatingPointError, match="(?i)lower the learning rate") as err:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r.fit(X, epochs=20, lr=0.5, momentum=0.9, verbose=False)
    assert isinstance(err.value, nt.TrainingDiverged) and err.value.epoch >= 1
