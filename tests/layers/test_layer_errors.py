"""Bad input to layers fails early with a message saying expected vs got."""
from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt


def test_wrong_feature_count():
    with pytest.raises(ValueError, match=r"Dense input must have 5 features on axis -1, got shape \(3, 4\)"):
        nt.Dense(5, 2).forward(np.zeros((3, 4)))


def test_wrong_ndim():
    with pytest.raises(ValueError, match=r"Dense input must be 2-D \(N, n_in\), got a 1-D array of shape \(5,\)"):
        nt.Dense(5, 2).forward(np.zeros(5))
    with pytest.raises(ValueError, match=r"Maxout input must be 2-D.*got a 3-D array"):
        nt.Maxout(2).forward(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match=r"PReLU input must have 3 features on axis 1, got shape \(2, 4\)"):
        nt.PReLU(3).forward(np.zeros((2, 4)))


def test_non_numeric_dtype():
    with pytest.raises(TypeError, match="Dense input must be a numeric array.*got dtype <U1"):
        nt.Dense(2, 2).forward(np.array([["a", "b"]]))
    with pytest.raises(TypeError, match="ReLU input must be a numeric array.*got dtype object"):
        nt.ReLU().forward(np.array([[None, 1]], dtype=object))
    with pytest.raises(TypeError, match="complex"):
        nt.Tanh().forward(np.array([[1j]]))


def test_upstream_gradient_of_wrong_shape_and_missing_forward():
    d = nt.Dense(3, 2)
    with pytest.raises(RuntimeError, match="before forward"):
        d.backward(np.zeros((1, 2)))
    d.forward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"must have shape \(4, 2\), got \(4, 3\)"):
        d.backward(np.zeros((4, 3)))
    s = nt.Sigmoid()
    s.forward(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"Sigmoid.backward input must have shape \(2, 2\)"):
        s.backward(np.zeros((2, 3)))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="n_in must be >= 1, got 0"):
        nt.Dense(0, 2)
    with pytest.raises(TypeError, match="n_out must be an int, got float"):
        nt.Dense(2, 2.5)
    with pytest.raises(ValueError, match="pieces must be >= 1"):
        nt.Maxout(0)
    with pytest.raises(ValueError, match="give either rng= or seed=, not both"):
        nt.Dense(2, 2, rng=np.random.default_rng(0), seed=1)
    with pytest.raises(ValueError, match="std must be >= 0"):
        nt.init.normal((2, 2), -1.0)


def test_spec_and_num_parameters():
    d = nt.Dense(4, 3, init="he", seed=0)
    assert d.spec() == {"type": "Dense", "args": {"n_in": 4, "n_out": 3, "init": "he", "seed": 0}}
    assert d.num_parameters() == 15
    d.W.set_mask(np.arange(12).reshape(4, 3) % 2 == 0)
    assert d.num_parameters() == 9
    assert nt.PReLU(5).num_parameters() == 5
