"""The lecture's symmetry argument: with all weights zero every hidden neuron gets
the same gradient, so they stay identical under training; random weights break it."""
from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet.layers import Sequential


def _train(init, steps=200):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 4))
    y = (x[:, :1] * x[:, 1:2] > 0).astype(float) * 2 - 1  # a target a single neuron can't fit
    net = Sequential(nt.Dense(4, 6, init=init, seed=1), nt.Sigmoid(),
                     nt.Dense(6, 1, init=init, seed=2)).astype(np.float64)
    loss = nt.MSE()
    opt = nt.optim.SGD(net, lr=0.5)
    first = loss(net.forward(x), y)
    for _ in range(steps):
        opt.zero_grad()
        loss(net.forward(x), y)
        net.backward(loss.backward())
        opt.step()
    return net, first, loss(net.forward(x), y)


def test_zero_init_keeps_hidden_neurons_identical():
    net, first, last = _train("zeros")
    W1, b1, W2 = net[0].W.data, net[0].b.data, net[2].W.data
    assert last < first  # it did learn something (through the biases and W2)...
    assert np.abs(W1).max() > 1e-3  # ...and the first layer moved away from zero
    # ...yet every hidden neuron (a column of W1, its bias, a row of W2) is the same
    np.testing.assert_allclose(W1, W1[:, :1].repeat(6, axis=1), atol=1e-12)
    np.testing.assert_allclose(b1, np.full(6, b1[0]), atol=1e-12)
    np.testing.assert_allclose(W2, np.full_like(W2, W2[0, 0]), atol=1e-12)


@pytest.mark.parametrize("init", ["glorot", "he", "normal"])
def test_random_init_breaks_the_symmetry(init):
    net, _, _ = _train(init, steps=20)
    W1 = net[0].W.data
    spread = np.abs(W1 - W1[:, :1]).max(axis=0)[1:]
    assert np.all(spread > 1e-3)  # no two hidden neurons coincide with neuron 0
