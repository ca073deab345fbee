"""Optimisers: ten steps on fixed gradients equal torch.optim (float64), L1 the lecture's
formula, exact resume from state_dict, masks, clipping and argument checks."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import neuronet as nt
from neuronet.module import Parameter
from neuronet.optim import (SGD, AdaDelta, Adam, Momentum, Nadam, Nesterov, RMSProp,
                            clip_grad_norm)

SHAPES = [(3, 4), (4,), (1, 1)]
STEPS = 10


def _grads(seed=0, steps=STEPS):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s) for s in SHAPES] for _ in range(steps)]


def _start(seed=1):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in SHAPES]


# name -> (our factory, torch factory); kwargs shared by both where names agree
RULES = {
    "sgd": (lambda ps, **k: SGD(ps, lr=0.1, **k), lambda ps, **k: torch.optim.SGD(ps, lr=0.1, **k)),
    "momentum": (lambda ps, **k: Momentum(ps, lr=0.05, momentum=0.8, **k),
                 lambda ps, **k: torch.optim.SGD(ps, lr=0.05, momentum=0.8, **k)),
    "nesterov": (lambda ps, **k: Nesterov(ps, lr=0.05, momentum=0.9, **k),
                 lambda ps, **k: torch.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, **k)),
    "rmsprop": (lambda ps, **k: RMSProp(ps, lr=0.01, alpha=0.9, **k),
                lambda ps, **k: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9, **k)),
    "rmsprop_centered_momentum": (
        lambda ps, **k: RMSProp(ps, lr=0.01, centered=True, momentum=0.5, **k),
        lambda ps, **k: torch.optim.RMSprop(ps, lr=0.01, centered=True, momentum=0.5, **k)),
    "adadelta": (lambda ps, **k: AdaDelta(ps, lr=1.0, rho=0.9, **k),
                 lambda ps, **k: torch.optim.Adadelta(ps, lr=1.0, rho=0.9, **k)),
    "adam": (lambda ps, **k: Adam(ps, lr=0.01, betas=(0.8, 0.99), **k),
             lambda ps, **k: torch.optim.Adam(ps, lr=0.01, betas=(0.8, 0.99), **k)),
    "nadam_torch": (lambda ps, **k: Nadam(ps, lr=0.01, momentum_decay=0.004, **k),
                    lambda ps, **k: torch.optim.NAdam(ps, lr=0.01, momentum_decay=0.004, **k)),
}
OURS = {name: ours for name, (ours, _) in RULES.items()}
OURS["nadam_lecture"] = lambda ps, **k: Nadam(ps, lr=0.01, **k)


def _run_ours(make, grads, start, **kw):
    params = [Parameter(w.copy()) for w in start]
    opt = make(params, **kw)
    traj = []
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad[...] = g
        opt.step()
        traj.append([p.data.copy() for p in params])
    return traj, opt, params


@pytest.mark.parametrize("wd", [0.0, 0.1])
@pytest.mark.parametrize("l1", [0.0, 0.05])
@pytest.mark.parametrize("name", list(RULES))
def test_ten_steps_equal_torch(name, wd, l1):
    ours, theirs = RULES[name]
    grads, start = _grads(), _start()
    traj, _, _ = _run_ours(ours, grads, start, weight_decay=wd, l1=l1)
    tp = [torch.tensor(w.copy(), requires_grad=True) for w in start]
    topt = theirs(tp, weight_decay=wd)
    for k, gs in enumerate(grads):
        # L1 is added to the gradient as the subgradient λ₁·sign(w), so torch gets it the same way.
        for p, g in zip(tp, gs):
            p.grad = torch.tensor(g) + l1 * torch.sign(p.detach())
        topt.step()
        for a, b in zip(traj[k], tp):
            np.testing.assert_allclose(a, b.detach().numpy(), rtol=1e-6, atol=1e-9,
                                       err_msg=f"step {k + 1}")


def _nadam_lecture(grads, start, lr=0.01, b1=0.9, b2=0.999, eps=1e-8, wd=0.0, l1=0.0):
    """The lecture's Nadam written out: w -= η(γ v̂ + (1−γ)/(1−γ^k) g) ⊘ (√Ĝ + ε)."""
    w = [s.copy() for s in start]
    v = [np.zeros_like(s) for s in start]
    G = [np.zeros_like(s) for s in start]
    out = []
    for k, gs in enumerate(grads, 1):
        for i, g in enumerate(gs):
            g = g + wd * w[i] + l1 * np.sign(w[i])
            v[i] = b1 * v[i] + (1 - b1) * g
            G[i] = b2 * G[i] + (1 - b2) * g * g
            vh, Gh = v[i] / (1 - b1 ** k), G[i] / (1 - b2 ** k)
            w[i] = w[i] - lr * (b1 * vh + (1 - b1) / (1 - b1 ** k) * g) / (np.sqrt(Gh) + eps)
        out.append([a.copy() for a in w])
    return out


@pytest.mark.parametrize("wd,l1", [(0.0, 0.0), (0.1, 0.0), (0.0, 0.05)])
def test_nadam_default_is_the_lecture_formula(wd, l1):
    grads, start = _grads(2), _start(3)
    traj, _, _ = _run_ours(OURS["nadam_lecture"], grads, start, weight_decay=wd, l1=l1)
    for a, b in zip(traj, _nadam_lecture(grads, start, wd=wd, l1=l1)):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12)


def test_sgd_l2_and_l1_are_the_lecture_formulas():
    grads, start = _grads(4), _start(5)
    eta, lam, lam1 = 0.1, 0.3, 0.02
    traj, _, _ = _run_ours(lambda ps, **k: SGD(ps, lr=eta, **k), grads, start, weight_decay=lam, l1=lam1)
    w = [s.copy() for s in start]
    for k, gs in enumerate(grads):
        # w := w(1 − ηλ) − η(∇ + λ₁ sign w)
        w = [wi * (1 - eta * lam) - eta * (g + lam1 * np.sign(wi)) for wi, g in zip(w, gs)]
        for a, b in zip(traj[k], w):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_momentum_is_polyak_with_constant_lr():
    grads, start = _grads(6), _start(7)
    eta, gamma = 0.05, 0.9
    traj, _, _ = _run_ours(lambda ps, **k: Momentum(ps, lr=eta, momentum=gamma), grads, start)
    w = [s.copy() for s in start]
    v = [np.zeros_like(s) for s in start]
    for k, gs in enumerate(grads):
        v = [gamma * vi + eta * g for vi, g in zip(v, gs)]  # v := γv + η∇, w := w − v
        w = [wi - vi for wi, vi in zip(w, v)]
        for a, b in zip(traj[k], w):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_lr_is_a_settable_attribute_like_torch():
    grads, start = _grads(8), _start(9)
    params = [Parameter(w.copy()) for w in start]
    opt = Momentum(params, lr=0.1, momentum=0.9)
    tp = [torch.tensor(w.copy(), requires_grad=True) for w in start]
    topt = torch.optim.SGD(tp, lr=0.1, momentum=0.9)
    for k, gs in enumerate(grads):
        opt.lr = topt.param_groups[0]["lr"] = 0.1 / (1 + k)
        for p, q, g in zip(params, tp, gs):
            p.grad[...] = g
            q.grad = torch.tensor(g)
        opt.step()
        topt.step()
    for p, q in zip(params, tp):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-10)


@pytest.mark.parametrize("name", list(OURS))
def test_state_dict_resume_gives_identical_trajectory(name):
    grads, start = _grads(10), _start(11)
    full, _, _ = _run_ours(OURS[name], grads, start, weight_decay=0.01)
    half, opt, params = _run_ours(OURS[name], grads[:5], start, weight_decay=0.01)
    state = opt.state_dict()
    # a checkpoint round trip: hyper-parameters through JSON, arrays as NumPy (0-d for scalars)
    state = {"type": state["type"], "hyper": json.loads(json.dumps(state["hyper"])), "t": state["t"],
             "state": {k: np.array(v) for k, v in state["state"].items()}}
    fresh = [Parameter(p.data.copy()) for p in params]
    opt2 = OURS[name](fresh, weight_decay=0.5)  # wrong hyper-parameter, restored by the load
    opt2.load_state_dict(state)
    assert opt2.weight_decay == 0.01 and opt2.t == 5
    for k, gs in enumerate(grads[5:], 5):
        for p, g in zip(fresh, gs):
            p.grad[...] = g
        opt2.step()
        for a, b in zip(full[k], fresh):
            np.testing.assert_array_equal(a, b.data)


def test_load_state_dict_rejects_another_rule_or_shape():
    p = [Parameter(np.zeros(3))]
    sd = Adam(p).state_dict()
    with pytest.raises(ValueError, match="for optimizer 'Adam', this is SGD"):
        SGD(p).load_state_dict(sd)
    opt = Adam(p)
    p[0].grad[...] = 1
    opt.step()
    sd = opt.state_dict()
    with pytest.raises(ValueError, match=r"shape \(3,\), parameter 0 has \(4,\)"):
        Adam([Parameter(np.zeros(4))]).load_state_dict(sd)


@pytest.mark.parametrize("name", list(OURS))
def test_masked_weights_stay_exactly_zero(name):
    rng = np.random.default_rng(12)
    w = rng.standard_normal((5, 4))
    mask = rng.uniform(size=w.shape) > 0.4
    p = Parameter(w.copy(), mask=mask)
    opt = OURS[name]([p], weight_decay=0.1, l1=0.01)
    for _ in range(STEPS):
        p.grad[...] = rng.standard_normal(w.shape)  # gradients everywhere, pruned entries too
        opt.step()
    assert np.all(p.data[~mask] == 0.0)
    assert np.all(p.data[mask] != w[mask])


def test_optimisers_take_a_module_and_train_it():
    net = nt.layers.Sequential(nt.Dense(2, 8, seed=0), nt.Tanh(), nt.Dense(8, 1, seed=1)).astype(np.float64)
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    t = np.array([[0], [1], [1], [0]], dtype=float)
    loss = nt.MSE()
    opt = Adam(net, lr=0.05)
    first = loss(net.forward(x), t)
    for _ in range(300):
        opt.zero_grad()
        loss(net.forward(x), t)
        net.backward(loss.backward())
        opt.step()
    assert loss(net.forward(x), t) < 0.01 < first


# --------------------------------------------------------------- clipping
@pytest.mark.parametrize("max_norm,norm_type", [(0.5, 2.0), (100.0, 2.0), (0.3, float("inf")),
                                                (1.0, 1.0)])
def test_clip_grad_norm_matches_torch(max_norm, norm_type):
    grads = _grads(13, 1)[0]
    params = [Parameter(np.zeros(s)) for s in SHAPES]
    for p, g in zip(params, grads):
        p.grad[...] = g
    tp = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in SHAPES]
    for p, g in zip(tp, grads):
        p.grad = torch.tensor(g)
    total = clip_grad_norm(params, max_norm, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tp, max_norm, norm_type)
    assert np.isclose(total, ttotal.item(), rtol=1e-12)
    for p, q in zip(params, tp):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-12)


def test_clip_is_the_lecture_rule():
    p = Parameter(np.zeros(2))
    p.grad[...] = [3.0, 4.0]
    assert clip_grad_norm([p], 1.0) == 5.0
    np.testing.assert_allclose(p.grad, [0.6, 0.8], rtol=1e-6)  # g := gθ/‖g‖


def test_clip_ignores_pruned_entries():
    # the pruned entry's gradient (100) is never applied, so it must not shrink the rest
    p = Parameter(np.zeros(3), mask=[True, True, False])
    p.grad[...] = [3.0, 4.0, 100.0]
    assert clip_grad_norm([p], 10.0) == 5.0
    np.testing.assert_array_equal(p.grad[:2], [3.0, 4.0])
    assert clip_grad_norm([p], 1.0, float("inf")) == 4.0
    np.testing.assert_allclose(p.grad[:2], [0.75, 1.0], rtol=1e-6)


# --------------------------------------------------------------- bad input
def test_empty_parameter_list():
    with pytest.raises(ValueError, match="empty parameter list: expected at least one Parameter"):
        SGD([], lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        Adam(nt.ReLU())
    with pytest.raises(ValueError, match="empty parameter list"):
        clip_grad_norm([], 1.0)


@pytest.mark.parametrize("cls", [SGD, Momentum, Nesterov, RMSProp, AdaDelta, Adam, Nadam])
def test_non_positive_learning_rate(cls):
    p = [Parameter(np.zeros(2))]
    with pytest.raises(ValueError, match="lr must be > 0, got 0"):
        cls(p, lr=0)
    with pytest.raises(ValueError, match="lr must be > 0, got -0.1"):
        cls(p, lr=-0.1)
    with pytest.raises(TypeError, match="lr must be a number, got str"):
        cls(p, lr="0.1")


def test_other_bad_arguments():
    p = [Parameter(np.zeros(2))]
    with pytest.raises(TypeError, match="item 0 is ndarray"):
        SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match="weight_decay must be >= 0"):
        Adam(p, weight_decay=-1)
    with pytest.raises(ValueError, match=r"betas\[1\] must be in \[0, 1\)"):
        Adam(p, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="nesterov=True needs momentum > 0"):
        SGD(p, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="max_norm must be > 0"):
        clip_grad_norm(p, 0)


def test_nesterov_tracks_the_lecture_look_ahead_point():
    """Lecture NAG: ``v := γv + η∇E(w − γv)``, ``w := w − v``. The optimiser's
    parameter is the look-ahead point ``θ = w − γv`` of that sequence, exactly."""
    rng = np.random.default_rng(15)
    m = rng.standard_normal((4, 4))
    A, b = m @ m.T + np.eye(4), rng.standard_normal(4)  # E(w) = ½wᵀAw − bᵀw

    def grad(w):
        return A @ w - b

    eta, gamma = 0.02, 0.9
    w, v = rng.standard_normal(4), np.zeros(4)
    p = Parameter(w.copy())
    opt = Nesterov([p], lr=eta, momentum=gamma)
    for _ in range(STEPS):
        v = gamma * v + eta * grad(w - gamma * v)
        w = w - v
        p.zero_grad()
        p.grad += grad(p.data)
        opt.step()
        np.testing.assert_allclose(p.data, w - gamma * v, rtol=1e-12, atol=1e-12)
