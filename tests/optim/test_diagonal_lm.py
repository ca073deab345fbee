"""The diagonal Levenberg–Marquardt rule: each step is lr/(μ + h) times the gradient,
the curvature estimate (replaced or running), momentum, resume, bad input, LeNet-5."""
from __future__ import annotations

import json

import numpy as np
import pytest

import neuronet as nt
from neuronet.module import Parameter
from neuronet.optim import DiagonalLM
from neuronet.surgery import CurvatureEstimate, data_curvature


def _setup(seed=0, **kw):
    rng = np.random.default_rng(seed)
    params = [Parameter(rng.standard_normal(s)) for s in [(3, 4), (4,)]]
    opt = DiagonalLM(params, lr=0.1, mu=0.05, **kw)
    h = [rng.uniform(0, 2, p.shape) for p in params]
    grads = [[rng.standard_normal(p.shape) for p in params] for _ in range(4)]
    return params, opt, h, grads


def test_step_is_lr_over_mu_plus_h_times_gradient():
    params, opt, h, grads = _setup()
    opt.update_curvature(h)
    for gs in grads:
        w0 = [p.data.copy() for p in params]
        for p, g in zip(params, gs):
            p.grad[...] = g
        opt.step()
        for p, w, g, hk in zip(params, w0, gs, h):
            np.testing.assert_allclose(p.data, w - 0.1 / (0.05 + hk) * g, rtol=1e-14)
    for eta, hk in zip(opt.step_sizes(), h):
        np.testing.assert_allclose(eta, 0.1 / (0.05 + hk))


def test_momentum_accumulates_the_scaled_gradient():
    params, opt, h, grads = _setup(momentum=0.9)
    opt.update_curvature(h)
    v = [np.zeros(p.shape) for p in params]
    w = [p.data.copy() for p in params]
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad[...] = g
        opt.step()
        for k, (g, hk) in enumerate(zip(gs, h)):
            v[k] = 0.9 * v[k] + g / (0.05 + hk)
            w[k] = w[k] - 0.1 * v[k]
            np.testing.assert_allclose(params[k].data, w[k], rtol=1e-13)


def test_running_estimate_of_h():
    params, opt, h, _ = _setup(decay=0.25)
    opt.update_curvature(h)
    h2 = [2 * x + 1 for x in h]
    opt.update_curvature(h2)
    for st, a, b in zip(opt.state, h, h2):
        np.testing.assert_allclose(st["h"], 0.75 * a + 0.25 * b)
    # from the parameters' curv, as the curvature pass leaves it
    for p, c in zip(params, h):
        p.curv = c.copy()
    opt2 = DiagonalLM(params, lr=0.1)
    opt2.update_curvature()
    for st, c in zip(opt2.state, h):
        np.testing.assert_array_equal(st["h"], c)


def test_state_dict_resume_is_exact():
    params, opt, h, grads = _setup(momentum=0.5, decay=0.5)
    opt.update_curvature(h)
    for gs in grads[:2]:
        for p, g in zip(params, gs):
            p.grad[...] = g
        opt.step()
    sd = opt.state_dict()
    sd = {**sd, "hyper": json.loads(json.dumps(sd["hyper"]))}
    copy = [Parameter(p.data.copy()) for p in params]
    opt2 = DiagonalLM(copy, lr=1.0)
    opt2.load_state_dict(sd)
    for gs in grads[2:]:
        for ps in (params, copy):
            for p, g in zip(ps, gs):
                p.grad[...] = g
        opt.step()
        opt2.step()
    for a, b in zip(params, copy):
        np.testing.assert_array_equal(a.data, b.data)


def test_bad_input_is_named():
    p = [Parameter(np.zeros(3))]
    for mu in (0, -0.1):
        with pytest.raises(ValueError, match=f"mu must be > 0, got {mu}"):
            DiagonalLM(p, lr=0.1, mu=mu)
    with pytest.raises(ValueError, match="decay must be in"):
        DiagonalLM(p, lr=0.1, decay=0)
    opt = DiagonalLM(p, lr=0.1)
    p[0].grad[...] = 1
    with pytest.raises(RuntimeError, match="no curvature estimate yet"):
        opt.step()
    with pytest.raises(ValueError, match=r"must have shape \(3,\), got \(4,\)"):
        opt.update_curvature([np.zeros(4)])
    with pytest.raises(ValueError, match="has no curvature"):
        opt.update_curvature()


def _classifier_problem(seed, n, **lm):
    """Data, a 5-6-3 tanh net in float64, softmax cross-entropy and a DiagonalLM on it."""
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((n, 5)), rng.integers(0, 3, n)
    net = nt.layers.Sequential(nt.Dense(5, 6, seed=0), nt.Tanh(), nt.Dense(6, 3, seed=1))
    net.astype(np.float64)
    return x, y, net, nt.SoftmaxCrossEntropy(), DiagonalLM(net, lr=0.01, **lm)


def test_curvature_estimate_callback_sets_h_from_a_fixed_subset():
    x, y, net, loss, opt = _classifier_problem(3, 300)
    cb = CurvatureEstimate(loss, x, y, n_samples=50, seed=4)
    assert len(cb.X) == 50
    nt.fit(net, loss, opt, x, y, epochs=1, batch_size=300, shuffle=False, callbacks=[cb])
    # h was estimated before the epoch's one step; redo it from the same weights
    for p, st in zip(net.parameters(), opt.state):
        p.data += 0.01 / (0.02 + st["h"]) * p.grad
    want = [c.copy() for c in data_curvature(net, loss, cb.X, cb.y)]
    for st, w in zip(opt.state, want):
        np.testing.assert_allclose(st["h"], w, rtol=1e-10, atol=1e-15)


def test_running_estimate_after_every_batch():
    x, y, net, loss, opt = _classifier_problem(5, 40, decay=0.25)
    seen = []

    class Spy(nt.train.callbacks.Callback):       # h before each batch's update of h
        def on_batch_end(self, trainer, batch, L):
            seen.append([st["h"].copy() for st in opt.state])
    cb = CurvatureEstimate(loss, x, y, n_samples=40, running=True)
    nt.fit(net, loss, opt, x, y, epochs=1, batch_size=20, shuffle=False, callbacks=[Spy(), cb])
    # after the 2nd batch: h = 0.75 h_before + 0.25 · that batch's curvature, from the
    # forward pass the step ran (before its update; the update is undone to redo it)
    for p, st, h in zip(net.parameters(), opt.state, seen[1]):
        p.data += 0.01 / (0.02 + h) * p.grad
    loss.forward(net.forward(x[20:]), y[20:])
    net.zero_curv()
    net.backward_curvature(loss.backward_curvature())
    for k in (2, 3):    # the output layer's curvature needs only that forward pass
        want = 0.75 * seen[1][k] + 0.25 * net.parameters()[k].curv
        np.testing.assert_allclose(opt.state[k]["h"], want, rtol=1e-10, atol=1e-15)


def test_trains_lenet5_on_mnist(data_dir):
    X, y = nt.data.load_mnist("train")
    X = nt.data.to_float(X[:1200])
    y = y[:1200]
    net = nt.models.LeNet5(seed=0)
    loss = nt.SoftmaxCrossEntropy()
    opt = DiagonalLM(net, lr=5e-4, mu=0.02)
    before = nt.evaluate(net, loss, X, y)
    hist = nt.fit(net, loss, opt, X[:1000], y[:1000], epochs=2, batch_size=1, seed=0,
                  callbacks=[CurvatureEstimate(loss, X[:1000], y[:1000], n_samples=200)])
    after = nt.evaluate(net, loss, X[1000:], y[1000:])
    assert hist["loss"][1] < hist["loss"][0] < before["loss"]
    assert after["accuracy"] > 0.8          # from chance (0.1) in 2000 steps
