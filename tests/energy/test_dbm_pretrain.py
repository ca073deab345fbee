"""DBM pretraining: the doubled RBMs' conditionals against the paper's formulas, the joint
initialisation, and the fine-tuning network against the mean-field equations."""
from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet.energy import DBM
from neuronet.energy.dbm_pretrain import DoubledRBMStep, init_from_rbms, make_stack
from neuronet.layers.activations import sigmoid


def randomised(stack, seed=0):
    rng = np.random.default_rng(seed)
    for rbm, _, _ in stack:
        for p in rbm.parameters():
            p.data[...] = rng.normal(0, 0.7, p.shape)
    return stack


def softmax(x):
    e = np.exp(x - x.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def test_doubled_conditionals_are_the_papers():
    """Bottom: σ(2(b + vW)) up, σ(a + Wh) down; middle: doubled both ways; top: σ(b + hW)
    up, σ(2(a + Wh)) down (Salakhutdinov's rbm.m / rbm_l2.m, 2012 §4 for the middle)."""
    d = DBM([5, 4, 3, 2], seed=0, dtype=np.float64)
    stack = randomised(make_stack(d, np.random.default_rng(0)))
    assert [(up, down) for _, up, down in stack] == [(2.0, 1.0), (2.0, 2.0), (1.0, 2.0)]
    rng = np.random.default_rng(1)
    for rbm, up, down in stack:
        step = DoubledRBMStep(rbm, None, up=up, down=down)
        v = (rng.random((7, rbm.n_visible)) < 0.5).astype(float)
        h = (rng.random((7, rbm.n_hidden)) < 0.5).astype(float)
        W, a, b = rbm.W.data, rbm.a.data, rbm.b.data
        np.testing.assert_allclose(step.hidden_mean(v), sigmoid(up * (b + v @ W)), rtol=1e-12)
        np.testing.assert_allclose(step.visible_mean(h), sigmoid(down * (a + h @ W.T)), rtol=1e-12)


def test_top_rbm_with_labels_doubles_only_the_hidden_block():
    d = DBM([5, 4, 3], n_labels=3, seed=0, dtype=np.float64)
    stack = randomised(make_stack(d, np.random.default_rng(0)))
    top, up, down = stack[-1]
    assert top.n_visible == 4 + 3 and (up, down) == (1.0, 2.0)
    step = DoubledRBMStep(top, None, up=up, down=down, n_doubled=4)
    h = (np.random.default_rng(2).random((6, 3)) < 0.5).astype(float)
    x = top.a.data + h @ top.W.data.T
    got = step.visible_mean(h)
    np.testing.assert_allclose(got[:, :4], sigmoid(2 * x[:, :4]), rtol=1e-12)
    np.testing.assert_allclose(got[:, 4:], softmax(x[:, 4:]), rtol=1e-12)  # labels: not doubled


@pytest.mark.parametrize("sizes,n_labels", [([5, 4, 3, 2], 0), ([5, 4, 3], 3)])
def test_joint_initialisation_averages_the_doubled_inputs(sizes, n_labels):
    d = DBM(sizes, n_labels=n_labels, seed=0, dtype=np.float64)
    stack = randomised(make_stack(d, np.random.default_rng(0)), seed=3)
    rbms = [r for r, _, _ in stack]
    init_from_rbms(d, rbms)
    np.testing.assert_array_equal(d.b0.data, rbms[0].a.data)
    for l in range(1, d.n_layers):
        np.testing.assert_allclose(getattr(d, f"b{l}").data, rbms[l - 1].b.data + rbms[l].a.data[:sizes[l]])
    rng = np.random.default_rng(4)
    S = d.random_states(5, rng)
    for l in range(1, d.n_layers):
        # the DBM's input to a shared layer = ½·(doubled input from the RBM below + from the RBM above)
        x_below = 2 * (rbms[l - 1].b.data + S[l - 1] @ rbms[l - 1].W.data)
        x_above = 2 * (rbms[l].a.data[:sizes[l]] + S[l + 1] @ rbms[l].W.data[:sizes[l]].T)
        np.testing.assert_allclose(d.layer_input(l, S), 0.5 * (x_below + x_above), rtol=1e-12)
    if n_labels:
        top = rbms[-1]
        np.testing.assert_array_equal(d.U.data, top.W.data[sizes[-2]:].T)
        np.testing.assert_array_equal(d.c.data, top.a.data[sizes[-2]:])


def test_pretraining_then_joint_training_raise_the_exact_likelihood():
    rng = np.random.default_rng(0)
    protos = np.array([[1, 1, 1, 0, 0, 0], [0, 0, 1, 1, 1, 0], [1, 0, 1, 0, 1, 1]], float)
    X = np.abs(protos[rng.integers(0, 3, 300)] - (rng.random((300, 6)) < 0.05))
    d = DBM([6, 4, 3], seed=0, dtype=np.float64)
    ll0 = nt.energy.exact_log_likelihood(d, X)
    rbms = d.pretrain(X, epochs=[15, 15], batch_size=20, lr=0.1, seed=0)
    ll1 = nt.energy.exact_log_likelihood(d, X)
    d.fit(X, epochs=10, batch_size=20, lr=0.01, momentum=0.5, lr_decay=1.0, seed=0)
    ll2 = nt.energy.exact_log_likelihood(d, X)
    # 3 noisy prototypes: ≈ 2.3 nats of entropy; pretraining gets close, joint training closer
    assert len(rbms) == 2 and ll1 > ll0 + 1.5 and ll2 > ll1 + 0.02, (ll0, ll1, ll2)


def test_network_reproduces_the_mean_field_equations():
    """At the mean-field fixed point the net's h¹ is q¹ and its h² is q² (a 2-layer DBM)."""
    rng = np.random.default_rng(5)
    d = DBM([6, 5, 4], seed=0, dtype=np.float64)
    for p in d.parameters():
        p.data[...] = rng.normal(0, 0.7, p.shape)
    X = (rng.random((8, 6)) < 0.5).astype(float)
    q1, q2 = d.mean_field(X, steps=500, tol=0.0)
    net = d.to_network(3, seed=0)
    A = d.augment(X, steps=500, tol=0.0)
    np.testing.assert_array_equal(A[:, 6:], q2)
    h1 = net.layers[1].forward(net.layers[0].forward(A))
    np.testing.assert_allclose(h1, q1, atol=1e-10)
    np.testing.assert_allclose(net.layers[3].forward(net.layers[2].forward(h1)), q2, atol=1e-10)
    assert net.forward(A).shape == (8, 3)
    with pytest.raises(ValueError, match="dropout must be in"):
        d.to_network(3, dropout=1.2)


def test_bad_pretraining_arguments():
    d = DBM([6, 4, 3], seed=0)
    X = np.zeros((10, 6))
    with pytest.raises(ValueError, match="one value per RBM"):
        d.pretrain(X, epochs=[1, 2, 3])
    with pytest.raises(ValueError, match="needs the labels"):
        DBM([6, 4, 3], n_labels=2).pretrain(X, epochs=1)
    with pytest.raises(ValueError, match="6 visible units"):
        d.pretrain(np.zeros((10, 7)), epochs=1)
