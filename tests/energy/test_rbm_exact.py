"""RBM on models small enough to sum: every formula against brute force.

The brute-force side never calls the code under test: energies are written out
here from ``E(v, h) = β_v(v) + β_h(h) − vᵀa − hᵀb − vᵀWh``, discrete layers are
enumerated, Gaussian layers integrated by Gauss–Hermite quadrature and Poisson
units summed over counts 0..80.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from numpy.polynomial.hermite_e import hermegauss

from neuronet.energy import RBM
from neuronet.energy import monitors as M

N_VIS, N_HID = 6, 4
PAIRINGS = [("bernoulli", "bernoulli"), ("gaussian", "bernoulli"), ("gaussian", "gaussian"),
            ("poisson", "bernoulli")]
ENUMERABLE = [p for p in PAIRINGS if p[1] == "bernoulli"]


def make_rbm(visible, hidden, seed=0, scale=0.4):
    rng = np.random.default_rng(seed)
    r = RBM(N_VIS, N_HID, visible, hidden, seed=seed).astype(np.float64)
    r.W.data[...] = rng.normal(0, scale if visible != "poisson" else 0.2, (N_VIS, N_HID))
    if (visible, hidden) == ("gaussian", "gaussian"):
        r.W.data *= 0.5  # keep the largest singular value of W below 1 (normalisable)
    r.a.data[...] = rng.normal(0, 0.5, N_VIS) - (0.5 if visible == "poisson" else 0)
    r.b.data[...] = rng.normal(0, 0.5, N_HID)
    return r


def data_for(visible, n=12, seed=1):
    rng = np.random.default_rng(seed)
    if visible == "bernoulli":
        return (rng.random((n, N_VIS)) < 0.5).astype(float)
    if visible == "poisson":
        return rng.poisson(1.0, (n, N_VIS)).astype(float)
    return rng.normal(0, 1, (n, N_VIS))


# ------------------------------------------------------------- brute force
def unit_states(kind, n_points=40):
    """(states, log weights) so that Σ_s w(s) f(s) ≈ Σ/∫ f(s) e^{−β(s)} over the unit's states."""
    if kind == "bernoulli":
        return np.array([0.0, 1.0]), np.zeros(2)
    if kind == "poisson":
        s = np.arange(81.0)
        return s, -np.array([math.lgamma(k + 1) for k in s])
    x, w = hermegauss(n_points)  # ∫ f(s) e^{−s²/2} ds ≈ Σ w f(x)
    return x, np.log(w)


def layer_grid(kind, n, n_points):
    s, lw = unit_states(kind, n_points)
    S = np.array(list(itertools.product(s, repeat=n)))
    LW = np.array(list(itertools.product(lw, repeat=n))).sum(axis=1)
    return S, LW


def brute_log_z(r, n_points=12):
    """log Σ_h Π_i Σ_{v_i} exp(−E): hidden layer as a grid, each visible unit 1-D."""
    W, a, b = r.W.data, r.a.data, r.b.data
    H, lwh = layer_grid(r.hidden.name, N_HID, n_points)
    s, lw = unit_states(r.visible.name)
    x = H @ W.T + a                                    # (grid, n)
    inner = np.logaddexp.reduce(s[None, None, :] * x[..., None] + lw, axis=2).sum(axis=1)
    return np.logaddexp.reduce(lwh + H @ b + inner)


def brute_free_energy(r, v, n_points=12):
    W, a, b = r.W.data, r.a.data, r.b.data
    H, lwh = layer_grid(r.hidden.name, N_HID, n_points)
    s_v, lw_v = unit_states(r.visible.name)
    base_v = np.zeros(len(v)) if r.visible.name == "bernoulli" else (
        0.5 * (v ** 2).sum(1) if r.visible.name == "gaussian"
        else np.array([[math.lgamma(c + 1) for c in row] for row in v]).sum(1))
    # −E(v, h) + log base weight of h: the hidden "energy" enters via the grid weights
    neg_e = (v @ a)[:, None] + (H @ b)[None, :] + v @ W @ H.T + lwh[None, :]
    return base_v - np.logaddexp.reduce(neg_e, axis=1)


def brute_log_likelihood(r, X, n_points=12):
    return float(-brute_free_energy(r, X, n_points).mean() - brute_log_z(r, n_points))


# ------------------------------------------------------------------ tests
@pytest.mark.parametrize("visible,hidden", PAIRINGS)
def test_free_energy_equals_brute_force(visible, hidden):
    r = make_rbm(visible, hidden)
    X = data_for(visible)
    np.testing.assert_allclose(r.free_energy(X), brute_free_energy(r, X), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("visible,hidden", PAIRINGS)
def test_log_partition_equals_brute_force(visible, hidden):
    r = make_rbm(visible, hidden)
    assert M.log_partition(r) == pytest.approx(brute_log_z(r), abs=1e-8)
    X = data_for(visible)
    assert M.exact_log_likelihood(r, X) == pytest.approx(brute_log_likelihood(r, X), abs=1e-8)


@pytest.mark.parametrize("visible,hidden", PAIRINGS)
def test_energy_and_free_energy_agree(visible, hidden):
    """F(v) = −log Σ_h e^{−E(v,h)} with E from rbm.energy (enumerable hiddens)."""
    r = make_rbm(visible, hidden)
    X = data_for(visible, n=3)
    W, a, b = r.W.data, r.a.data, r.b.data
    H = np.array(list(itertools.product([0.0, 1.0], repeat=N_HID)))
    for x in X:
        e = r.energy(np.repeat(x[None], len(H), 0), H)
        base_h = 0.5 * (H ** 2).sum(1) if hidden == "gaussian" else 0.0
        manual = -x @ a - H @ b - x @ W @ H.T + base_h
        manual = manual + (0.5 * x @ x if visible == "gaussian" else 0.0)
        manual = manual + (sum(math.lgamma(c + 1) for c in x) if visible == "poisson" else 0.0)
        np.testing.assert_allclose(e, manual, atol=1e-10)


@pytest.mark.parametrize("visible,hidden", PAIRINGS)
def test_conditionals_equal_brute_force(visible, hidden):
    """E[h|v] and E[v|h] from the joint e^{−E} normalised over the other layer's states."""
    r = make_rbm(visible, hidden)
    W, a, b = r.W.data, r.a.data, r.b.data
    X = data_for(visible, n=5)
    H, lwh = layer_grid(hidden, N_HID, 12)
    logp = X @ W @ H.T + (H @ b)[None] + lwh[None]
    P = np.exp(logp - np.logaddexp.reduce(logp, axis=1, keepdims=True))
    np.testing.assert_allclose(r.mean_hidden(X), P @ H, atol=1e-8)
    # P(h|v) factorises: the joint conditional equals the product of the unit marginals
    if hidden == "bernoulli":
        m = r.mean_hidden(X)
        prod = np.prod(np.where(H[None] == 1, m[:, None], 1 - m[:, None]), axis=2)
        np.testing.assert_allclose(prod, P, atol=1e-10)
    # P(v|h): each visible unit from its own states
    Hq = (np.random.default_rng(3).random((5, N_HID)) < 0.5).astype(float)
    if hidden == "gaussian":
        Hq = np.random.default_rng(3).normal(size=(5, N_HID))
    s, lw = unit_states(visible)
    x = Hq @ W.T + a
    lp = s[None, None] * x[..., None] + lw
    Pv = np.exp(lp - np.logaddexp.reduce(lp, axis=2, keepdims=True))
    np.testing.assert_allclose(r.mean_visible(Hq), (Pv * s).sum(2), rtol=1e-8, atol=1e-8)
    if visible == "bernoulli":  # the full 2^6 joint conditional factorises too
        Vall = np.array(list(itertools.product([0.0, 1.0], repeat=N_VIS)))
        lj = Vall @ x.T + 0 * Vall[:, :1]
        Pj = np.exp(lj - np.logaddexp.reduce(lj, axis=0, keepdims=True)).T
        m = r.mean_visible(Hq)
        prod = np.prod(np.where(Vall[None] == 1, m[:, None], 1 - m[:, None]), axis=2)
        np.testing.assert_allclose(prod, Pj, atol=1e-10)


@pytest.mark.parametrize("visible,hidden", PAIRINGS)
def test_exact_gradient_equals_finite_differences_of_brute_force(visible, hidden):
    """Exact gradient vs central differences of the brute-force mean log-likelihood.

    Every coordinate for pairings with a finite hidden layer; for Gaussian–Gaussian
    (a 4-D quadrature per evaluation) directional derivatives along random directions.
    """
    r = make_rbm(visible, hidden)
    X = data_for(visible)
    g = M.exact_gradient(r, X)
    params = [getattr(r, n).data for n in ("W", "a", "b")]
    eps = 1e-5

    def directional(direction):
        for p, d in zip(params, direction):
            p += eps * d
        up = brute_log_likelihood(r, X)
        for p, d in zip(params, direction):
            p -= 2 * eps * d
        down = brute_log_likelihood(r, X)
        for p, d in zip(params, direction):
            p += eps * d
        return -(up - down) / (2 * eps)  # gradient of the NEGATIVE log-likelihood

    if hidden == "gaussian":
        rng = np.random.default_rng(0)
        for _ in range(4):
            direction = [rng.normal(size=p.shape) for p in params]
            want = sum(float((g[n] * d).sum()) for n, d in zip("Wab", direction))
            assert directional(direction) == pytest.approx(want, abs=1e-6)
        return
    for name, p in zip("Wab", params):
        num = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            direction = [np.zeros_like(q) for q in params]
            direction["Wab".index(name)][idx] = 1.0
            num[idx] = directional(direction)
        np.testing.assert_allclose(g[name], num, atol=2e-6, err_msg=name)


LONG_CHAIN_SCALE = {"bernoulli": 1.0, "gaussian": 0.4, "poisson": 0.5}


@pytest.mark.parametrize("visible,hidden", PAIRINGS)
def test_long_chain_cd_gradient_matches_exact_gradient(visible, hidden):
    """CD-k with a long chain (sampled visibles) is unbiased for the exact gradient,
    while CD-1 on the same model is not (so the tolerance can tell them apart)."""
    r = make_rbm(visible, hidden, scale=LONG_CHAIN_SCALE[visible])
    if visible == "poisson":
        r.W.data[...] = np.random.default_rng(0).normal(0, 0.5, r.W.shape)
    X = data_for(visible, n=8)
    batch = np.repeat(X, 1500, axis=0)  # 12000 independent chains started at the data
    exact = M.exact_gradient(r, X)
    errors = {}
    for k in (60, 1):
        r.zero_grad()
        r.gradient(batch, k=k, sample_visible=True, rng=np.random.default_rng(5))
        errors[k] = max(float(np.abs(getattr(r, n).grad - exact[n]).max()) for n in "Wab")
    assert errors[60] < 0.04, errors
    assert errors[1] > 0.06, errors


@pytest.mark.parametrize("visible,hidden", PAIRINGS)
def test_pcd_chains_at_fixed_parameters_give_exact_gradient(visible, hidden):
    """Persistent chains, updated by one Gibbs step per call, converge to the model."""
    r = make_rbm(visible, hidden, scale=LONG_CHAIN_SCALE[visible])
    X = data_for(visible, n=8)
    exact = M.exact_gradient(r, X)
    for i in range(60):
        r.zero_grad()
        r.gradient(X, k=1, persistent=True, n_chains=12000, sample_visible=True, rng=np.random.default_rng(i))
    err = max(float(np.abs(getattr(r, n).grad - exact[n]).max()) for n in "Wab")
    assert err < 0.04, err


@pytest.mark.parametrize("visible,hidden", ENUMERABLE)
def test_sampler_matches_exact_hidden_marginal(visible, hidden):
    """Empirical distribution of h from Gibbs chains vs P(h) ∝ e^{hᵀb} Π_i Σ_{v_i} e^{v_i(a+Wh)_i − β(v_i)}."""
    r = make_rbm(visible, hidden, seed=4)
    W, a, b = r.W.data, r.a.data, r.b.data
    H = np.array(list(itertools.product([0.0, 1.0], repeat=N_HID)))
    s, lw = unit_states(visible)
    x = H @ W.T + a
    logp = H @ b + np.logaddexp.reduce(s[None, None] * x[..., None] + lw, axis=2).sum(1)
    p = np.exp(logp - np.logaddexp.reduce(logp))
    rng = np.random.default_rng(11)
    v = r.sample(40000, steps=30, rng=rng)
    h = r.sample_hidden(v, rng=rng)
    codes = (h @ (2 ** np.arange(N_HID)[::-1])).astype(int)  # itertools.product order
    emp = np.bincount(codes, minlength=len(H)) / len(codes)
    tv = 0.5 * np.abs(emp - p).sum()
    assert tv < 0.02, tv


def test_sampler_matches_exact_visible_distribution_bernoulli():
    r = make_rbm("bernoulli", "bernoulli", seed=6, scale=1.0)
    Vall = np.array(list(itertools.product([0.0, 1.0], repeat=N_VIS)))
    logp = -brute_free_energy(r, Vall)
    p = np.exp(logp - np.logaddexp.reduce(logp))
    v = r.sample(40000, steps=50, rng=np.random.default_rng(2))
    codes = (v @ (2 ** np.arange(N_VIS)[::-1])).astype(int)
    emp = np.bincount(codes, minlength=64) / len(codes)
    tv = 0.5 * np.abs(emp - p).sum()
    assert tv < 0.03, tv
    # a sampler that ignores the weights is far off: the bound is tight enough to fail
    v0 = r.sample(40000, steps=1, rng=np.random.default_rng(2), init=np.zeros((40000, N_VIS)))
    emp0 = np.bincount((v0 @ (2 ** np.arange(N_VIS)[::-1])).astype(int), minlength=64) / 40000
    assert 0.5 * np.abs(emp0 - p).sum() > 0.05


def test_gaussian_gaussian_sampler_moments():
    """GG: Gibbs samples have the closed-form mean P⁻¹c and covariance P⁻¹ of v."""
    r = make_rbm("gaussian", "gaussian", seed=2)
    W, a, b = r.W.data, r.a.data, r.b.data
    n = N_VIS
    P = np.block([[np.eye(n), -W], [-W.T, np.eye(N_HID)]])
    cov = np.linalg.inv(P)
    mu = cov @ np.concatenate([a, b])
    v = r.sample(40000, steps=40, rng=np.random.default_rng(0))
    np.testing.assert_allclose(v.mean(0), mu[:n], atol=0.04)
    np.testing.assert_allclose(np.cov(v.T), cov[:n, :n], atol=0.05)


def test_unit_sigmoid_equals_shared_sigmoid():
    """BernoulliUnits.mean is the shared annealing.sigmoid, computed in place, and equals
    SciPy's expit (an independent implementation) without overflow at ±1000."""
    from scipy.special import expit

    from neuronet.energy.annealing import sigmoid
    from neuronet.energy.units import BernoulliUnits

    for dt in (np.float32, np.float64):
        x = np.random.default_rng(0).normal(0, 20, (50, 30)).astype(dt)
        x[0, :3] = [-1000, 1000, 0]
        out = np.empty_like(x)
        got = BernoulliUnits().mean(x, out=out)
        assert got is out and got.dtype == dt
        tol = 1e-6 if dt == np.float32 else 1e-14
        np.testing.assert_allclose(got, sigmoid(x), rtol=tol, atol=1e-30)
        np.testing.assert_allclose(got, expit(x.astype(np.float64)), rtol=tol, atol=1e-30)


def test_composite_visible_layer_pixels_and_labels_against_brute_force():
    """3 Bernoulli units + a softmax group of 3 labels: Z, F, P(v|h), gradient, sampler."""
    rng = np.random.default_rng(0)
    r = RBM(6, N_HID, "bernoulli*3+softmax:3*3", seed=0).astype(np.float64)
    assert r.visible.spec() == "bernoulli*3+softmax:3*3" and r.visible.discrete
    r.W.data[...] = rng.normal(0, 1.0, (6, N_HID))
    r.a.data[...] = rng.normal(0, 0.5, 6)
    r.b.data[...] = rng.normal(0, 0.5, N_HID)
    bits = np.array(list(itertools.product([0.0, 1.0], repeat=3)))
    labels = np.eye(3)
    Vall = np.array([np.concatenate([x, y]) for x in bits for y in labels])  # all 24 legal states
    H = np.array(list(itertools.product([0.0, 1.0], repeat=N_HID)))
    W, a, b = r.W.data, r.a.data, r.b.data

    def brute_logp(W, a, b):
        neg_e = (Vall @ a)[:, None] + (H @ b)[None] + Vall @ W @ H.T
        log_pv = np.logaddexp.reduce(neg_e, axis=1)
        return log_pv - np.logaddexp.reduce(log_pv)

    logp = brute_logp(W, a, b)
    assert M.log_partition(r) == pytest.approx(np.logaddexp.reduce(
        np.logaddexp.reduce((Vall @ a)[:, None] + (H @ b)[None] + Vall @ W @ H.T, axis=1)), abs=1e-10)
    X = Vall[rng.integers(0, 24, 10)]
    assert M.exact_log_likelihood(r, X) == pytest.approx(
        logp[[int(np.flatnonzero((Vall == x).all(1))[0]) for x in X]].mean(), abs=1e-10)
    # P(v | h): Bernoulli block sigmoid, label block softmax
    x = H @ W.T + a
    m = r.mean_visible(H)
    np.testing.assert_allclose(m[:, :3], 1 / (1 + np.exp(-x[:, :3])), atol=1e-12)
    np.testing.assert_allclose(m[:, 3:], np.exp(x[:, 3:]) / np.exp(x[:, 3:]).sum(1, keepdims=True), atol=1e-12)
    # exact gradient = finite differences of the brute-force log-likelihood (one W entry, one label bias)
    g = M.exact_gradient(r, X)
    idx = [int(np.flatnonzero((Vall == x).all(1))[0]) for x in X]
    for name, pos in (("W", (4, 1)), ("a", (5,))):
        p = getattr(r, name).data
        old, eps = p[pos], 1e-6
        p[pos] = old + eps
        up = brute_logp(r.W.data, r.a.data, r.b.data)[idx].mean()
        p[pos] = old - eps
        down = brute_logp(r.W.data, r.a.data, r.b.data)[idx].mean()
        p[pos] = old
        assert g[name][pos] == pytest.approx(-(up - down) / (2 * eps), abs=1e-6)
    # the sampler visits the 24 legal states with the exact probabilities
    v = r.sample(30000, steps=30, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(v[:, 3:].sum(1), 1)
    codes = (v[:, :3] @ [4, 2, 1]) * 3 + v[:, 3:] @ [0, 1, 2]
    emp = np.bincount(codes.astype(int), minlength=24) / len(v)
    assert 0.5 * np.abs(emp - np.exp(logp)).sum() < 0.03
