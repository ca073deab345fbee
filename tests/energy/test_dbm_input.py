"""DBM: bad input gets a clear message; the mean-field start is the doubled bottom-up pass."""
from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet.energy import DBM
from neuronet.layers.activations import sigmoid


@pytest.mark.parametrize("sizes,match", [([6, 4], "at least 3 layer sizes"), ([6, 0, 3], r"sizes\[1\] must be >= 1"),
                                         ([6, 4.5, 3], r"sizes\[1\] must be an int"),
                                         (7, "must be a list of layer sizes")])
def test_bad_sizes(sizes, match):
    with pytest.raises((ValueError, TypeError), match=match):
        DBM(sizes)


def test_bad_labels_argument():
    with pytest.raises(ValueError, match="n_labels must be 0"):
        DBM([6, 4, 3], n_labels=1)
    with pytest.raises(ValueError, match="n_labels must be >= 0"):
        DBM([6, 4, 3], n_labels=-2)


def test_bad_data():
    d = DBM([6, 4, 3], n_labels=3, seed=0)
    with pytest.raises(ValueError, match="6 visible units on axis -1, got shape \\(2, 5\\)"):
        d.mean_field(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\], got values in \[0, 2\]"):
        d.mean_field(np.full((2, 6), 2.0) * np.eye(2, 6))
    with pytest.raises(ValueError, match="NaN or infinity"):
        d.mean_field(np.full((2, 6), np.nan))
    with pytest.raises(TypeError, match="numeric array"):
        d.mean_field(np.array([["a"] * 6]))
    with pytest.raises(ValueError, match="one row per case"):
        d.mean_field(np.zeros((2, 6)), y=np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"codes must be in \[0, 3\)"):
        d.mean_field(np.zeros((2, 6)), y=np.array([0, 3]))
    with pytest.raises(ValueError, match="no label units"):
        DBM([6, 4, 3]).mean_field(np.zeros((2, 6)), y=np.array([0, 1]))
    with pytest.raises(ValueError, match="needs 4 layers"):
        d.energy(np.zeros((1, 6)), np.zeros((1, 4)))
    with pytest.raises(ValueError, match="3 units"):
        d.energy(np.zeros((1, 6)), np.zeros((1, 4)), np.zeros((1, 2)), np.zeros((1, 3)))
    with pytest.raises(ValueError, match="n must be >= 1"):
        d.sample(0)


def test_mean_field_starts_with_doubled_weights_from_below():
    """steps=0 returns the start: q¹ = σ(b¹ + 2vW¹), q² = σ(b² + 2q¹W²), q³ = σ(b³ + q²W³)."""
    rng = np.random.default_rng(0)
    d = DBM([5, 4, 3, 2], seed=0, dtype=np.float64, init_std=1.0)
    for b in d.biases:
        b.data[...] = rng.normal(0, 1, b.shape)
    v = (rng.random((3, 5)) < 0.5).astype(float)
    q1, q2, q3 = d.mean_field(v, steps=0)
    W1, W2, W3 = (w.data for w in d.weights)
    b0, b1, b2, b3 = (b.data for b in d.biases)
    np.testing.assert_allclose(q1, sigmoid(b1 + 2 * v @ W1))
    np.testing.assert_allclose(q2, sigmoid(b2 + 2 * q1 @ W2))
    np.testing.assert_allclose(q3, sigmoid(b3 + q2 @ W3))
    assert d.mean_field_steps_ == 0
    d.mean_field(v, steps=200, tol=1e-6)
    assert 0 < d.mean_field_steps_ < 200  # stops once converged


def test_save_and_load_round_trip(tmp_path):
    d = DBM([6, 4, 3], n_labels=3, seed=0, init_std=0.5)
    path = nt.save(tmp_path / "dbm.npz", d)
    e = nt.load(path)
    assert isinstance(e, DBM) and e.sizes == [6, 4, 3] and e.n_labels == 3
    for p, q in zip(d.parameters(), e.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    v = np.random.default_rng(0).random((4, 6))
    np.testing.assert_allclose(e.mean_field(v)[0], d.mean_field(v)[0])
