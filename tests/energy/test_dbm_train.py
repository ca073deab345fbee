"""DBM joint training on the loop: the step's gradient against the exact gradient of the
bound, the exact log-likelihood rising under training, exact resume, bad arguments."""
from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from dbm_models import random_dbm
from neuronet.energy import DBM
from neuronet.energy.dbm_train import DBMStep


def small_dbm(seed=0, scale=0.6, sizes=(6, 4, 3), n_labels=0):
    return random_dbm(sizes, n_labels, seed, scale, bias_scale=0.3)


def structured_data(n=300, seed=0, noise=0.05):
    """Three 6-bit prototypes, each bit flipped with probability ``noise``."""
    rng = np.random.default_rng(seed)
    protos = np.array([[1, 1, 1, 0, 0, 0], [0, 0, 1, 1, 1, 0], [1, 0, 1, 0, 1, 1]], float)
    X = protos[rng.integers(0, 3, n)]
    flip = rng.random(X.shape) < noise
    return np.abs(X - flip)


def mean_bound(d, X):
    return d.log_likelihood_bound(X, nt.energy.log_partition(d), steps=400, tol=0.0)


def test_step_gradient_is_the_gradient_of_the_bound():
    """With the mean-field fixed point (envelope theorem) and many equilibrated chains,
    the step's ∂/∂θ equals −∂(mean bound)/∂θ by central differences, exact log Z inside."""
    d = small_dbm()
    X = structured_data(12, seed=1)
    step = DBMStep(d, None, n_chains=40000, gibbs_steps=40, mean_field_steps=400, tol=0.0,
                   rng=np.random.default_rng(2))
    d.zero_grad()
    step.compute((X,))
    h = 1e-5
    for p in d.parameters():
        fd = np.zeros(p.shape)
        for idx in np.ndindex(p.shape):
            old = p.data[idx]
            p.data[idx] = old + h
            up = mean_bound(d, X)
            p.data[idx] = old - h
            down = mean_bound(d, X)
            p.data[idx] = old
            fd[idx] = -(up - down) / (2 * h)
        # the negative phase is a 40000-chain average: agreement to sampling noise
        np.testing.assert_allclose(p.grad, fd, atol=0.012, err_msg=p.name)
    assert np.abs(np.concatenate([p.grad.ravel() for p in d.parameters()])).max() > 0.05


def test_exact_log_likelihood_rises_on_structured_data():
    X = structured_data(300)
    d = DBM([6, 4, 3], seed=0, dtype=np.float64)
    before = nt.energy.exact_log_likelihood(d, X)
    hist = d.fit(X, epochs=25, batch_size=20, lr=0.05, lr_decay=1.0, n_chains=100, seed=0)
    after = nt.energy.exact_log_likelihood(d, X)
    bound = mean_bound(d, X)
    # 3 prototypes with 5 % noise: entropy ≈ log 3 + 6·H(0.05) ≈ 2.3 nats; uniform is 6 log 2 = 4.16
    assert before < -4.0
    assert after > before + 1.2, (before, after)
    assert bound <= after + 1e-9
    assert len(hist["recon_error"]) == 25 and hist["recon_error"][-1] < hist["recon_error"][0]


def test_resume_is_exact_chains_included(tmp_path):
    X = structured_data(100, seed=3)
    kw = dict(batch_size=10, lr=0.02, n_chains=7, gibbs_steps=2, sparsity_target=0.3, sparsity_cost=0.01)
    a = DBM([6, 4, 3], seed=1, dtype=np.float64)
    ha = a.fit(X, epochs=4, seed=5, **kw)
    ck = tmp_path / "dbm.npz"
    b = DBM([6, 4, 3], seed=1, dtype=np.float64)
    b.fit(X, epochs=2, seed=5, checkpoint=ck, **kw)
    c = DBM([6, 4, 3], seed=99, dtype=np.float64)  # weights and chains come from the checkpoint
    hc = c.fit(X, epochs=4, seed=5, resume_from=ck, **kw)
    for pa, pc in zip(a.parameters(), c.parameters()):
        np.testing.assert_array_equal(pa.data, pc.data)
    for sa, sc in zip(a.persistent_chains, c.persistent_chains):
        np.testing.assert_array_equal(sa, sc)
    assert ha["recon_error"] == hc["recon_error"]
    assert a.optimizer_.lr == c.optimizer_.lr and a.optimizer_.momentum == c.optimizer_.momentum == 0.5


def test_labels_are_learned_with_the_data():
    """A 6-4-3 DBM with 3 label units, trained with the labels clamped, infers them by mean field."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    protos = np.array([[1, 1, 1, 0, 0, 0], [0, 0, 1, 1, 1, 0], [1, 0, 1, 0, 1, 1]], float)
    X = np.abs(protos[y] - (rng.random((300, 6)) < 0.05))
    d = DBM([6, 8, 6], n_labels=3, seed=0, dtype=np.float64)
    d.fit(X, y, epochs=30, batch_size=20, lr=0.05, lr_decay=1.0, seed=0)
    q_y = d.mean_field(X, steps=30)[-1]
    assert (q_y.argmax(1) == y).mean() > 0.9


def test_bad_training_arguments():
    d = DBM([6, 4, 3], seed=0)
    X = structured_data(20)
    with pytest.raises(ValueError, match="n_chains must be >= 1, got 0"):
        d.fit(X, epochs=1, n_chains=0)
    with pytest.raises(ValueError, match="6 visible units"):
        d.fit(X[:, :5], epochs=1)
    with pytest.raises(ValueError, match=r"X for Bernoulli units must lie in \[0, 1\]"):
        d.fit(X * 3, epochs=1)
    with pytest.raises(ValueError, match="one value per hidden layer"):
        d.fit(X, epochs=1, sparsity_target=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"sparsity_target\[0\] must be in"):
        d.fit(X, epochs=1, sparsity_target=1.5)
    with pytest.raises(ValueError, match="gibbs_steps must be >= 1"):
        d.fit(X, epochs=1, gibbs_steps=0)
