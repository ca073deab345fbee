"""Toy data, the Standardizer and the lecture's logic neurons (A1)."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import neuronet as nt
from neuronet import data as D
from neuronet.models import (logic_neuron, perceptron_train, train_xor_backprop,
                             xor_feature_neuron, xor_product_feature, xor_two_layer_threshold_net)


def test_logic_tables():
    X, y = D.logic_table("xor")
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]] and y.tolist() == [0, 1, 1, 0]
    assert D.logic_table("AND")[1].tolist() == [0, 0, 0, 1]
    assert D.logic_table("or")[1].tolist() == [0, 1, 1, 1]
    assert D.logic_table("not")[1].tolist() == [1, 0]
    with pytest.raises(ValueError, match="logic function must be one of"):
        D.logic_table("nand")


@pytest.mark.parametrize("name", ["and", "or", "not"])
def test_single_threshold_neurons_with_lecture_weights(name):
    X, y = D.logic_table(name)
    net = logic_neuron(name)
    np.testing.assert_array_equal(net(X).ravel(), y)
    dense = net[0]
    w, w0 = nt.models.LOGIC_NEURONS[name]
    np.testing.assert_array_equal(dense.W.data.ravel(), w)
    assert dense.b.data[0] == -w0


def test_xor_is_not_one_neuron():
    X, y = D.logic_table("xor")
    # Rosenblatt's perceptron never reaches zero errors on XOR ...
    _, _, errors = perceptron_train(X, y, epochs=200, seed=0)
    assert min(errors) >= 1
    # ... and it does on AND (linearly separable), so the rule itself works
    _, _, errors_and = perceptron_train(*D.logic_table("and"), epochs=50, seed=0)
    assert errors_and[-1] == 0
    # no neuron on a grid of weights gets XOR right (a line cannot separate it)
    grid = np.linspace(-3, 3, 25)
    for w1, w2, w0 in itertools.product(grid, grid, grid):
        assert np.any(((X @ [w1, w2] - w0) > 0).astype(int) != y)


def test_xor_solved_by_feature_and_by_two_layers():
    X, y = D.logic_table("xor")
    np.testing.assert_array_equal(xor_feature_neuron()(xor_product_feature(X)).ravel(), y)
    np.testing.assert_array_equal(xor_two_layer_threshold_net()(X).ravel(), y)


def test_xor_two_layer_backprop():
    net, hist = train_xor_backprop(seed=0)
    X, y = D.logic_table("xor")
    out = nt.predict(net, X).ravel()
    np.testing.assert_array_equal((out > 0.5).astype(int), y)
    assert hist.last["val_accuracy"] == 1.0


def test_flower_set():
    X, y = D.make_flower(400, seed=1)
    assert X.shape == (400, 2) and np.bincount(y).tolist() == [200, 200]
    X2, _ = D.make_flower(400, seed=1)
    np.testing.assert_array_equal(X, X2)
    # not linearly separable: the best least-squares linear classifier makes many errors
    A = np.c_[X, np.ones(len(X))]
    w = np.linalg.lstsq(A, 2 * y - 1, rcond=None)[0]
    assert np.mean((A @ w > 0) != y) > 0.2


def test_digits_split():
    Xtr, ytr = D.load_digits("train")
    Xte, yte = D.load_digits("test")
    assert len(Xtr) + len(Xte) == 1797 and Xtr.shape[1] == 64
    assert 0 <= Xtr.min() and Xtr.max() <= 1
    assert abs(len(Xte) / 1797 - 0.25) < 0.01


def test_standardizer_fits_on_train_only(rng):
    Xtr = rng.normal(5.0, 3.0, size=(500, 4))
    Xtr[:, 3] = 7.0  # a constant feature is only centred
    Xte = rng.normal(5.0, 3.0, size=(100, 4))
    st = D.Standardizer().fit(Xtr)
    Z = st.transform(Xtr)
    np.testing.assert_allclose(Z[:, :3].mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(Z[:, :3].std(0), 1, atol=1e-12)
    assert np.all(Z[:, 3] == 0)
    np.testing.assert_allclose(st.transform(Xte), (Xte - st.mean_) / st.scale_)
    np.testing.assert_allclose(st.inverse_transform(st.transform(Xte)), Xte)
    assert st.transform(Xtr.astype(np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match="feature shape"):
        st.transform(Xte[:, :2])
    with pytest.raises(RuntimeError, match="not fitted"):
        D.Standardizer().transform(Xte)
    with pytest.raises(ValueError, match="NaN"):
        D.Standardizer().fit(np.array([[np.nan, 1.0]]))
