"""Sequence heads (TimeDistributed, LastStep, SequenceSoftmaxCrossEntropy) and whole
recurrent nets, against torch autograd and the engine's finite-difference gradcheck."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import randomise_float64

import neuronet as nt

torch.set_default_dtype(torch.float64)


@pytest.mark.parametrize("T,N", [(1, 1), (4, 3)])
def test_time_distributed_dense_matches_torch_linear(T, N):
    r = np.random.default_rng(0)
    x, dy = r.standard_normal((T, N, 5)), r.standard_normal((T, N, 3))
    m = nt.TimeDistributed(randomise_float64(nt.Dense(5, 3, seed=0)))
    y = m.forward(x)
    dx = m.backward(dy)
    xt, W, b = (torch.tensor(a, requires_grad=True) for a in (x, m.module.W.data, m.module.b.data))
    yt = xt @ W + b
    (yt * torch.tensor(dy)).sum().backward()
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(m.module.W.grad, W.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(m.module.b.grad, b.grad.numpy(), rtol=1e-10)
    # curvature: the steps are independent objects, so it is Dense's on the folded batch
    d2y = r.random((T, N, 3))
    d2x = m.backward_curvature(d2y)
    ref = nt.Dense(5, 3).astype(np.float64)
    ref.W.data[...], ref.b.data[...] = m.module.W.data, m.module.b.data
    ref.forward(x.reshape(T * N, 5))
    np.testing.assert_allclose(d2x, ref.backward_curvature(d2y.reshape(T * N, 3)).reshape(T, N, 5))
    np.testing.assert_allclose(m.module.W.curv, ref.W.curv)


def test_last_step_forward_backward():
    x = np.random.default_rng(0).standard_normal((4, 2, 3))
    m = nt.LastStep()
    np.testing.assert_array_equal(m.forward(x), x[-1])
    dy = np.random.default_rng(1).standard_normal((2, 3))
    dx = m.backward(dy)
    assert dx.shape == x.shape and np.all(dx[:-1] == 0)
    np.testing.assert_array_equal(dx[-1], dy)
    with pytest.raises(ValueError, match=r"LastStep backward input must have shape \(2, 3\), got \(4, 2, 3\)"):
        m.backward(x)
    with pytest.raises(ValueError, match=r"3-D"):
        m.forward(x[0])


@pytest.mark.parametrize("T,N", [(1, 2), (5, 3)])
def test_sequence_cross_entropy_matches_torch(T, N):
    r = np.random.default_rng(0)
    a, t = r.standard_normal((T, N, 6)), r.integers(0, 6, (T, N))
    loss = nt.SequenceSoftmaxCrossEntropy()
    e = loss.forward(a, t)
    at = torch.tensor(a, requires_grad=True)
    et = F.cross_entropy(at.reshape(T * N, 6), torch.tensor(t).reshape(-1))
    et.backward()
    assert abs(e - et.item()) < 1e-12
    np.testing.assert_allclose(loss.backward(), at.grad.numpy(), atol=1e-14)
    np.testing.assert_allclose(loss.probabilities.sum(-1), 1)
    # one-hot rows give the same loss
    assert abs(loss.forward(a, np.eye(6)[t]) - e) < 1e-12
    nt.gradcheck(nt.SequenceSoftmaxCrossEntropy(), a, target=t)


def test_sequence_cross_entropy_bad_targets():
    loss = nt.SequenceSoftmaxCrossEntropy()
    a = np.zeros((3, 2, 4))
    with pytest.raises(ValueError, match=r"shape \(T, N\) = \(3, 2\).*got \(2, 3\)"):
        loss.forward(a, np.zeros((2, 3), int))
    with pytest.raises(ValueError, match=r"class indices must be in \[0, 4\)"):
        loss.forward(a, np.full((3, 2), 4))
    with pytest.raises(ValueError, match="3-D"):
        loss.forward(a[0], np.zeros(2, int))
    with pytest.raises(RuntimeError, match="before forward"):
        nt.SequenceSoftmaxCrossEntropy().backward()


@pytest.mark.parametrize("layer", [lambda: nt.LSTM(3, 4, peepholes="fo", seed=0),
                                   lambda: nt.GRU(3, 4, seed=0),
                                   lambda: nt.RNN(3, 4, seed=0)], ids=["lstm", "gru", "rnn"])
def test_whole_nets_pass_gradcheck(layer):
    """Every entry of every parameter of a sequence classifier and a per-step predictor."""
    x = np.random.default_rng(2).standard_normal((5, 2, 3))
    clf = randomise_float64(nt.Sequential(layer(), nt.LastStep(), nt.Dense(4, 3, seed=0)))
    nt.gradcheck(clf, x, atol=1e-7, rtol=1e-6)
    lm = randomise_float64(nt.Sequential(layer(), nt.TimeDistributed(nt.Dense(4, 3, seed=0))))
    nt.gradcheck(lm, x, atol=1e-7, rtol=1e-6)


def test_stacked_lstm_classifier_matches_torch():
    """Two stacked LSTMs, LastStep and Dense against torch.nn.LSTM(num_layers=2) + Linear."""
    r = np.random.default_rng(0)
    x, t = r.standard_normal((6, 3, 4)), r.integers(0, 2, 3)
    net = randomise_float64(nt.Sequential(nt.LSTM(4, 5, seed=0), nt.LSTM(5, 5, seed=1), nt.LastStep(),
                             nt.Dense(5, 2, seed=2)))
    loss = nt.SoftmaxCrossEntropy()
    e = loss.forward(net.forward(x), t)
    net.backward(loss.backward())
    tl = torch.nn.LSTM(4, 5, num_layers=2)
    lin = torch.nn.Linear(5, 2)
    with torch.no_grad():
        for k, lay in enumerate(net.layers[:2]):
            getattr(tl, f"weight_ih_l{k}").copy_(torch.tensor(lay.Wx.data.T))
            getattr(tl, f"weight_hh_l{k}").copy_(torch.tensor(lay.Wh.data.T))
            getattr(tl, f"bias_ih_l{k}").copy_(torch.tensor(lay.b.data))
            getattr(tl, f"bias_hh_l{k}").zero_()
        lin.weight.copy_(torch.tensor(net.layers[3].W.data.T))
        lin.bias.copy_(torch.tensor(net.layers[3].b.data))
    out, _ = tl(torch.tensor(x))
    et = F.cross_entropy(lin(out[-1]), torch.tensor(t))
    et.backward()
    assert abs(e - et.item()) < 1e-12
    np.testing.assert_allclose(net.layers[0].Wh.grad, tl.weight_hh_l0.grad.numpy().T, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(net.layers[1].Wx.grad, tl.weight_ih_l1.grad.numpy().T, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(net.layers[3].W.grad, lin.weight.grad.numpy().T, rtol=1e-7, atol=1e-12)


def test_recurrent_model_saves_and_loads(tmp_path):
    net = nt.Sequential(nt.LSTM(3, 4, peepholes="if", seed=0), nt.GRU(4, 4, seed=1),
                        nt.RNN(4, 4, activation="relu", seed=2), nt.TimeDistributed(nt.Dense(4, 2, seed=3)))
    x = np.random.default_rng(0).standard_normal((3, 2, 3)).astype(np.float32)
    nt.save(tmp_path / "m.npz", net)
    back = nt.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(back.forward(x), net.forward(x))
    assert back.layers[0].peepholes == ("i", "f")
