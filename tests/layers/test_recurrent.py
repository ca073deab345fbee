"""RNN, LSTM (every peephole combination) and the lecture's GRU against PyTorch
autograd and finite differences, in float64, including the initial-state gradients."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from conftest import randomise_float64, shifted_values

import neuronet as nt

torch.set_default_dtype(torch.float64)

PEEPHOLES = [c for r in range(4) for c in itertools.combinations("ifo", r)]
SHAPES = [(1, 1, 3, 4), (1, 3, 2, 5), (5, 2, 3, 4), (7, 1, 4, 3)]  # T, N, D, H


def _data(T, N, D, H, seed=0):
    r = np.random.default_rng(seed)
    return (r.standard_normal((T, N, D)), 0.5 * r.standard_normal((N, H)),
            0.5 * r.standard_normal((N, H)), r.standard_normal((T, N, H)))


def _t(a, grad=True):
    return torch.tensor(a, requires_grad=grad)


def _run(m, x, states, dy):
    """Our forward and backward; returns y, dx, initial-state grads, param grads."""
    m.zero_grad()
    y = m.forward(x, *states)
    dx = m.backward(dy)
    d0 = [m.dh0] + ([m.dc0] if len(states) == 2 else [])
    return y, dx, d0, {n: p.grad.copy() for n, p in m.named_parameters()}


def _assert_close(ours, theirs, what):
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9, err_msg=what)


# ------------------------------------------------------------ torch references
def _torch_lstm_peephole(m, x, h0, c0):
    """The lecture's peephole LSTM written with torch operations (i, f see C_{t-1}, o sees C_t)."""
    H = m.n_hidden
    Wx, Wh, b = (_t(p.data) for p in (m.Wx, m.Wh, m.b))
    peep = {g: _t(getattr(m, "p_" + g).data) for g in m.peepholes}
    h, c = h0, c0
    ys = []
    for t in range(x.shape[0]):
        a = x[t] @ Wx + h @ Wh + b
        ai, af, ag, ao = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        i = torch.sigmoid(ai + (peep["i"] * c if "i" in peep else 0))
        f = torch.sigmoid(af + (peep["f"] * c if "f" in peep else 0))
        c = f * c + i * torch.tanh(ag)
        o = torch.sigmoid(ao + (peep["o"] * c if "o" in peep else 0))
        h = o * torch.tanh(c)
        ys.append(h)
    return torch.stack(ys), [Wx, Wh, b] + [peep[g] for g in m.peepholes]


def _torch_gru_lecture(m, x, h0):
    """The lecture's GRU with torch operations: reset before the product, h = (1−z)h + z·h̃."""
    H = m.n_hidden
    Wx, Wh, b = (_t(p.data) for p in (m.Wx, m.Wh, m.b))
    h = h0
    ys = []
    for t in range(x.shape[0]):
        ax = x[t] @ Wx + b
        z = torch.sigmoid(ax[:, :H] + h @ Wh[:, :H])
        r = torch.sigmoid(ax[:, H:2 * H] + h @ Wh[:, H:2 * H])
        n = torch.tanh(ax[:, 2 * H:] + (r * h) @ Wh[:, 2 * H:])
        h = (1 - z) * h + z * n
        ys.append(h)
    return torch.stack(ys), [Wx, Wh, b]


def _torch_nn(cls, m, **kw):
    """torch.nn.RNN/LSTM with our weights (transposed; our single bias in bias_ih)."""
    t = cls(m.n_in, m.n_hidden, **kw)
    with torch.no_grad():
        t.weight_ih_l0.copy_(torch.tensor(m.Wx.data.T))
        t.weight_hh_l0.copy_(torch.tensor(m.Wh.data.T))
        t.bias_ih_l0.copy_(torch.tensor(m.b.data))
        t.bias_hh_l0.zero_()
    return t


# ------------------------------------------------------------ against torch
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_rnn_matches_torch_nn_rnn(shape, activation):
    x, h0, _, dy = _data(*shape)
    m = randomise_float64(nt.RNN(shape[2], shape[3], activation=activation, seed=0))
    y, dx, (dh0,), grads = _run(m, x, (h0,), dy)
    tm = _torch_nn(torch.nn.RNN, m, nonlinearity=activation)
    xt, h0t = _t(x), _t(h0[None])
    yt, _ = tm(xt, h0t)
    (yt * torch.tensor(dy)).sum().backward()
    _assert_close(y, yt.detach().numpy(), "output")
    _assert_close(dx, xt.grad.numpy(), "dx")
    _assert_close(dh0, h0t.grad[0].numpy(), "dh0")
    _assert_close(grads["Wx"], tm.weight_ih_l0.grad.numpy().T, "dWx")
    _assert_close(grads["Wh"], tm.weight_hh_l0.grad.numpy().T, "dWh")
    _assert_close(grads["b"], tm.bias_ih_l0.grad.numpy(), "db")


@pytest.mark.parametrize("shape", SHAPES)
def test_lstm_matches_torch_nn_lstm(shape):
    x, h0, c0, dy = _data(*shape)
    m = randomise_float64(nt.LSTM(shape[2], shape[3], seed=0))
    y, dx, (dh0, dc0), grads = _run(m, x, (h0, c0), dy)
    tm = _torch_nn(torch.nn.LSTM, m)
    xt, h0t, c0t = _t(x), _t(h0[None]), _t(c0[None])
    yt, (hT, cT) = tm(xt, (h0t, c0t))
    (yt * torch.tensor(dy)).sum().backward()
    _assert_close(y, yt.detach().numpy(), "output")
    _assert_close(m.state[1], cT[0].detach().numpy(), "final cell state")
    _assert_close(dx, xt.grad.numpy(), "dx")
    _assert_close(dh0, h0t.grad[0].numpy(), "dh0")
    _assert_close(dc0, c0t.grad[0].numpy(), "dc0")
    _assert_close(grads["Wx"], tm.weight_ih_l0.grad.numpy().T, "dWx")
    _assert_close(grads["Wh"], tm.weight_hh_l0.grad.numpy().T, "dWh")
    _assert_close(grads["b"], tm.bias_ih_l0.grad.numpy(), "db")


@pytest.mark.parametrize("shape", SHAPES[::2] + SHAPES[1:2])
@pytest.mark.parametrize("peepholes", PEEPHOLES, ids=lambda p: "".join(p) or "none")
def test_peephole_lstm_matches_torch_equations(shape, peepholes):
    x, h0, c0, dy = _data(*shape)
    m = randomise_float64(nt.LSTM(shape[2], shape[3], peepholes=peepholes, seed=0))
    y, dx, (dh0, dc0), grads = _run(m, x, (h0, c0), dy)
    xt, h0t, c0t = _t(x), _t(h0), _t(c0)
    yt, params = _torch_lstm_peephole(m, xt, h0t, c0t)
    (yt * torch.tensor(dy)).sum().backward()
    _assert_close(y, yt.detach().numpy(), "output")
    _assert_close(dx, xt.grad.numpy(), "dx")
    _assert_close(dh0, h0t.grad.numpy(), "dh0")
    _assert_close(dc0, c0t.grad.numpy(), "dc0")
    names = ["Wx", "Wh", "b"] + ["p_" + g for g in m.peepholes]
    assert list(grads) == names
    for name, pt in zip(names, params):
        _assert_close(grads[name], pt.grad.numpy(), "d" + name)


@pytest.mark.parametrize("shape", SHAPES)
def test_gru_matches_lecture_equations_in_torch(shape):
    x, h0, _, dy = _data(*shape)
    m = randomise_float64(nt.GRU(shape[2], shape[3], seed=0))
    y, dx, (dh0,), grads = _run(m, x, (h0,), dy)
    xt, h0t = _t(x), _t(h0)
    yt, params = _torch_gru_lecture(m, xt, h0t)
    (yt * torch.tensor(dy)).sum().backward()
    _assert_close(y, yt.detach().numpy(), "output")
    _assert_close(dx, xt.grad.numpy(), "dx")
    _assert_close(dh0, h0t.grad.numpy(), "dh0")
    for name, pt in zip(["Wx", "Wh", "b"], params):
        _assert_close(grads[name], pt.grad.numpy(), "d" + name)


def test_gru_is_not_torch_gru():
    """The docstring's claim: torch.nn.GRU is a different function with the same weights."""
    x, h0, _, _ = _data(4, 2, 3, 5)
    m = randomise_float64(nt.GRU(3, 5, seed=0))
    y = m.forward(x, h0)
    t = torch.nn.GRU(3, 5)
    H = 5
    with torch.no_grad():  # map blocks z, r, h̃ to torch's r, z, n
        Wx, Wh, b = m.Wx.data, m.Wh.data, m.b.data
        perm = np.r_[H:2 * H, 0:H, 2 * H:3 * H]
        t.weight_ih_l0.copy_(torch.tensor(Wx[:, perm].T))
        t.weight_hh_l0.copy_(torch.tensor(Wh[:, perm].T))
        t.bias_ih_l0.copy_(torch.tensor(b[perm]))
        t.bias_hh_l0.zero_()
    yt, _ = t(torch.tensor(x), torch.tensor(h0[None]))
    assert np.abs(y - yt.detach().numpy()).max() > 1e-3


# ------------------------------------------------------------ finite differences
def _numeric_grad(f, a, idx, eps=1e-6):
    fp, fm = shifted_values(f, a, idx, eps)
    return (fp - fm) / (2 * eps)


@pytest.mark.parametrize("make", [
    lambda: nt.RNN(3, 4, seed=0),
    lambda: nt.RNN(3, 4, activation="relu", seed=0),
    lambda: nt.LSTM(3, 4, seed=0),
    lambda: nt.LSTM(3, 4, peepholes="ifo", seed=0),
    lambda: nt.LSTM(3, 4, peepholes=("f",), seed=0),
    lambda: nt.GRU(3, 4, seed=0),
], ids=["rnn", "rnn-relu", "lstm", "lstm-ifo", "lstm-f", "gru"])
@pytest.mark.parametrize("T,N", [(1, 1), (4, 2)])
def test_finite_differences(make, T, N):
    """Central differences of E = Σ dy ⊙ y at random entries of x, h0, c0 and every parameter."""
    m = randomise_float64(make())
    is_lstm = isinstance(m, nt.LSTM)
    x, h0, c0, dy = _data(T, N, 3, 4, seed=3)
    states = (h0, c0) if is_lstm else (h0,)
    y, dx, d0, grads = _run(m, x, states, dy)

    def energy():
        return float((m.forward(x, *states) * dy).sum())

    r = np.random.default_rng(5)
    checks = [(x, dx, "x"), (h0, d0[0], "h0")] + ([(c0, d0[1], "c0")] if is_lstm else [])
    checks += [(p.data, grads[n], n) for n, p in m.named_parameters()]
    for arr, grad, name in checks:
        for _ in range(4):
            idx = tuple(int(r.integers(s)) for s in arr.shape)
            num = _numeric_grad(energy, arr, idx)
            assert abs(num - grad[idx]) <= 1e-6 * max(1.0, abs(num)), (name, idx, num, grad[idx])


# ------------------------------------------------------------ state handling
@pytest.mark.parametrize("make", [lambda s: nt.RNN(3, 5, stateful=s, seed=0),
                                  lambda s: nt.LSTM(3, 5, peepholes="if", stateful=s, seed=0),
                                  lambda s: nt.GRU(3, 5, stateful=s, seed=0)],
                         ids=["rnn", "lstm", "gru"])
def test_stateful_chunks_equal_one_pass(make):
    """Forward in chunks with the carried state gives the same states as one pass;
    reset_state() starts again from zeros."""
    x = np.random.default_rng(0).standard_normal((12, 2, 3))
    full = randomise_float64(make(False)).forward(x)
    m = randomise_float64(make(True))
    parts = [m.forward(x[a:b]).copy() for a, b in ((0, 5), (5, 6), (6, 12))]
    np.testing.assert_allclose(np.concatenate(parts), full, atol=1e-12)
    m.reset_state()
    np.testing.assert_allclose(m.forward(x[:5]), full[:5], atol=1e-12)
    # a non-stateful layer does not carry
    m2 = randomise_float64(make(False))
    m2.forward(x[:5])
    np.testing.assert_allclose(m2.forward(x[5:]), randomise_float64(make(False)).forward(x[5:]), atol=1e-12)


def test_initial_state_gradient_chains_between_chunks():
    """dh0/dc0 of a later chunk, fed back into the earlier chunk's last step, give full BPTT."""
    x = np.random.default_rng(0).standard_normal((6, 2, 3))
    dy = np.random.default_rng(1).standard_normal((6, 2, 4))
    full = randomise_float64(nt.GRU(3, 4, seed=0))
    full.forward(x)
    dx_full = full.backward(dy)
    a, b = randomise_float64(nt.GRU(3, 4, seed=0)), randomise_float64(nt.GRU(3, 4, seed=0))
    ya = a.forward(x[:3])
    b.forward(x[3:], ya[-1])
    dx_b = b.backward(dy[3:])
    dya = dy[:3].copy()
    dya[-1] += b.dh0
    dx_a = a.backward(dya)
    np.testing.assert_allclose(np.concatenate([dx_a, dx_b]), dx_full, atol=1e-12)
    np.testing.assert_allclose(a.Wh.grad + b.Wh.grad, full.Wh.grad, atol=1e-12)


def test_float32_default_and_int_input():
    m = nt.LSTM(2, 3, seed=0)
    assert m.Wx.data.dtype == np.float32
    y = m.forward(np.ones((2, 1, 2), dtype=np.int64))
    assert y.dtype == np.float32 and y.shape == (2, 1, 3)
    assert m.backward(np.ones((2, 1, 3), np.float32)).dtype == np.float32


def test_same_seed_same_weights_and_spec():
    a, b = nt.LSTM(3, 4, peepholes="fo", seed=7), nt.LSTM(3, 4, peepholes="fo", seed=7)
    for (na, pa), (nb, pb) in zip(a.named_parameters(), b.named_parameters()):
        assert na == nb and np.array_equal(pa.data, pb.data)
    assert [n for n, _ in a.named_parameters()] == ["Wx", "Wh", "b", "p_f", "p_o"]
    assert a.spec() == {"type": "LSTM", "args": {"n_in": 3, "n_hidden": 4, "peepholes": "fo", "seed": 7}}
    assert np.all(a.b.data[4:8] == 1) and np.all(a.b.data[:4] == 0)  # forget bias 1


# ------------------------------------------------------------ bad input
@pytest.mark.parametrize("make", [lambda: nt.RNN(3, 4), lambda: nt.LSTM(3, 4), lambda: nt.GRU(3, 4)],
                         ids=["rnn", "lstm", "gru"])
def test_bad_input(make):
    m = make()
    with pytest.raises(ValueError, match=r"3-D .*got a 2-D array of shape \(5, 3\)"):
        m.forward(np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"must have 3 features.*got shape \(5, 2, 4\)"):
        m.forward(np.zeros((5, 2, 4)))
    with pytest.raises(ValueError, match=r"at least one time step.*T=0"):
        m.forward(np.zeros((0, 2, 3)))
    with pytest.raises(ValueError, match=r"one sequence.*N=0"):
        m.forward(np.zeros((4, 0, 3)))
    with pytest.raises(ValueError, match=r"h0 must have shape \(N, H\) = \(2, 4\).*got shape \(1, 2, 4\)"):
        m.forward(np.zeros((5, 2, 3)), np.zeros((1, 2, 4)))
    with pytest.raises(TypeError, match="numeric"):
        m.forward(np.array([[["a", "b", "c"]]]))
    with pytest.raises(RuntimeError, match="before forward"):
        make().backward(np.zeros((5, 2, 4)))
    m.forward(np.zeros((5, 2, 3)))
    with pytest.raises(ValueError, match=r"dy must have the output's shape .*\(5, 2, 4\), got \(5, 2, 3\)"):
        m.backward(np.zeros((5, 2, 3)))


def test_bad_lstm_state_and_arguments():
    m = nt.LSTM(3, 4)
    with pytest.raises(ValueError, match=r"c0 must have shape \(N, H\) = \(2, 4\).*got shape \(2, 5\)"):
        m.forward(np.zeros((5, 2, 3)), None, np.zeros((2, 5)))
    with pytest.raises(ValueError, match="peepholes"):
        nt.LSTM(3, 4, peepholes=("x",))
    with pytest.raises(ValueError, match="activation"):
        nt.RNN(3, 4, activation="sigmoid")
    with pytest.raises(ValueError, match="init"):
        nt.GRU(3, 4, init="magic")
    with pytest.raises(ValueError, match="n_hidden must be >= 1"):
        nt.GRU(3, 0)
    s = nt.LSTM(3, 4, stateful=True)
    s.forward(np.zeros((2, 2, 3)))
    with pytest.raises(ValueError, match=r"carried state has batch size 2 but the input has N=3.*reset_state"):
        s.forward(np.zeros((2, 3, 3)))
    s.reset_state()
    assert s.forward(np.zeros((2, 3, 3))).shape == (2, 3, 4)


@pytest.mark.parametrize("cls", [nt.RNN, nt.LSTM, nt.GRU])
def test_input_grad_false_skips_dx_only(cls):
    x, h0, _, dy = _data(4, 2, 3, 5)
    a = randomise_float64(cls(3, 5, seed=0))
    b = randomise_float64(cls(3, 5, seed=0, input_grad=False))
    a.forward(x, h0)
    assert a.backward(dy) is not None
    b.forward(x, h0)
    assert b.backward(dy) is None
    for (n, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.grad, q.grad, err_msg=n)
    np.testing.assert_array_equal(a.dh0, b.dh0)
    net = nt.Sequential(nt.TimeMajor(), cls(3, 5, input_grad=False), nt.LastStep(), nt.Dense(5, 2))
    net.forward(np.ones((2, 4, 3)))
    assert net.backward(np.ones((2, 2))) is None
