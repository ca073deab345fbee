"""Optimal Brain Damage: saliencies against torch's exact Hessian, pruning exactly N
weights that stay zero under every optimiser, the put-back rule, feature saliency."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import hessian_diagonal

import neuronet as nt
from neuronet.layers import Sequential
from neuronet.optim import OPTIMIZERS
from neuronet.surgery import (data_curvature, feature_saliency, magnitude_saliency, prune,
                              prune_features, saliency)


def _net(d=4, h=5, k=3, seed=0):
    net = Sequential(nt.Dense(d, h, seed=seed), nt.Tanh(), nt.Dense(h, k, seed=seed + 1))
    net.astype(np.float64)
    r = np.random.default_rng(seed)
    for p in net.parameters():
        p.data[...] = r.standard_normal(p.shape)
    return net


def _torch_hessian_diag(net, x, t):
    """Exact ``diag ∂²Q/∂θ²`` of ``Q = (1/N) Σ ½‖y − t‖²`` by torch autograd."""
    def q(W1, b1, W2, b2):
        y = torch.tanh(torch.tensor(x) @ W1 + b1) @ W2 + b2
        return 0.5 * ((y - torch.tensor(t)) ** 2).sum() / len(x)
    return np.concatenate([d.reshape(-1) for d in
                           hessian_diagonal(q, [p.data for p in net.parameters()])])


@pytest.mark.parametrize("batch_size", [None, 3])
def test_saliency_is_half_w2_times_exact_hessian_at_a_zero_loss_minimum(batch_size):
    """At a minimum of zero loss the residuals vanish, so the Hessian of MSE is the
    Gauss–Newton matrix; with one hidden layer the curvature pass drops nothing from its
    diagonal. So ``S_k = ½ w_k² H_kk`` exactly, ``H`` from torch.autograd.functional.hessian."""
    net = _net()
    x = np.random.default_rng(1).standard_normal((8, 4))
    t = net.forward(x).copy()                          # targets the net already fits: Q = 0
    got = saliency(net, nt.MSE(), x, t, batch_size=batch_size)
    H = _torch_hessian_diag(net, x, t)
    w = np.concatenate([p.data.reshape(-1) for p in net.parameters()])
    np.testing.assert_allclose(np.concatenate([s.reshape(-1) for s in got]), 0.5 * w ** 2 * H,
                               rtol=1e-10, atol=1e-13)
    assert np.all(H > 0)                               # a real comparison, not 0 == 0


def test_saliency_predicts_the_loss_rise_of_deleting_a_small_weight():
    """``δQ ≈ S_k`` when ``w_k`` is set to zero at the minimum (second order in w_k)."""
    net = _net(seed=3)
    x = np.random.default_rng(2).standard_normal((20, 4))
    t = net.forward(x).copy()
    net.layers[0].W.data[1, 2] = 0.01
    t = net.forward(x).copy()
    s = saliency(net, nt.MSE(), x, t)[0][1, 2]
    net.layers[0].W.data[1, 2] = 0.0
    dq = nt.MSE()(net.forward(x), t)
    assert s > 0 and abs(dq - s) < 0.02 * s


def test_data_curvature_is_the_mean_over_samples():
    net = _net(seed=5)
    x = np.random.default_rng(5).standard_normal((6, 4))
    t = np.random.default_rng(6).standard_normal((6, 3))
    whole = [c.copy() for c in data_curvature(net, nt.MSE(), x, t, batch_size=None)]
    singles = [np.zeros_like(c) for c in whole]
    for i in range(6):
        for acc, c in zip(singles, data_curvature(net, nt.MSE(), x[i:i + 1], t[i:i + 1])):
            acc += c / 6
    for a, b in zip(whole, singles):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_prune_removes_exactly_the_n_least_salient():
    net = _net(d=6, h=7, k=2, seed=7)
    x = np.random.default_rng(7).standard_normal((30, 6))
    y = np.random.default_rng(8).standard_normal((30, 2))
    before = net.num_parameters()
    s = saliency(net, nt.MSE(), x, y, biases=False)
    removal = prune(net, 17, s)
    assert len(removal) == 17 and net.num_parameters() == before - 17
    flat = np.concatenate([v.reshape(-1) for v in s])
    cut = np.sort(flat[~np.isnan(flat)])[16]
    for p, sp in zip(net.parameters(), s):
        pruned = np.zeros(p.shape, bool) if p.mask is None else ~p.mask
        assert p.name != "b" or not pruned.any()
        assert np.all(p.data[pruned] == 0) and np.all(sp[pruned] <= cut)
    # a second round never picks a pruned weight again
    s2 = saliency(net, nt.MSE(), x, y, biases=False)
    assert all(np.isnan(sp[~p.mask]).all() for p, sp in zip(net.parameters(), s2) if p.mask is not None)
    prune(net, 5, s2)
    assert net.num_parameters() == before - 22


def test_put_back_restores_the_last_removed_weights():
    net = _net(seed=9)
    state = net.state_dict()
    n0 = net.num_parameters()
    first = prune(net, 4, magnitude_saliency(net))
    mid = net.state_dict()
    last = prune(net, 6, magnitude_saliency(net))
    assert net.num_parameters() == n0 - 10
    last.restore()
    assert net.num_parameters() == n0 - 4
    for k, v in mid.items():
        np.testing.assert_array_equal(net.state_dict()[k], v)
    first.restore()
    assert all(p.mask is None for p in net.parameters())
    for k, v in state.items():
        np.testing.assert_array_equal(net.state_dict()[k], v)


def _optimizer(name, net):
    opt = OPTIMIZERS[name](net.parameters(), lr=0.01)
    if name == "DiagonalLM":
        opt.update_curvature([np.full(p.shape, 0.5) for p in net.parameters()])
    return opt


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_pruned_weights_stay_zero_under_training_with_every_optimiser(name):
    net = _net(d=6, h=8, k=3, seed=11).astype(np.float32)
    x = np.random.default_rng(11).standard_normal((64, 6)).astype(np.float32)
    y = np.random.default_rng(12).integers(0, 3, 64)
    removal = prune(net, 20, magnitude_saliency(net))
    n = net.num_parameters()
    w0 = [p.data.copy() for p in net.parameters()]
    nt.fit(net, nt.SoftmaxCrossEntropy(), _optimizer(name, net), x, y, epochs=2, batch_size=16,
           seed=0)
    for p, w in zip(net.parameters(), w0):
        if p.mask is not None:
            assert np.all(p.data[~p.mask] == 0)
            assert np.any(p.data[p.mask] != w[p.mask])
    assert net.num_parameters() == n and len(removal) == 20


def test_feature_saliency_sums_rows_and_finds_the_useless_inputs():
    rng = np.random.default_rng(13)
    x = rng.standard_normal((200, 6))
    y = np.tanh(x[:, :2] @ np.array([[1.0, -1.0], [0.5, 2.0]]))   # inputs 2..5 are noise
    net = Sequential(nt.Dense(6, 8, seed=1), nt.Tanh(), nt.Dense(8, 2, seed=2)).astype(np.float64)
    nt.fit(net, nt.MSE(), nt.optim.Adam(net, lr=0.02, weight_decay=1e-3), x, y, epochs=60,
           batch_size=20, seed=0)
    s = saliency(net, nt.MSE(), x, y)
    fs = feature_saliency(net, scores=s)
    np.testing.assert_allclose(fs, s[0].sum(axis=1))
    assert set(np.argsort(fs)[:4]) == {2, 3, 4, 5}
    removal = prune_features(net, np.argsort(fs)[:4])
    assert len(removal) == 4 * 8 and np.all(net.layers[0].W.data[2:] == 0)
    fs2 = feature_saliency(net, nt.MSE(), x, y)
    assert np.isnan(fs2[2:]).all() and np.isfinite(fs2[:2]).all()


def test_bad_input_is_named():
    net = _net()
    s = magnitude_saliency(net)
    n = sum(p.size for p in net.parameters())
    with pytest.raises(ValueError, match=f"n={n + 1} weights to prune, but the model has only {n}"):
        prune(net, n + 1, s)
    with pytest.raises(ValueError, match="n must be >= 0"):
        prune(net, -1, s)
    with pytest.raises(TypeError, match="n must be an int"):
        prune(net, 2.5, s)
    with pytest.raises(ValueError, match="one array per parameter"):
        prune(net, 1, s[:2])
    with pytest.raises(ValueError, match="same number of samples"):
        saliency(net, nt.MSE(), np.zeros((5, 4)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"features must be indices in \[0, 4\)"):
        prune_features(net, [4])
    with pytest.raises(TypeError, match="needs a Dense layer"):
        feature_saliency(nt.Tanh(), scores=[])
