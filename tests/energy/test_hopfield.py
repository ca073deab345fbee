"""Hopfield network: energy descent, associative recall, capacity, bad input."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neuronet as nt
from neuronet.energy.annealing import sequential_sweep
from neuronet.energy.hopfield import Hopfield
from neuronet.energy.capacity import flip_bits, hopfield_capacity, theoretical_bit_error


def random_net(rng, n, dtype=np.float64):
    A = rng.normal(size=(n, n))
    W = np.triu(A, 1)
    return Hopfield.from_weights(W + W.T, thresholds=rng.normal(0, 0.5, n), dtype=dtype)


# ------------------------------------------------------------------ energy
def test_energy_matches_formula(rng):
    net = random_net(rng, 7)
    S = rng.choice([-1.0, 1.0], size=(5, 7))
    W, th = net.W.data, net.theta.data
    want = [-0.5 * sum(W[i, j] * s[i] * s[j] for i in range(7) for j in range(7)) + th @ s for s in S]
    np.testing.assert_allclose(net.energy(S), want, rtol=1e-12)
    assert np.isclose(net.energy(S[0]), want[0])


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 14), seed=st.integers(0, 2**31 - 1), batch=st.integers(1, 6),
       block=st.sampled_from([1, 3, 64]))
def test_async_updates_never_increase_energy(n, seed, batch, block):
    rng = np.random.default_rng(seed)
    net = random_net(rng, n)
    S = rng.choice([-1.0, 1.0], size=(batch, n))
    res = net.recall(S, mode="async", max_sweeps=50, rng=rng, block=block)
    assert np.all(np.diff(res.energies, axis=0) <= 1e-9)
    # async dynamics with symmetric W always stop, at a state no single flip improves
    assert res.converged.all()
    np.testing.assert_array_equal(net.update_sync(res.states), res.states)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 12), seed=st.integers(0, 2**31 - 1))
def test_each_single_async_update_never_increases_energy(n, seed):
    """Energy after every single-neuron update (block=1 makes each decision see the true state)."""
    rng = np.random.default_rng(seed)
    net = random_net(rng, n)
    S = rng.choice([-1.0, 1.0], size=(3, n))
    H = S @ net.W.data
    energies = [net.energy(S)]

    def decide(h, s, i):
        new = np.where(h > net.theta.data[i], 1.0, -1.0)
        T = S.copy()  # S is written back after each block of one unit: rebuild the state
        T[:, i] = new
        energies.append(net.energy(T))
        return new

    for _ in range(3):
        sequential_sweep(S, net.W.data, H, rng.permutation(n), decide, block=1)
    assert np.all(np.diff(np.stack(energies), axis=0) <= 1e-9)


@pytest.mark.parametrize("block", [1, 2, 5, 64])
def test_blocked_sweep_equals_one_unit_at_a_time_loop(rng, block):
    net = random_net(rng, 23)
    S = rng.choice([-1.0, 1.0], size=(9, 23))
    order = rng.permutation(23)
    ref = S.copy()
    for b in range(len(ref)):
        for i in order:  # the textbook loop: recompute the field of unit i from scratch
            ref[b, i] = 1.0 if net.W.data[i] @ ref[b] > net.theta.data[i] else -1.0
    H = S @ net.W.data
    th = net.theta.data
    sequential_sweep(S, net.W.data, H, order, lambda h, s, i: np.where(h > th[i], 1.0, -1.0), block=block)
    np.testing.assert_array_equal(S, ref)
    np.testing.assert_allclose(H, S @ net.W.data, atol=1e-12)


def test_sync_updates_oscillate_with_period_two():
    # two neurons that want to disagree... with a positive coupling: (+1, −1) ↔ (−1, +1)
    net = Hopfield.from_weights([[0.0, 1.0], [1.0, 0.0]], dtype=np.float64)
    s0 = np.array([1.0, -1.0])
    s1 = net.update_sync(s0)
    np.testing.assert_array_equal(s1, [-1.0, 1.0])
    np.testing.assert_array_equal(net.update_sync(s1), s0)
    res = net.recall(s0, mode="sync", max_sweeps=20)
    assert res.oscillating and not res.converged
    assert res.sweeps == 2  # detected as soon as s(2) = s(0) ≠ s(1)
    # the asynchronous dynamics from the same start settle in a minimum
    res = net.recall(s0, mode="async", rng=0)
    assert res.converged and not res.oscillating
    assert abs(res.states.sum()) == 2 and res.energies[-1] < res.energies[0]


def test_sync_oscillation_in_a_larger_net(rng):
    # W = −(J − I): every neuron is pushed against all others; in parallel they
    # all flip together, so all-(+1) and all-(−1) alternate
    n = 5
    net = Hopfield.from_weights(-(np.ones((n, n)) - np.eye(n)), dtype=np.float64)
    s = np.ones(n)
    res = net.recall(np.stack([s, -s]), mode="sync", max_sweeps=10)
    assert res.oscillating.all() and not res.converged.any()
    np.testing.assert_array_equal(net.update_sync(net.update_sync(s)), s)
    assert not np.array_equal(net.update_sync(s), s)


# ------------------------------------------------------------------ memory
@pytest.mark.parametrize("rule", ["hebb", "storkey", "pseudoinverse"])
def test_below_capacity_patterns_are_fixed_points_and_noisy_probes_return(rule):
    rng = np.random.default_rng(1)
    n, P = 100, 5
    xi = rng.choice([-1.0, 1.0], size=(P, n))
    net = Hopfield(n, rule=rule).store(xi)
    np.testing.assert_array_equal(net.update_sync(xi), xi)
    assert net.recall(xi, rng=rng).converged.all()
    probes = np.repeat(xi, 20, axis=0)
    noisy = flip_bits(probes, 10, rng)  # 10 % of the bits
    assert np.all(np.mean(noisy != probes, axis=1) == 0.1)
    for mode in ("async", "sync"):
        res = net.recall(noisy, mode=mode, rng=rng)
        np.testing.assert_array_equal(res.states, probes)
        assert res.converged.all()


def test_hebb_rule_formula(rng):
    xi = rng.choice([-1.0, 1.0], size=(4, 9))
    net = Hopfield(9, dtype=np.float64).store(xi)
    want = sum(np.outer(x, x) for x in xi) / 9
    np.fill_diagonal(want, 0)
    np.testing.assert_allclose(net.W.data, want)


def test_storkey_matches_elementwise_definition(rng):
    n = 8
    xi = rng.choice([-1.0, 1.0], size=(3, n))
    W = np.zeros((n, n))
    for x in xi:
        h = np.array([[sum(W[i, k] * x[k] for k in range(n) if k not in (i, j)) for j in range(n)]
                      for i in range(n)])
        new = W + (np.outer(x, x) - x[:, None] * h.T - h * x[None, :]) / n
        np.fill_diagonal(new, 0)
        W = new
    net = Hopfield(n, rule="storkey", dtype=np.float64).store(xi)
    np.testing.assert_allclose(net.W.data, W, atol=1e-12)


def test_storkey_and_pseudoinverse_store_more_than_hebb():
    rng = np.random.default_rng(3)
    n, P = 100, 25  # α = 0.25: far above Hebb's capacity
    xi = rng.choice([-1.0, 1.0], size=(P, n))
    stable = {r: np.mean(np.all(Hopfield(n, rule=r).store(xi).update_sync(xi) == xi, axis=1))
              for r in ("hebb", "storkey", "pseudoinverse")}
    assert stable["hebb"] < 0.5
    assert stable["storkey"] > 0.9 and stable["pseudoinverse"] == 1.0


def test_binary_patterns_when_asked(rng):
    b = (rng.random((3, 50)) < 0.5).astype(float)
    net = Hopfield(50).store(b, binary=True)
    np.testing.assert_array_equal(net.update_sync(b, binary=True), 2 * b - 1)
    np.testing.assert_allclose(net.energy(b, binary=True), net.energy(2 * b - 1))


def test_recall_is_reproducible_and_single_probe_shapes(rng):
    xi = rng.choice([-1.0, 1.0], size=(3, 60))
    net = Hopfield(60).store(xi)
    noisy = flip_bits(xi[0], 0.2, rng)
    a, b = net.recall(noisy, seed=5), net.recall(noisy, seed=5)
    np.testing.assert_array_equal(a.states, b.states)
    assert a.states.shape == (60,) and a.energies.shape == (a.sweeps + 1,) and a.converged.shape == ()


# ------------------------------------------------------------------ capacity
def test_one_step_bit_error_follows_theory_at_n1000():
    loads = np.array([0.05, 0.1, 0.15, 0.2, 0.25, 0.3])
    res = hopfield_capacity(1000, loads, trials=2, recall_probes=0, seed=0)
    bits = res.n_patterns * 1000 * 2
    se = np.sqrt(res.theory * (1 - res.theory) / bits)
    # within 4 binomial standard errors (+1 bit of slack for the near-zero α = 0.05)
    assert np.all(np.abs(res.bit_error - res.theory) <= 4 * se + 1 / bits), (res.bit_error, res.theory)
    assert np.all(np.isnan(res.recall_exact))


def test_theoretical_bit_error_values():
    np.testing.assert_allclose(theoretical_bit_error([0.25, 1.0]), [0.0227501319, 0.1586552539], rtol=1e-8)


def test_exact_recall_collapses_near_0_14_quick():
    res = hopfield_capacity(1000, [0.05, 0.1, 0.2], trials=1, recall_probes=40, seed=1)
    assert res.recall_exact[0] >= 0.95  # well below capacity: exact
    assert res.recall_overlap[1] >= 0.9  # α = 0.1: retrieved (a few wrong bits allowed)
    assert res.recall_overlap[2] <= 0.1 and res.recall_exact[2] == 0  # α = 0.2: lost


@pytest.mark.slow
def test_exact_recall_collapses_near_0_14_full():
    loads = np.array([0.05, 0.08, 0.11, 0.14, 0.17, 0.2, 0.25])
    res = hopfield_capacity(1000, loads, trials=3, seed=2)
    assert res.recall_exact[0] >= 0.98 and res.recall_overlap[:3].min() >= 0.95
    assert res.recall_exact[3] <= 0.2  # exact recall already gone at 0.14
    assert res.recall_overlap[-2:].max() <= 0.1
    # the retrieval transition (half the probes retrieved) lies between 0.11 and 0.2
    half = np.interp(0.5, res.recall_overlap[::-1], loads[::-1])
    assert 0.11 <= half <= 0.2, half


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("bad, match", [
    (np.array([[1.0, 0.5, -1.0, 1.0]]), r"only −1 and \+1"),
    (np.array([[1, 0, 1, 1]]), r"binary=True"),
    (np.ones((2, 5)), r"4 neurons"),
    (np.ones((2, 2, 4)), r"1-D or 2-D"),
])
def test_bad_patterns(bad, match):
    net = Hopfield(4)
    with pytest.raises(ValueError, match=match):
        net.store(bad)
    with pytest.raises(ValueError, match=match):
        net.recall(bad)


def test_bad_binary_patterns_and_types():
    with pytest.raises(ValueError, match="only 0 and 1"):
        Hopfield(3).store([[1, -1, 1]], binary=True)
    with pytest.raises(TypeError, match="numeric"):
        Hopfield(3).store([["a", "b", "c"]])


def test_bad_weights():
    with pytest.raises(ValueError, match="symmetric"):
        Hopfield.from_weights([[0.0, 1.0], [2.0, 0.0]])
    with pytest.raises(ValueError, match="zero diagonal"):
        Hopfield.from_weights([[1.0, 1.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match="square"):
        Hopfield.from_weights(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="thresholds must have 2"):
        Hopfield.from_weights(np.zeros((2, 2)), thresholds=[0.0, 0.0, 0.0])


def test_bad_arguments():
    with pytest.raises(ValueError, match="rule"):
        Hopfield(4, rule="oja")
    with pytest.raises(ValueError, match="mode"):
        Hopfield(4).recall(np.ones(4), mode="parallel")
    with pytest.raises(ValueError, match="max_sweeps"):
        Hopfield(4).recall(np.ones(4), max_sweeps=0)
    with pytest.raises(ValueError, match="loads"):
        hopfield_capacity(100, [0.1, -0.2])


def test_public_names():
    assert nt.energy.Hopfield is Hopfield and nt.energy.hopfield_capacity is hopfield_capacity


def test_save_load_round_trip(tmp_path, rng):
    net = Hopfield(30, rule="storkey", thresholds=0.1).store(rng.choice([-1.0, 1.0], size=(3, 30)))
    nt.save(tmp_path / "hop.npz", net)
    loaded = nt.load(tmp_path / "hop.npz")
    loaded = loaded[0] if isinstance(loaded, tuple) else loaded
    assert isinstance(loaded, Hopfield) and loaded.rule == "storkey"
    np.testing.assert_array_equal(loaded.W.data, net.W.data)
    np.testing.assert_array_equal(loaded.theta.data, net.theta.data)


def test_pictures(rng):
    import matplotlib
    matplotlib.use("Agg")
    xi = rng.choice([-1.0, 1.0], size=(4, 36))
    fig = nt.viz.plot_hopfield_recall([xi, flip_bits(xi, 5, rng), xi[:3]], (6, 6), labels=["a", "b", "c"])
    assert len(fig.axes) == 12
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(), xi[0].reshape(6, 6))
    assert not fig.axes[11].images  # row c has 3 patterns: 4th cell empty
    res = hopfield_capacity(100, [0.05, 0.2], trials=2, recall_probes=5, seed=0)
    fig = nt.viz.plot_hopfield_capacity(res)
    assert len(fig.axes) == 2
    fig = nt.viz.plot_hopfield_energy(np.array([[3.0, 2.0, 5.0], [1.0, 0.0, 4.0]]))
    assert len(fig.axes[0].lines) == 3
