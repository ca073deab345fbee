"""DBM on models small enough to enumerate (6-4-3, 5-4-3-2, and 4-3-2 with 3 labels):
every formula against brute force.

The brute-force side never calls the code under test: every joint state of every
layer is listed with itertools and its energy written out here from
``E(s) = −Σ_l b_lᵀ s_l − Σ_l s_{l−1}ᵀ W_l s_l``.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import neuronet as nt
from dbm_models import random_dbm
from neuronet.energy import dbm_exact

MODELS = [([6, 4, 3], 0), ([5, 4, 3, 2], 0), ([4, 3, 2], 3)]
IDS = ["6-4-3", "5-4-3-2", "4-3-2+3labels"]


def make_dbm(sizes, n_labels=0, seed=0, scale=0.8):
    return random_dbm(sizes, n_labels, seed, scale)


# ------------------------------------------------------------- brute force
def layer_states(n, softmax=False):
    if softmax:
        return np.eye(n)
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))


def all_states(d):
    """Every joint state as a list of per-layer arrays (rows aligned), and their count."""
    per_layer = [layer_states(n, softmax=(i == d.n_layers + 1)) for i, n in enumerate(d.widths)]
    idx = np.array(list(itertools.product(*[range(len(s)) for s in per_layer])))
    return [s[idx[:, i]] for i, s in enumerate(per_layer)]


def brute_energy(d, states, beta=1.0, base=None):
    """``−Σ b(β)·s − β Σ s W s`` with explicit sums over units."""
    W = [w.data for w in d.weights]
    b = [x.data for x in d.biases]
    e = np.zeros(len(states[0]))
    for i, s in enumerate(states):
        bias = b[i] if base is None else (1 - beta) * base[i] + beta * b[i]
        for j in range(s.shape[1]):
            e -= bias[j] * s[:, j]
        if i + 1 < len(states):
            for j in range(s.shape[1]):
                for k in range(states[i + 1].shape[1]):
                    e -= beta * W[i][j, k] * s[:, j] * states[i + 1][:, k]
    return e


def logsumexp(a, axis=None):
    m = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(m, axis=axis) + np.log(np.exp(a - m).sum(axis=axis))


def brute_log_pv(d, X):
    S = all_states(d)
    negE = -brute_energy(d, S)
    log_z = logsumexp(negE)
    keys = [tuple(r) for r in S[0]]
    out = []
    for x in X:
        m = np.array([k == tuple(x) for k in keys])
        out.append(logsumexp(negE[m]) - log_z)
    return np.array(out), log_z


def random_states(d, n, rng):
    out = []
    for i, w in enumerate(d.widths):
        if i == d.n_layers + 1:
            out.append(np.eye(w)[rng.integers(0, w, n)])
        else:
            out.append((rng.random((n, w)) < 0.5).astype(float))
    return out


# ------------------------------------------------------------------ tests
@pytest.mark.parametrize("sizes,n_labels", MODELS, ids=IDS)
def test_energy_equals_written_out_sum(sizes, n_labels):
    d = make_dbm(sizes, n_labels)
    rng = np.random.default_rng(3)
    S = random_states(d, 20, rng)
    S[1] = rng.random(S[1].shape)  # means are fine too: E is linear in each layer
    np.testing.assert_allclose(d.energy(*S), brute_energy(d, S), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("sizes,n_labels", MODELS, ids=IDS)
def test_every_conditional_equals_enumeration(sizes, n_labels):
    d = make_dbm(sizes, n_labels)
    rng = np.random.default_rng(4)
    for i in range(d.n_chain):
        softmax = i == d.n_layers + 1
        for _ in range(5):
            S = random_states(d, 1, rng)
            cand = layer_states(d.widths[i], softmax)
            full = [np.repeat(s, len(cand), axis=0) for s in S]
            full[i] = cand
            negE = -brute_energy(d, full)
            exact = np.exp(negE - logsumexp(negE))
            m = d.conditional_mean(i, S)[0]
            model = cand @ np.log(m) + (0 if softmax else (1 - cand) @ np.log(1 - m))
            np.testing.assert_allclose(np.exp(model), exact, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("sizes,n_labels", MODELS, ids=IDS)
def test_log_partition_and_log_likelihood_equal_brute_force(sizes, n_labels):
    d = make_dbm(sizes, n_labels)
    X = random_states(d, 7, np.random.default_rng(5))[0]
    log_pv, log_z = brute_log_pv(d, X)
    assert nt.energy.log_partition(d) == pytest.approx(log_z, abs=1e-10)
    np.testing.assert_allclose(dbm_exact.log_unnormalised(d, X) - log_z, log_pv, atol=1e-10)
    assert nt.energy.exact_log_likelihood(d, X) == pytest.approx(log_pv.mean(), abs=1e-10)
    # the marginal over v sums to one
    V = layer_states(sizes[0])
    assert logsumexp(dbm_exact.log_unnormalised(d, V)) == pytest.approx(log_z, abs=1e-10)
    with pytest.raises(ValueError, match="max_states"):
        nt.energy.log_partition(d, max_states=4)


@pytest.mark.parametrize("parity", [0, 1])
@pytest.mark.parametrize("sizes,n_labels", MODELS, ids=IDS)
def test_parity_marginal_on_the_annealing_path(sizes, n_labels, parity):
    """``log Σ_{other parity} e^{−E_β}`` (what AIS weighs) equals the brute-force sum at β = 0.37."""
    d = make_dbm(sizes, n_labels)
    rng = np.random.default_rng(6)
    base = [rng.normal(0, 1, w) for w in d.widths]
    S = random_states(d, 4, rng)
    W, b = dbm_exact.params64(d)
    got = dbm_exact.log_marginal(d.units, W, b, S, parity, beta=0.37, base=base)
    for r in range(4):
        full = all_states(d)
        keep = np.ones(len(full[0]), bool)
        for i in range(parity, d.n_chain, 2):
            keep &= (full[i] == S[i][r]).all(axis=1)
        full = [s[keep] for s in full]
        assert got[r] == pytest.approx(logsumexp(-brute_energy(d, full, 0.37, base)), abs=1e-10)


@pytest.mark.parametrize("sizes,n_labels", MODELS[:2], ids=IDS[:2])
def test_gibbs_sampler_joint_matches_exact_distribution(sizes, n_labels):
    d = make_dbm(sizes, n_labels, scale=0.7)
    S = all_states(d)
    p = np.exp(-brute_energy(d, S) - logsumexp(-brute_energy(d, S)))
    n = 30000
    samples = d.sample(n, steps=60, rng=np.random.default_rng(7), return_all=True)
    code = lambda states: np.concatenate(states, axis=1) @ (2.0 ** np.arange(sum(sizes)))  # noqa: E731
    order = np.argsort(code(S))
    emp = np.bincount(code(samples).astype(np.int64), minlength=len(p)) / n
    tv = 0.5 * np.abs(emp - p[order]).sum()
    # the same statistic for n exact i.i.d. draws: the sampler must be as close as that
    iid = np.random.default_rng(8).multinomial(n, p[order]) / n
    tv_iid = 0.5 * np.abs(iid - p[order]).sum()
    assert tv < 1.25 * tv_iid + 0.01, (tv, tv_iid)


@pytest.mark.parametrize("sizes,n_labels", MODELS, ids=IDS)
def test_mean_field_fixed_point_and_bound(sizes, n_labels):
    d = make_dbm(sizes, n_labels)
    X = random_states(d, 9, np.random.default_rng(9))[0]
    q = d.mean_field(X, steps=500, tol=0.0)
    states = [X] + q
    for i in range(1, d.n_chain):
        np.testing.assert_allclose(q[i - 1], d.conditional_mean(i, states), atol=1e-9)
    log_z = nt.energy.log_partition(d)
    bound = d.log_likelihood_bound(X, log_z, steps=500, tol=1e-12, per_case=True)
    exact = dbm_exact.log_unnormalised(d, X) - log_z
    assert np.all(bound <= exact + 1e-10)
    assert np.all(exact - bound > 1e-4)  # coupled layers: a real gap


@pytest.mark.parametrize("sizes", [[6, 4, 3], [5, 4, 3, 2]], ids=IDS[:2])
def test_bound_becomes_exact_as_the_hidden_layers_decouple(sizes):
    """With the hidden-to-hidden weights scaled by ε, P(h | v) tends to a factorial
    distribution and the gap log P(v) − bound falls to zero."""
    X = random_states(make_dbm(sizes), 6, np.random.default_rng(10))[0]
    gaps = []
    for eps in (1.0, 0.3, 0.1, 0.0):
        d = make_dbm(sizes)
        for w in d.weights[1:]:
            w.data *= eps
        log_z = nt.energy.log_partition(d)
        bound = d.log_likelihood_bound(X, log_z, steps=500, tol=1e-13)
        gaps.append(nt.energy.exact_log_likelihood(d, X, log_z=log_z) - bound)
    assert all(g >= -1e-10 for g in gaps)
    assert gaps[0] > gaps[1] > gaps[2] > 0 and abs(gaps[3]) < 1e-10, gaps


def test_clamped_labels_in_mean_field():
    d = make_dbm([4, 3, 2], 3)
    X = random_states(d, 5, np.random.default_rng(11))[0]
    y = np.array([0, 2, 1, 1, 0])
    q = d.mean_field(X, y=y, steps=300, tol=0.0)
    np.testing.assert_array_equal(q[-1], np.eye(3)[y])
    states = [X] + q
    np.testing.assert_allclose(q[1], d.conditional_mean(2, states), atol=1e-9)


@pytest.mark.parametrize("sizes,n_labels", MODELS, ids=IDS)
def test_each_mean_field_sweep_raises_the_bound(sizes, n_labels):
    d = make_dbm(sizes, n_labels, scale=1.2)
    X = random_states(d, 6, np.random.default_rng(12))[0]
    bounds = [d.log_likelihood_bound(X, 0.0, steps=k, tol=0.0, per_case=True) for k in range(8)]
    for before, after in zip(bounds, bounds[1:]):
        assert np.all(after >= before - 1e-12)
    assert np.any(bounds[-1] > bounds[0] + 1e-3)
