"""Boltzmann machine: exact enumeration, Gibbs sampling, annealing, learning, bad input."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import neuronet as nt
from neuronet.energy.annealing import gibbs_sweep
from neuronet.energy.boltzmann import (BoltzmannMachine, data_distribution, enumerate_states,
                                       kl_divergence, states_to_index)


def random_machine(rng, n, n_visible=None, scale=1.0):
    A = rng.normal(0, scale, size=(n, n))
    W = np.triu(A, 1)
    return BoltzmannMachine.from_weights(W + W.T, rng.normal(0, 0.5, n), n_visible=n_visible,
                                         dtype="float64")


def binary_rows(n):
    """All of {0,1}^n, row k the number k in binary with unit 0 the least significant bit
    (itertools.product varies the last position fastest, so its columns are reversed)."""
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))[:, ::-1]


def brute_force(bm, T=1.0):
    """Every state and its probability, from the energy formula written out elementwise."""
    W, b, n = bm.W.data, bm.b.data, bm.n
    states = binary_rows(n)
    E = np.array([-sum(b[i] * s[i] for i in range(n))
                  - sum(W[i, j] * s[i] * s[j] for i in range(n) for j in range(i + 1, n)) for s in states])
    w = np.exp(-E / T)
    return states, E, w / w.sum(), np.log(w.sum())


# ------------------------------------------------------------------ exact
@pytest.mark.parametrize("T", [1.0, 0.5, 3.0])
def test_enumeration_matches_brute_force(rng, T):
    bm = random_machine(rng, 6, n_visible=4)
    states, E, p, logZ = brute_force(bm, T)
    np.testing.assert_array_equal(enumerate_states(6), states)
    np.testing.assert_allclose(bm.energy(states), E, atol=1e-12)
    np.testing.assert_allclose(bm.exact_distribution(T), p, rtol=1e-10)
    assert np.isclose(bm.log_partition(T), logZ)
    p_visible = [p[np.all(states[:, :4] == v, axis=1)].sum() for v in binary_rows(4)]
    np.testing.assert_allclose(bm.visible_distribution(T), p_visible, rtol=1e-10)
    np.testing.assert_array_equal(states_to_index(states), np.arange(64))


def test_enumeration_order():
    """Row k is k in binary, unit 0 the least significant bit; chunks are slices of the whole."""
    np.testing.assert_array_equal(enumerate_states(2), [[0, 0], [1, 0], [0, 1], [1, 1]])
    np.testing.assert_array_equal(enumerate_states(5), binary_rows(5))
    np.testing.assert_array_equal(enumerate_states(5, 6, 19), binary_rows(5)[6:19])
    assert enumerate_states(0).shape == (1, 0)
    assert enumerate_states(3, dtype=np.float32).dtype == np.float32
    np.testing.assert_array_equal(states_to_index([[1, 0, 1, 1], [0, 0, 0, 0], [0, 1, 0, 0]]), [13, 0, 2])


def test_exact_statistics_free_and_clamped(rng):
    bm = random_machine(rng, 7, n_visible=4)
    states, _, p, _ = brute_force(bm)
    ss, s = bm.exact_statistics()
    np.testing.assert_allclose(ss, states.T @ (p[:, None] * states), atol=1e-12)
    np.testing.assert_allclose(s, p @ states, atol=1e-12)
    V = (rng.random((5, 4)) < 0.5).astype(float)
    want_ss, want_s = np.zeros((7, 7)), np.zeros(7)
    for v in V:  # P(h | v) ∝ P(v, h)
        m = np.all(states[:, :4] == v, axis=1)
        q = p[m] / p[m].sum()
        want_ss += states[m].T @ (q[:, None] * states[m]) / len(V)
        want_s += q @ states[m] / len(V)
    ss, s = bm.exact_statistics(V)
    np.testing.assert_allclose(ss, want_ss, atol=1e-12)
    np.testing.assert_allclose(s, want_s, atol=1e-12)


def test_energy_gap_is_energy_difference(rng):
    bm = random_machine(rng, 6)
    S = (rng.random((4, 6)) < 0.5).astype(float)
    gap = bm.energy_gap(S)
    for i in range(6):
        S0, S1 = S.copy(), S.copy()
        S0[:, i], S1[:, i] = 0, 1
        np.testing.assert_allclose(gap[:, i], bm.energy(S0) - bm.energy(S1), atol=1e-12)


def test_ground_state(rng):
    bm = random_machine(rng, 9)
    states, E, _, _ = brute_force(bm)
    s, e = bm.ground_state()
    assert np.isclose(e, E.min()) and np.array_equal(s, states[np.argmin(E)])


# ------------------------------------------------------------------ sampling
@pytest.mark.parametrize("T, bound", [(1.0, 0.04), (2.0, 0.045)])
def test_gibbs_sampler_matches_boltzmann_distribution(T, bound):
    """8 units (256 states), 4000 chains, 30 burn-in sweeps, then 10 sweeps collected (40,000
    correlated samples). 40,000 independent draws from the exact distribution give TV 0.025
    (T = 1) and 0.030 (T = 2) on average (max 0.028 / 0.033 over 20 draws); the bound is 1.5×
    that. The distribution at the other temperature is at TV 0.22: a sampler that ignored T
    would fail."""
    rng = np.random.default_rng(7)
    bm = random_machine(rng, 8, n_visible=5)
    p = bm.exact_distribution(T)
    S = bm.sample(4000, steps=30, T=T, rng=rng)
    counts = np.zeros(256)
    for _ in range(10):
        bm.gibbs(S, [T], rng=rng)
        counts += np.bincount(states_to_index(S), minlength=256)
    tv = 0.5 * np.abs(counts / counts.sum() - p).sum()
    assert tv < bound, tv
    wrong = bm.exact_distribution(2 * T if T == 1.0 else 1.0)
    assert 0.5 * np.abs(counts / counts.sum() - wrong).sum() > 2 * bound


def test_gibbs_sweep_conditional_is_sigmoid_of_gap_over_T():
    """One unit visited: P(s_i = 1) is σ(ΔE_i/T) for the given state (many chains)."""
    rng = np.random.default_rng(2)
    W = np.array([[0, 1.5, -2.0], [1.5, 0, 0.5], [-2.0, 0.5, 0]])
    b = np.array([0.3, -0.2, 0.1])
    S = np.tile([0.0, 1.0, 1.0], (200_000, 1))
    T = 0.7
    gibbs_sweep(S, W, b, T, rng, order=[0])
    want = 1 / (1 + np.exp(-(b[0] + 1.5 - 2.0) / T))
    assert abs(S[:, 0].mean() - want) < 4 * np.sqrt(want * (1 - want) / len(S))
    np.testing.assert_array_equal(S[:, 1:], 1.0)  # unvisited units untouched


def test_clamped_sweeps_leave_visibles_fixed(rng):
    bm = random_machine(rng, 7, n_visible=3)
    S = bm.random_states(50, rng)
    V = S[:, :3].copy()
    bm.gibbs(S, np.ones(5), clamp_visible=True, rng=rng)
    np.testing.assert_array_equal(S[:, :3], V)


def test_annealing_finds_ground_state_more_often_than_sampling_at_T1():
    rng = np.random.default_rng(11)
    bm = random_machine(rng, 16, scale=1.0)
    gs, e0 = bm.ground_state()
    sweeps = 60
    ann = bm.anneal(300, nt.energy.geometric_schedule(10.0, 0.05, sweeps), rng=1)
    hot = bm.sample(300, steps=sweeps, T=1.0, rng=2)
    f_ann = np.mean(np.all(ann.states == gs, axis=1))
    f_hot = np.mean(np.all(hot == gs, axis=1))
    assert f_ann >= 0.8 and f_ann > f_hot + 0.3, (f_ann, f_hot)
    assert np.all(ann.energies >= e0 - 1e-9)
    assert ann.trace[-1] < ann.trace[0]  # the mean energy falls as T falls
    lin = bm.anneal(300, nt.energy.linear_schedule(10.0, 0.05, sweeps), rng=3)
    assert np.mean(np.all(lin.states == gs, axis=1)) > f_hot


def test_sampling_is_reproducible(rng):
    bm = random_machine(rng, 6)
    np.testing.assert_array_equal(bm.sample(10, 5, rng=3), bm.sample(10, 5, rng=3))


# ------------------------------------------------------------------ learning
def _data(rng, n=300):
    protos = np.array([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1], [1, 0, 1, 0, 1, 0]], float)
    X = protos[rng.integers(0, 3, n)]
    return np.abs(X - (rng.random(X.shape) < 0.05))  # 5 % of bits flipped


def _independent_kl(X):
    m = X.mean(0)
    S = enumerate_states(X.shape[1])
    return kl_divergence(data_distribution(X), np.prod(S * m + (1 - S) * (1 - m), axis=1))


def test_exact_gradient_is_log_likelihood_gradient(rng):
    """The Boltzmann rule's −(⟨ss⟩⁺ − ⟨ss⟩⁻) is the gradient of −mean ln P(v): finite differences."""
    bm = random_machine(rng, 6, n_visible=4, scale=0.5)
    V = (rng.random((8, 4)) < 0.5).astype(float)
    bm.zero_grad()
    bm.accumulate_gradient(V, method="exact")
    eps = 1e-6
    for (i, j) in [(0, 1), (2, 5), (4, 5)]:
        W0 = bm.W.data.copy()
        bm.W.data[i, j] = bm.W.data[j, i] = W0[i, j] + eps
        up = -bm.log_likelihood(V)
        bm.W.data[i, j] = bm.W.data[j, i] = W0[i, j] - eps
        down = -bm.log_likelihood(V)
        bm.W.data[...] = W0
        # w_ij appears once in E (Σ_{i<j}); grad[i, j] and grad[j, i] each hold the full derivative
        assert np.isclose(bm.W.grad[i, j], (up - down) / (2 * eps), atol=1e-6)
    for i in [0, 5]:
        b0 = bm.b.data[i]
        bm.b.data[i] = b0 + eps
        up = -bm.log_likelihood(V)
        bm.b.data[i] = b0 - eps
        down = -bm.log_likelihood(V)
        bm.b.data[i] = b0
        assert np.isclose(bm.b.grad[i], (up - down) / (2 * eps), atol=1e-6)
    assert np.all(np.diag(bm.W.grad) == 0)


def test_learning_exact_lowers_kl_below_bound():
    rng = np.random.default_rng(0)
    X = _data(rng)
    bm = BoltzmannMachine(6, 3, init_std=0.1, seed=0, dtype="float64")
    hist = bm.fit(X, epochs=300, lr=0.5, method="exact", progress=False)
    # the data have KL 1.61 nats to the best independent model; a fitted 6+3 machine gets < 0.1
    assert _independent_kl(X) > 1.5
    assert hist["kl"][-1] < 0.1 and hist["kl"][0] > 1.0
    np.testing.assert_array_equal(np.diag(bm.W.data), 0)
    np.testing.assert_allclose(bm.W.data, bm.W.data.T)


def test_learning_by_gibbs_sampling_lowers_kl_below_bound():
    rng = np.random.default_rng(0)
    X = _data(rng)
    bm = BoltzmannMachine(6, 3, init_std=0.1, seed=0, dtype="float64")
    hist = bm.fit(X, epochs=300, lr=0.5, method="gibbs", sweeps=5, n_chains=200, progress=False, seed=1)
    assert hist["kl"][-1] < 0.15, hist["kl"][-1]
    assert bm.kl_to_data(X) == hist["kl"][-1]


def test_fit_with_an_optimizer_writes_p_grad():
    rng = np.random.default_rng(0)
    X = _data(rng, 100)
    bm = BoltzmannMachine(6, 2, init_std=0.1, seed=0, dtype="float64")
    opt = nt.optim.SGD(bm.parameters(), lr=0.5)
    hist = bm.fit(X, epochs=100, method="exact", optimizer=opt, progress=False)
    assert hist["kl"][-1] < 0.5 * hist["kl"][0]
    np.testing.assert_array_equal(np.diag(bm.W.data), 0)


def test_fully_visible_machine_learns_pairwise_statistics():
    """No hidden units: the exact fixed point matches the data's ⟨s_i s_j⟩ (moment matching)."""
    rng = np.random.default_rng(4)
    X = (rng.random((200, 4)) < 0.5).astype(float)
    X[:, 1] = X[:, 0]  # strong correlation
    bm = BoltzmannMachine(4, 0, seed=0, dtype="float64")
    bm.fit(X, epochs=2000, lr=1.0, method="exact", progress=False)
    ss, _ = bm.exact_statistics()
    off = ~np.eye(4, dtype=bool)
    np.testing.assert_allclose(ss[off], (X.T @ X / len(X))[off], atol=2e-2)


# ------------------------------------------------------------------ bad input
def test_bad_input():
    bm = BoltzmannMachine(3, 2, seed=0)
    with pytest.raises(ValueError, match="0 and 1"):
        bm.energy([[1, -1, 0, 1, 0]])
    with pytest.raises(ValueError, match="5 units"):
        bm.energy(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="3 units"):
        bm.fit(np.zeros((4, 5)), progress=False)
    for T in (0.0, -1.0):
        with pytest.raises(ValueError, match="temperature"):
            bm.sample(5, 3, T=T)
        with pytest.raises(ValueError, match=r"T_start|temperature"):
            nt.energy.geometric_schedule(T, 1.0, 5)
        with pytest.raises(ValueError, match="temperature"):
            bm.gibbs(bm.random_states(2), [1.0, T])
        with pytest.raises(ValueError, match="temperature"):
            bm.exact_distribution(T)
    with pytest.raises(ValueError, match="symmetric"):
        BoltzmannMachine.from_weights([[0.0, 1.0], [0.5, 0.0]])
    with pytest.raises(ValueError, match="zero diagonal"):
        BoltzmannMachine.from_weights([[1.0, 0.0], [0.0, 0.0]])
    with pytest.raises(ValueError, match="method"):
        bm.fit(np.zeros((4, 3)), method="cd", progress=False)
    with pytest.raises(ValueError, match="exact enumeration"):
        BoltzmannMachine(20, 10).log_partition()


def test_hidden_units_are_needed_for_parity():
    """4-bit even parity: every pairwise statistic equals that of the uniform distribution, so a
    fully visible machine cannot beat KL = ln 2; hidden units can (seed-dependent: from some
    initial weights the exact gradient stalls at a saddle; 3 of 4 seeds tried reach < 0.06)."""
    S = enumerate_states(4)
    X = S[S.sum(1) % 2 == 0]
    visible_only = BoltzmannMachine(4, 0, init_std=1.0, seed=0, dtype="float64")
    kl0 = visible_only.fit(X, epochs=300, lr=1.0, method="exact", progress=False)["kl"][-1]
    assert kl0 >= np.log(2) - 1e-6
    bm = BoltzmannMachine(4, 4, init_std=1.0, seed=0, dtype="float64")
    assert bm.fit(X, epochs=3000, lr=1.0, method="exact", progress=False)["kl"][-1] < 0.06


def test_save_load_round_trip(tmp_path):
    bm = BoltzmannMachine(4, 2, init_std=0.3, seed=0)
    bm.b.data[:] = np.arange(6)
    nt.save(tmp_path / "bm.npz", bm)
    loaded = nt.load(tmp_path / "bm.npz")
    loaded = loaded[0] if isinstance(loaded, tuple) else loaded
    assert isinstance(loaded, BoltzmannMachine) and (loaded.n_visible, loaded.n_hidden) == (4, 2)
    np.testing.assert_array_equal(loaded.W.data, bm.W.data)
    np.testing.assert_array_equal(loaded.b.data, bm.b.data)


@pytest.mark.parametrize("method", ["gibbs", "exact"])
def test_fit_stops_and_resumes_from_checkpoint_exactly(tmp_path, method):
    X = _data(np.random.default_rng(0), 60)
    full = BoltzmannMachine(6, 2, init_std=0.1, seed=0, dtype="float64")
    h_full = full.fit(X, epochs=6, lr=0.3, method=method, sweeps=2, n_chains=30, batch_size=20,
                      progress=False, seed=1)
    part = BoltzmannMachine(6, 2, init_std=0.1, seed=0, dtype="float64")
    part.fit(X, epochs=3, lr=0.3, method=method, sweeps=2, n_chains=30, batch_size=20, progress=False,
             seed=1, checkpoint=tmp_path / "bm.npz")
    fresh = BoltzmannMachine(6, 2, seed=99, dtype="float64")  # different start: everything comes from the file
    h = fresh.fit(X, epochs=6, lr=0.3, method=method, sweeps=2, n_chains=30, batch_size=20, progress=False,
                  resume_from=tmp_path / "bm.npz")
    np.testing.assert_array_equal(fresh.W.data, full.W.data)
    np.testing.assert_array_equal(fresh.b.data, full.b.data)
    assert h["kl"] == h_full["kl"]
