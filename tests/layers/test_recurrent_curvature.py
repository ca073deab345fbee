"""The curvature pass of RNN, LSTM and GRU against exact second derivatives from torch.

A weight shared by all time steps gets, as in a convolution, the sum of the curvatures
of its per-step connections (LeCun et al. 1990's rule for shared weights). So the
reference is the exact Hessian of the *unrolled* net with one copy of every weight per
step, its diagonal summed over the copies. The diagonal pass is exact wherever each
weight copy reaches each output by a single path: a linear recurrence with one hidden
unit (any length), or any width over two steps; one step of an LSTM (any width) or of
a GRU with one unit, where the Gauss–Newton diagonal of the layer's Jacobian is exact.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import hessian_diagonal

import neuronet as nt
from neuronet.surgery import saliency


@pytest.mark.parametrize("T,H", [(5, 1), (2, 3)])
def test_linear_recurrence_with_mse_curvature_is_the_exact_hessian_diagonal(T, H):
    """``h_t = x_t Wx + h_{t-1} Wh + b`` (a ReLU RNN kept in its linear region), ``E = ½Σ(h − y)²``."""
    N, D = 3, 2
    r = np.random.default_rng(T * 10 + H)
    m = nt.RNN(D, H, activation="relu").astype(np.float64)
    m.Wx.data[...] = r.uniform(0.2, 0.8, (D, H))
    m.Wh.data[...] = r.uniform(0.1, 0.6, (H, H))
    m.b.data[...] = r.uniform(0.1, 0.5, H)
    x, h0 = r.uniform(0.1, 1.0, (T, N, D)), r.uniform(0.1, 1.0, (N, H))
    y = m.forward(x, h0)
    assert np.all(y > 0)                                   # linear region: relu' = 1, relu'' = 0
    m.zero_curv()
    d2x = m.backward_curvature(np.ones_like(y))            # ∂²E/∂h² = 1 for ½Σ(h − target)²
    tx, th0 = torch.tensor(x), torch.tensor(h0)

    def energy(xs, *copies):                               # copies: Wx_t, Wh_t, b_t for each t
        h, out = th0, []
        for t in range(T):
            Wx, Wh, b = copies[3 * t:3 * t + 3]
            h = xs[t] @ Wx + h @ Wh + b
            out.append(h)
        return 0.5 * ((torch.stack(out) - 1.7) ** 2).sum()
    copies = [a for _ in range(T) for a in (m.Wx.data, m.Wh.data, m.b.data)]
    diag = hessian_diagonal(energy, [x] + copies)
    for k, p in enumerate((m.Wx, m.Wh, m.b)):
        want = sum(diag[1 + 3 * t + k] for t in range(T))
        np.testing.assert_allclose(p.curv, want, rtol=1e-12, atol=1e-14, err_msg=p.name)
    if H == 1:                                            # x reaches h by one path only then
        np.testing.assert_allclose(d2x, diag[0], rtol=1e-12, atol=1e-14)


def _gauss_newton_diag(f, arrays, d2y):
    """``Σ_i (∂y_i/∂θ)² · d2y_i`` for each array: the exact Gauss–Newton diagonal."""
    out = []
    for k in range(len(arrays)):
        def fk(z, k=k):
            a = [torch.tensor(v) for v in arrays]
            a[k] = z
            return f(*a)
        J = torch.autograd.functional.jacobian(fk, torch.tensor(arrays[k])).numpy()
        J = J.reshape(d2y.size, -1)
        out.append(((J ** 2).T @ d2y.reshape(-1)).reshape(arrays[k].shape))
    return out


def _lstm_step(x, h0, c0, Wx, Wh, b, p_i, p_f, p_o):
    H = h0.shape[1]
    a = x[0] @ Wx + h0 @ Wh + b
    i = torch.sigmoid(a[:, :H] + p_i * c0)
    f = torch.sigmoid(a[:, H:2 * H] + p_f * c0)
    c = f * c0 + i * torch.tanh(a[:, 2 * H:3 * H])
    o = torch.sigmoid(a[:, 3 * H:] + p_o * c)
    return (o * torch.tanh(c))[None]


def _gru_step(x, h0, Wx, Wh, b):
    H = h0.shape[1]
    ax = x[0] @ Wx + b
    z = torch.sigmoid(ax[:, :H] + h0 @ Wh[:, :H])
    r = torch.sigmoid(ax[:, H:2 * H] + h0 @ Wh[:, H:2 * H])
    n = torch.tanh(ax[:, 2 * H:] + (r * h0) @ Wh[:, 2 * H:])
    return ((1 - z) * h0 + z * n)[None]


@pytest.mark.parametrize("cell,H", [("lstm", 3), ("gru", 1)])
def test_one_step_of_a_gated_cell_gives_the_exact_gauss_newton_diagonal(cell, H):
    N, D = 4, 3
    r = np.random.default_rng(5)
    m = (nt.LSTM(D, H, peepholes="ifo") if cell == "lstm" else nt.GRU(D, H)).astype(np.float64)
    for p in m.parameters():
        p.data[...] = 0.8 * r.standard_normal(p.shape)
    x = r.standard_normal((1, N, D))
    states = [0.5 * r.standard_normal((N, H)) for _ in range(2 if cell == "lstm" else 1)]
    y = m.forward(x, *states)
    d2y = r.uniform(0.1, 1.0, y.shape)
    m.zero_curv()
    m.backward_curvature(d2y)
    params = [p.data for p in m.parameters()]
    f = _lstm_step if cell == "lstm" else _gru_step
    want = _gauss_newton_diag(lambda *a: f(*a), [x] + states + params, d2y)[1 + len(states):]
    for p, w in zip(m.parameters(), want):
        np.testing.assert_allclose(p.curv, w, rtol=1e-10, atol=1e-14, err_msg=p.name)


@pytest.mark.parametrize("make", [lambda: nt.RNN(3, 4), lambda: nt.LSTM(3, 4, peepholes="if"),
                                  lambda: nt.GRU(3, 4)])
def test_curvature_of_a_long_sequence_is_positive_and_adds_up_over_batches(make):
    """Longer sequences: the pass is a non-negative sum over samples (two half batches
    add up to the whole batch), and it leaves the gradient untouched."""
    m = make().astype(np.float64)
    r = np.random.default_rng(2)
    x, d2y = r.standard_normal((6, 4, 3)), r.uniform(0.1, 1, (6, 4, 4))
    m.zero_curv()
    m.forward(x)
    d2x = m.backward_curvature(d2y)
    whole = [p.curv.copy() for p in m.parameters()]
    assert all(np.all(c > 0) for c in whole) and np.all(d2x > 0)
    assert all(np.all(p.grad == 0) for p in m.parameters())
    m.zero_curv()
    for half in (slice(0, 2), slice(2, 4)):
        m.forward(x[:, half])
        m.backward_curvature(d2y[:, half])
    for p, w in zip(m.parameters(), whole):
        np.testing.assert_allclose(p.curv, w, rtol=1e-12)


def test_obd_saliency_runs_on_a_recurrent_net():
    net = nt.layers.Sequential(nt.LSTM(3, 5, seed=0), nt.TimeDistributed(nt.Dense(5, 2, seed=1)))
    net.astype(np.float64)
    r = np.random.default_rng(3)
    for p in net.parameters():
        p.data[...] = 0.5 * r.standard_normal(p.shape)
    x, y = r.standard_normal((7, 4, 3)), r.standard_normal((7, 4, 2))
    s = saliency(net, nt.MSE(), x, y, batch_size=None)
    assert [a.shape for a in s] == [p.shape for p in net.parameters()]
    assert all(np.all(a >= 0) for a in s) and all(np.any(a > 0) for a in s)


@pytest.mark.parametrize("cls", [nt.RNN, nt.LSTM, nt.GRU])
def test_bad_input(cls):
    m = cls(2, 3)
    with pytest.raises(RuntimeError, match="backward_curvature called before forward"):
        m.backward_curvature(np.ones((1, 1, 3)))
    m.forward(np.ones((4, 2, 2)))
    with pytest.raises(ValueError, match=r"d2y must have the output's shape \(T, N, H\) = \(4, 2, 3\)"):
        m.backward_curvature(np.ones((4, 2, 2)))
