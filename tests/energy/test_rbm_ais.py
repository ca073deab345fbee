"""Annealed importance sampling against exact partition functions."""
from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet.energy import RBM, ais_betas, ais_log_likelihood, ais_log_partition
from neuronet.energy import monitors as M

PAIRINGS = [("bernoulli", "bernoulli"), ("gaussian", "bernoulli"), ("gaussian", "gaussian"),
            ("poisson", "bernoulli")]


def test_betas_schedule():
    b = ais_betas()
    assert b[0] == 0 and b[-1] == 1 and np.all(np.diff(b) > 0)
    assert len(b) == 1 + 500 + 4000 + 1000
    np.testing.assert_allclose(np.diff(b[:501]), 1e-3)
    short = ais_betas(((1.0, 0.25),))
    np.testing.assert_allclose(short, [0, 0.25, 0.5, 0.75, 1.0])
    with pytest.raises(ValueError, match="end at"):
        ais_betas(((0.5, 0.1),))


@pytest.mark.parametrize("visible,hidden", PAIRINGS)
def test_ais_on_small_models_matches_exact(visible, hidden):
    rng = np.random.default_rng(0)
    r = RBM(6, 4, visible, hidden, seed=0).astype(np.float64)
    r.W.data[...] = rng.normal(0, 1.0 if visible == "bernoulli" else 0.3, (6, 4))
    r.a.data[...] = rng.normal(0, 0.5, 6)
    r.b.data[...] = rng.normal(0, 0.5, 4)
    res = ais_log_partition(r, n_runs=100, betas=ais_betas(((0.5, 2e-3), (1.0, 1e-3))), seed=1)
    exact = M.log_partition(r)
    assert res.log_z == pytest.approx(exact, abs=0.03)
    assert res.log_z_low <= exact + 0.03 and exact - 0.03 <= res.log_z_high


def _mnist_rbm(monkeypatch, data_dir, n_hidden, n_train=10000):
    monkeypatch.setenv("NEURONET_DATA", str(data_dir))
    images, _ = nt.data.load_mnist("train")
    X = nt.data.to_float(images[:n_train], flatten=True)
    X = (np.random.default_rng(0).random(X.shape, dtype=np.float32) < X).astype(np.float32)  # binarised
    r = RBM(784, n_hidden, seed=0)
    r.fit(X, epochs=3, batch_size=100, lr=0.1, verbose=False, seed=0)
    return r, X


def _check_ais_on_mnist(r, X):
    exact = M.log_partition(r)
    res = ais_log_partition(r, data=X, n_runs=100, seed=0)
    assert abs(res.log_z - exact) < 0.1, (res, exact)
    ll = ais_log_likelihood(r, X[:2000], result=res)
    assert ll.mean == pytest.approx(M.exact_log_likelihood(r, X[:2000], log_z=exact), abs=0.1)
    assert ll.low <= ll.mean <= ll.high
    # the trained model is far from the base-rate start: AIS did real work
    assert abs(exact - res.log_z_base) > 5


def test_ais_mnist_784x20_within_0_1_nat(monkeypatch, data_dir):
    """The issue's check: a trained 784×20 MNIST RBM, exact log Z over 2^20 hiddens (≈ 13 s)."""
    _check_ais_on_mnist(*_mnist_rbm(monkeypatch, data_dir, 20, n_train=20000))
