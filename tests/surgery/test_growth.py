"""Growing a hidden layer: inserting a neuron with zero outgoing weights leaves the
outputs unchanged, the existing weights and optimiser state intact; the trigger; the
four initialisations."""
from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet.layers import Sequential
from neuronet.surgery import STRATEGIES, Grow, grow_dense


def _regression(seed=0, n=300):
    r = np.random.default_rng(seed)
    X = r.uniform(-2, 2, (n, 3))
    y = np.sin(2 * X[:, :1]) + X[:, 1:2] * X[:, 2:3]
    return X, y


def _net(h=2, seed=0):
    return Sequential(nt.Dense(3, h, seed=seed), nt.Tanh(), nt.Dense(h, 1, seed=seed + 1)).astype(np.float64)


def test_a_neuron_with_zero_outgoing_weights_changes_nothing():
    X, y = _regression()
    net = _net()
    opt = nt.optim.Adam(net, lr=0.01)
    nt.fit(net, nt.MSE(), opt, X, y, epochs=2, batch_size=50, seed=0)
    out = net.forward(X).copy()
    old = [p.data.copy() for p in net.parameters()]
    old_state = [{k: v.copy() for k, v in st.items()} for st in opt.state]
    r = np.random.default_rng(1)
    width = grow_dense(net.layers[0], net.layers[2], opt, w_in=r.standard_normal((3, 1)),
                       b_in=[0.3])
    assert width == 3 and net.layers[0].n_out == 3 and net.layers[2].n_in == 3
    np.testing.assert_array_equal(net.forward(X), out)
    W1, b1, W2, b2 = net.parameters()
    np.testing.assert_array_equal(W1.data[:, :2], old[0])
    np.testing.assert_array_equal(b1.data[:2], old[1])
    np.testing.assert_array_equal(W2.data[:2], old[2])
    assert np.all(W2.data[2] == 0) and b1.data[2] == 0.3
    for st, ost, p in zip(opt.state, old_state, net.parameters()):
        for k, v in st.items():
            assert v.shape == p.shape                           # Adam's moments grew
            np.testing.assert_array_equal(v[tuple(slice(0, s) for s in ost[k].shape)], ost[k])
    assert net.layers[0].spec()["args"]["n_out"] == 3
    nt.fit(net, nt.MSE(), opt, X, y, epochs=3, batch_size=50, seed=0)   # training goes on
    assert np.any(W2.data[2] != 0)


def test_growth_keeps_the_pruning_mask():
    net = _net(h=3)
    net.layers[0].W.set_mask(np.array([[1, 0, 1]] * 3, dtype=bool))
    grow_dense(net.layers[0], net.layers[2])
    assert net.layers[0].W.mask.shape == (3, 4) and net.layers[0].W.mask[:, 3].all()
    assert not net.layers[0].W.mask[:, 1].any()


def test_the_trigger_adds_one_neuron_when_the_loss_stalls():
    X, y = _regression(1)
    net = _net(h=1, seed=1)
    cb = Grow(nt.MSE(), X, y, index=0, window=2, threshold=0.5, max_units=3, n_pool=200,
              epochs=5, min_gain=0.0)
    nt.fit(net, nt.MSE(), nt.optim.Adam(net, lr=0.02), X, y, epochs=12, batch_size=30, seed=0,
           callbacks=[cb])
    widths = [s["width"] for s in cb.sizes]
    assert widths[0] == 1 and net.layers[0].n_out == 3 and len(cb.events) == 2
    for e in cb.events:                     # one wider in the epoch after each event
        assert widths[e] == widths[e - 1] + 1
    assert widths == sorted(widths)


def test_growth_ends_when_a_neuron_did_not_pay():
    X, y = _regression(5)
    net = _net(h=1, seed=5)
    cb = Grow(nt.MSE(), X, y, index=0, window=1, threshold=10.0, n_pool=100, epochs=3,
              min_gain=0.99)                 # the loss would have to fall 100-fold
    nt.fit(net, nt.MSE(), nt.optim.Adam(net, lr=0.02), X, y, epochs=8, batch_size=50, seed=0,
           callbacks=[cb])
    assert cb.events == [2] and cb.done and net.layers[0].n_out == 2


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_each_initialisation_strategy_inserts_a_useful_neuron(strategy):
    X, y = _regression(2)
    net = _net(h=2, seed=2)
    nt.fit(net, nt.MSE(), nt.optim.Adam(net, lr=0.02), X, y, epochs=5, batch_size=30, seed=0)
    old = [p.data.copy() for p in net.parameters()]
    before = nt.evaluate(net, nt.MSE(), X, y, metrics=())["loss"]
    cb = Grow(nt.MSE(), X, y, index=0, strategy=strategy, n_pool=300, seed=3, epochs=30,
              n_starts=3)
    assert cb.add_unit(net) == 3
    after = nt.evaluate(net, nt.MSE(), X, y, metrics=())["loss"]
    assert after < before
    np.testing.assert_array_equal(net.layers[0].W.data[:, :2], old[0])
    np.testing.assert_array_equal(net.layers[2].W.data[:2], old[2])
    if strategy == "inputs":               # the new neuron sees a subset of the inputs
        assert np.sum(net.layers[0].W.data[:, 2] != 0) == 1


def test_bad_input_is_named():
    X, y = _regression()
    with pytest.raises(ValueError, match=r"strategy must be one of .*got 'largest'"):
        Grow(nt.MSE(), X, y, index=0, strategy="largest")
    net = Sequential(nt.Dense(3, 2), nt.Dense(2, 1))
    with pytest.raises(TypeError, match="a Dense layer followed by an activation"):
        Grow(nt.MSE(), X, y, index=0).add_unit(net)
    with pytest.raises(ValueError, match=r"w_in must have shape \(n_in, n\) = \(3, n\)"):
        grow_dense(net.layers[0], net.layers[1], w_in=np.zeros((2, 1)))


def test_a_grown_net_is_saved_with_its_new_width(tmp_path):
    X, y = _regression(4)
    net = _net(h=1, seed=4)
    path = tmp_path / "grown.npz"
    cb = Grow(nt.MSE(), X, y, index=0, window=1, threshold=10.0, max_units=3, n_pool=100, epochs=3,
              min_gain=0.0)
    nt.fit(net, nt.MSE(), nt.optim.Adam(net, lr=0.02), X, y, epochs=4, batch_size=50, seed=0,
           callbacks=[cb, nt.ModelCheckpoint(path)])
    loaded = nt.load(path)
    assert loaded.layers[0].n_out == net.layers[0].n_out == 3
    np.testing.assert_array_equal(loaded.forward(X), net.forward(X))
