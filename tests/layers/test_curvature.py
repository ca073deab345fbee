"""Curvature pass (OBD, diagonal Gauss-Newton) against PyTorch Jacobians and Hessians."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from test_dense_activations import CASES, _build, _t

import neuronet as nt
from neuronet.layers import Sequential

TOL = 1e-8
SINGLE = [(n, s) for n, (_, _, shapes) in CASES.items() for s in shapes
          if n not in ("sequential", "concat")]


def _jac(fn, args, i):
    """Jacobian of ``fn(*args)`` with respect to ``args[i]`` as a (Y, X) matrix."""
    def f(z):
        a = list(args)
        a[i] = z
        return fn(*a)
    j = torch.autograd.functional.jacobian(f, args[i])
    y_size = int(np.prod(j.shape[: j.ndim - args[i].ndim]))
    return j.reshape(y_size, -1).numpy()


@pytest.mark.parametrize("name,shape", SINGLE)
def test_layer_curvature_is_gauss_newton_of_its_jacobian(name, shape):
    """``∂²E/∂z_j² = Σ_i (∂y_i/∂z_j)² ∂²E/∂y_i²`` for the input and every parameter."""
    module, fn, x, rng = _build(name, shape)
    for p in module.parameters():
        p.data[...] = rng.standard_normal(p.shape) * 0.7
    y = module.forward(x)
    d2y = rng.uniform(0.1, 1.0, y.shape)
    module.zero_curv()
    d2x = module.backward_curvature(d2y)
    args = [_t(x)] + [_t(p.data) for p in module.parameters()]
    for i, (label, got) in enumerate([("input", d2x)] + [(p.name, p.curv) for p in module.parameters()]):
        j = _jac(fn, args, i)
        want = (j ** 2).T @ d2y.reshape(-1)
        np.testing.assert_allclose(got.reshape(-1), want, rtol=TOL, atol=TOL, err_msg=label)


def _flat_hessian_diag(loss_of_params, params):
    flat = torch.cat([p.reshape(-1) for p in params])
    sizes = [p.numel() for p in params]

    def f(z):
        parts, k = [], 0
        for p, s in zip(params, sizes):
            parts.append(z[k:k + s].reshape(p.shape))
            k += s
        return loss_of_params(*parts)
    h = torch.autograd.functional.hessian(f, flat)
    return torch.diagonal(h).numpy()


@pytest.mark.parametrize("layers,n", [((5, 3), 4), ((5, 4, 3), 6), ((3, 2), 1), ((4, 6, 1), 1)])
def test_linear_net_with_mse_curvature_is_exact_hessian_diagonal(layers, n):
    rng = np.random.default_rng(len(layers) * 10 + n)
    dense = [nt.Dense(a, b, seed=i) for i, (a, b) in enumerate(zip(layers, layers[1:]))]
    net = Sequential(*dense).astype(np.float64)
    for p in net.parameters():
        p.data[...] = rng.standard_normal(p.shape)
    x = rng.standard_normal((n, layers[0]))
    t = rng.standard_normal((n, layers[-1]))
    loss = nt.MSE()
    loss(net.forward(x), t)
    net.zero_curv()
    net.backward_curvature(loss.backward_curvature())
    got = np.concatenate([p.curv.reshape(-1) for p in net.parameters()])

    def torch_loss(*ps):
        h = _t(x)
        for W, b in zip(ps[::2], ps[1::2]):
            h = h @ W + b
        return 0.5 * ((h - _t(t)) ** 2).sum() / n
    want = _flat_hessian_diag(torch_loss, [_t(p.data) for p in net.parameters()])
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("act", ["Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Softplus"])
def test_one_hidden_layer_mse_curvature_is_gauss_newton_diagonal(act):
    """With MSE and one hidden layer no cross terms are dropped: the pass gives
    the exact diagonal of the Gauss-Newton matrix ``(1/N) Σ_n J_nᵀ J_n``."""
    rng = np.random.default_rng(7)
    n, d, h, k = 5, 4, 6, 3
    act_mod = getattr(nt, act)()
    net = Sequential(nt.Dense(d, h, seed=1), act_mod, nt.Dense(h, k, seed=2)).astype(np.float64)
    x = rng.standard_normal((n, d))
    x[np.abs(x) < 1e-3] = 0.1
    loss = nt.MSE()
    loss(net.forward(x), rng.standard_normal((n, k)))
    net.zero_curv()
    net.backward_curvature(loss.backward_curvature())
    got = np.concatenate([p.curv.reshape(-1) for p in net.parameters()])

    f_act = {"Sigmoid": torch.sigmoid, "Tanh": torch.tanh, "ReLU": torch.relu,
             "LeakyReLU": lambda a: torch.nn.functional.leaky_relu(a, 0.01),
             "Softplus": torch.nn.functional.softplus}[act]
    params = [_t(p.data) for p in net.parameters()]
    flat = torch.cat([p.reshape(-1) for p in params])

    def out(z):
        W1, b1 = z[: d * h].reshape(d, h), z[d * h: d * h + h]
        r = z[d * h + h:]
        W2, b2 = r[: h * k].reshape(h, k), r[h * k:]
        return f_act(_t(x) @ W1 + b1) @ W2 + b2
    J = torch.autograd.functional.jacobian(out, flat).reshape(n * k, -1).numpy()
    want = (J ** 2).sum(axis=0) / n
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_curvature_accumulates_and_zero_curv_resets():
    m = nt.Dense(3, 2, seed=0).astype(np.float64)
    m.forward(np.ones((2, 3)))
    m.backward_curvature(np.ones((2, 2)))
    c = m.W.curv.copy()
    m.backward_curvature(np.ones((2, 2)))
    np.testing.assert_allclose(m.W.curv, 2 * c)
    m.zero_curv()
    assert np.all(m.W.curv == 0)


def test_threshold_has_no_curvature():
    t = nt.Threshold()
    t.forward(np.zeros((1, 2)))
    with pytest.raises(RuntimeError, match="inference only"):
        t.backward_curvature(np.ones((1, 2)))
