"""The energy models on CuPy arrays against the CPU path (skipped cleanly without CuPy).

Deterministic quantities (energies, free energies, means, Hopfield recall, whose
visiting order comes from the host generator) must equal the CPU's to rounding; the
samplers draw from a device generator, so their results are compared in
distribution: sample means and Monte-Carlo gradients within a few standard errors
of the CPU's (or of the exact enumeration). A training step must leave its metrics
on the device (no copy to the host inside the step).
"""
from __future__ import annotations

import numpy as np
import pytest

from neuronet.backend import asnumpy, cupy_available

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not cupy_available(), reason="needs CuPy and a CUDA device")]

N_VIS, N_HID = 6, 4


@pytest.fixture(scope="module")
def cupy():  # pragma: no cover - runs only with a GPU
    import cupy

    return cupy


def _rbm_pair(visible="bernoulli", hidden="bernoulli", seed=0):
    """The same float64 RBM twice: on the CPU and on the GPU."""
    from neuronet.energy import RBM

    out = []
    for _ in range(2):
        rng = np.random.default_rng(seed)
        r = RBM(N_VIS, N_HID, visible, hidden, seed=seed).astype(np.float64)
        r.W.data[...] = rng.normal(0, 0.2 if visible == "poisson" else 0.4, (N_VIS, N_HID))
        r.a.data[...] = rng.normal(0, 0.5, N_VIS) - (0.5 if visible == "poisson" else 0)
        r.b.data[...] = rng.normal(0, 0.5, N_HID)
        out.append(r)
    return out[0], out[1].to("cuda")


def _data(visible, n, seed=1):
    rng = np.random.default_rng(seed)
    if visible == "bernoulli":
        return (rng.random((n, N_VIS)) < 0.5).astype(np.float64)
    if visible == "poisson":
        return rng.poisson(1.0, (n, N_VIS)).astype(np.float64)
    return rng.standard_normal((n, N_VIS))


PAIRINGS = [("bernoulli", "bernoulli"), ("gaussian", "bernoulli"), ("poisson", "bernoulli"),
            ("gaussian", "gaussian")]


@pytest.mark.parametrize("visible,hidden", PAIRINGS)
def test_rbm_deterministic_quantities_equal_cpu(cupy, visible, hidden):  # pragma: no cover
    cpu, gpu = _rbm_pair(visible, hidden)
    assert isinstance(gpu.W.data, cupy.ndarray)
    V = _data(visible, 20)
    H = (np.random.default_rng(2).random((20, N_HID)) < 0.5).astype(np.float64)
    for name, args in (("free_energy", (V,)), ("energy", (V, H)), ("mean_hidden", (V,)),
                       ("mean_visible", (H,)), ("transform", (V,)), ("reconstruct", (V,))):
        got = getattr(gpu, name)(*args)
        assert isinstance(got, cupy.ndarray), name
        np.testing.assert_allclose(asnumpy(got), getattr(cpu, name)(*args), rtol=1e-10, atol=1e-10,
                                   err_msg=name)
    assert gpu.reconstruction_error(V) == pytest.approx(cpu.reconstruction_error(V), rel=1e-10)


@pytest.mark.parametrize("persistent", [False, True])
def test_rbm_cd_gradient_matches_cpu_in_expectation(cupy, persistent):  # pragma: no cover
    """CD-1/PCD-1 averaged over 20 000 rows: GPU and CPU agree within ~6 standard errors."""
    cpu, gpu = _rbm_pair()
    V = np.repeat(_data("bernoulli", 20), 1000, axis=0)
    grads = []
    for r in (cpu, gpu):
        for p in r.parameters():
            p.grad[...] = 0
        r.gradient(V, k=1, persistent=persistent)
        grads.append([asnumpy(p.grad) for p in r.parameters()])
    assert isinstance(gpu.W.grad, cupy.ndarray)
    for g_cpu, g_gpu in zip(*grads):
        np.testing.assert_allclose(g_gpu, g_cpu, atol=0.03)
        assert np.abs(g_cpu).max() > 0.03  # the comparison is not between zeros


def test_rbm_fit_on_gpu_keeps_metrics_on_the_device_and_learns_like_cpu(cupy):  # pragma: no cover
    from neuronet.energy import RBM
    from neuronet.energy.cd import ContrastiveDivergence
    from neuronet.energy.rbm_step import RBMStep

    rng = np.random.default_rng(0)
    bars = np.repeat(np.eye(4), 4, axis=1)  # four 16-pixel bar patterns
    X = bars[rng.integers(0, 4, 400)]
    errors = []
    for device in ("cpu", "cuda"):
        rbm = RBM(16, 8, seed=3).astype(np.float64).to(device)
        rbm.fit(X, epochs=30, batch_size=20, lr=0.1, verbose=False, seed=4)
        errors.append(rbm.reconstruction_error(X))
    assert isinstance(rbm.W.data, cupy.ndarray)
    assert errors[1] < 0.5 * _mean_image_error(X)  # it learned
    assert errors[1] == pytest.approx(errors[0], rel=0.5, abs=0.2)
    step = RBMStep(rbm, None, ContrastiveDivergence(k=1))
    metrics = step.compute((cupy.asarray(X[:20]),))
    assert all(isinstance(v, cupy.ndarray) for v in metrics.values())  # no host copy in the step
    rbm.fit(X, epochs=1, batch_size=20, persistent=True, verbose=False)
    assert isinstance(rbm.persistent_chains, cupy.ndarray)


def _mean_image_error(X):
    """Reconstruction error of the mean image: what an RBM that learned nothing gets."""
    return float(((X - X.mean(0)) ** 2).sum(1).mean())


def test_unit_samplers_on_gpu_have_the_right_moments(cupy):  # pragma: no cover
    from neuronet.energy.units import make_units

    rng = np.random.default_rng(0)
    n = 200_000
    cases = {"bernoulli": np.array([0.1, 0.5, 0.9]), "gaussian": np.array([-1.0, 0.0, 2.0]),
             "poisson": np.array([0.5, 2.0, 7.0]), "softmax:3": np.array([0.2, 0.3, 0.5])}
    for name, mean in cases.items():
        units = make_units(name)
        m = cupy.asarray(np.tile(mean, (n, 1)))
        s = units.sample(m, rng)
        assert isinstance(s, cupy.ndarray) and s.dtype == m.dtype, name
        s = asnumpy(s)
        var = {"bernoulli": mean * (1 - mean), "gaussian": np.ones(3), "poisson": mean,
               "softmax:3": mean * (1 - mean)}[name]
        se = np.sqrt(var / n)
        assert np.all(np.abs(s.mean(0) - mean) < 6 * se), (name, s.mean(0), mean)
        np.testing.assert_allclose(s.var(0), var, rtol=0.05, err_msg=name)
        if name == "softmax:3":
            np.testing.assert_array_equal(s.sum(1), 1)


def test_boltzmann_machine_on_gpu(cupy):  # pragma: no cover
    """Energies equal the CPU's; the sampled free statistics match the exact ones; a
    training step's loss stays on the device."""
    from neuronet.energy import BoltzmannMachine

    cpu = BoltzmannMachine(3, 2, init_std=0.8, dtype="float64", seed=0)
    gpu = BoltzmannMachine(3, 2, init_std=0.8, dtype="float64", seed=0).to("cuda")
    S = (np.random.default_rng(1).random((30, 5)) < 0.5).astype(np.float64)
    np.testing.assert_allclose(asnumpy(gpu.energy(S)), cpu.energy(S), rtol=1e-12, atol=1e-12)
    ss, s = gpu.sampled_statistics(None, sweeps=30, n_chains=4000)
    ss_exact, s_exact = cpu.exact_statistics()
    np.testing.assert_allclose(asnumpy(s), s_exact, atol=0.04)
    np.testing.assert_allclose(asnumpy(ss), ss_exact, atol=0.04)
    V = S[:, :3]
    loss = gpu.accumulate_gradient(V, sweeps=5, n_chains=200)
    assert isinstance(loss, cupy.ndarray) and isinstance(gpu.W.grad, cupy.ndarray)
    history = gpu.fit(V, epochs=2, progress=False, seed=0)
    assert len(history["loss"]) == 2 and isinstance(gpu._chains, cupy.ndarray)


@pytest.mark.parametrize("rule", ["hebb", "storkey", "pseudoinverse"])
@pytest.mark.parametrize("mode", ["async", "sync"])
def test_hopfield_on_gpu_equals_cpu(cupy, rule, mode):  # pragma: no cover
    """Storing and recall are deterministic given the host's visiting order: equal results."""
    from neuronet.energy import Hopfield

    rng = np.random.default_rng(0)
    patterns = rng.choice([-1.0, 1.0], size=(4, 64))
    probes = patterns * np.where(rng.random(patterns.shape) < 0.1, -1, 1)
    out = []
    for device in ("cpu", "cuda"):
        net = Hopfield(64, rule=rule, dtype="float64", seed=5).to(device)
        net.store(patterns)
        out.append((net.W.data, net.recall(probes, mode=mode)))
    (W_cpu, r_cpu), (W_gpu, r_gpu) = out
    assert isinstance(W_gpu, cupy.ndarray) and isinstance(r_gpu.states, cupy.ndarray)
    np.testing.assert_allclose(asnumpy(W_gpu), W_cpu, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(asnumpy(r_gpu.states), r_cpu.states)
    np.testing.assert_array_equal(asnumpy(r_gpu.converged), r_cpu.converged)
    np.testing.assert_allclose(asnumpy(r_gpu.energies), r_cpu.energies, rtol=1e-10, atol=1e-10)


def test_generator_for_cupy_draws_on_the_device(cupy):  # pragma: no cover
    from neuronet.random import generator_for

    rng = np.random.default_rng(0)
    g = generator_for(rng, cupy)
    u = g.random((1000,), dtype=np.float32)
    assert isinstance(u, cupy.ndarray) and u.dtype == np.float32
    assert generator_for(rng, cupy) is g
    assert 0.4 < float(u.mean()) < 0.6


@pytest.mark.parametrize("gpu_path", ["fused", "xp"])
def test_activation_kernels_on_gpu_equal_cpu(cupy, gpu_path, monkeypatch):  # pragma: no cover
    """Both GPU paths: the fused CuPy kernels and (``use('numpy')``) the xp expressions."""
    from neuronet import kernels

    monkeypatch.setitem(kernels._STATE, "gpu", gpu_path == "fused")
    rng = np.random.default_rng(0)
    x, dy = rng.standard_normal((2, 64, 33))
    y = 1 / (1 + np.exp(-x))
    t = np.tanh(x)
    for name, args in (("sigmoid", (x,)), ("relu_backward", (dy, x)), ("tanh_backward", (dy, t, 1.7)),
                       ("sigmoid_backward", (dy, y))):
        fn = getattr(kernels, name)
        want = fn(*args, np.empty_like(x))
        dev = [cupy.asarray(a) if isinstance(a, np.ndarray) else a for a in args]
        got = fn(*dev, cupy.empty(x.shape))
        assert isinstance(got, cupy.ndarray), name
        np.testing.assert_allclose(asnumpy(got), want, rtol=1e-12, atol=1e-12, err_msg=name)


def _bars(n=300, seed=0):
    rng = np.random.default_rng(seed)
    return np.repeat(np.eye(4), 4, axis=1)[rng.integers(0, 4, n)], rng.integers(0, 4, n)


def test_dbn_on_gpu(cupy):  # pragma: no cover
    """The up-pass and the label posterior equal the CPU's for the same weights; pretraining,
    up-down fine-tuning and sampling run on the device."""
    import copy

    from neuronet.energy import DBN

    X, _ = _bars()
    y = (X[:, :8].sum(1) > 0).astype(np.int64)  # two classes: a bar in the left or right half
    cpu = DBN([16, 8, 6], n_labels=2, seed=0, dtype=np.float64)
    cpu.pretrain(X, y, epochs=10, batch_size=20, verbose=False, seed=1)
    gpu = copy.deepcopy(cpu).to("cuda")
    assert all(isinstance(p.data, cupy.ndarray) for p in gpu.parameters())
    np.testing.assert_allclose(asnumpy(gpu.transform(X)), cpu.transform(X), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(asnumpy(gpu.predict_proba(X)), cpu.predict_proba(X), rtol=1e-8, atol=1e-10)
    fresh = DBN([16, 8, 6], n_labels=2, seed=0, dtype=np.float64).to("cuda")
    fresh.pretrain(X, y, epochs=10, batch_size=20, verbose=False, seed=1)
    assert float((asnumpy(fresh.predict(X)) == y).mean()) > 0.9  # the CPU gets 1.0
    net = fresh.to_network(2, seed=0)
    assert all(isinstance(p.data, cupy.ndarray) for p in net.parameters())
    history = gpu.fit_updown(X, y, epochs=1, batch_size=20, k=2, seed=0)
    assert np.isfinite(history["loss"]).all()
    s = gpu.sample(5, label=1, steps=20, seed=0)
    assert isinstance(s, cupy.ndarray) and s.shape == (5, 16)


def test_dbm_on_gpu(cupy):  # pragma: no cover
    """Mean field equals the CPU's (all sweeps on both); pretraining and joint training run on
    the device; AIS on the device agrees with the exact log-partition."""
    import copy

    from dbm_models import random_dbm

    from neuronet.energy import ais_log_partition
    from neuronet.energy.dbm_exact import log_partition

    cpu = random_dbm([6, 4, 3], seed=0)
    gpu = copy.deepcopy(cpu).to("cuda")
    X = (np.random.default_rng(1).random((30, 6)) < 0.5).astype(np.float64)
    for q_cpu, q_gpu in zip(cpu.mean_field(X, steps=20, tol=0.0), gpu.mean_field(X, steps=20, tol=0.0)):
        assert isinstance(q_gpu, cupy.ndarray)
        np.testing.assert_allclose(asnumpy(q_gpu), q_cpu, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(asnumpy(gpu.energy(X, *gpu.mean_field(X))),
                               cpu.energy(X, *cpu.mean_field(X, steps=10, tol=0.0)), rtol=1e-8)
    exact = log_partition(cpu)
    est = ais_log_partition(gpu, n_runs=500, seed=0)
    assert abs(est.log_z - exact) < 0.1
    Xb, _ = _bars(200)
    d = random_dbm([16, 8, 4], seed=2, scale=0.01, bias_scale=0.0).to("cuda")
    d.pretrain(Xb, epochs=2, batch_size=20, seed=0)
    history = d.fit(Xb, epochs=2, batch_size=20, n_chains=20, seed=0)
    assert np.isfinite(history["loss"]).all()
    assert isinstance(d.W1.data, cupy.ndarray)


def test_rbm_ais_on_gpu_agrees_with_the_exact_log_partition(cupy):  # pragma: no cover
    from neuronet.energy import ais_log_partition
    from neuronet.energy.monitors import log_partition

    cpu, gpu = _rbm_pair()
    est = ais_log_partition(gpu, data=_data("bernoulli", 50), n_runs=500, seed=0)
    assert abs(est.log_z - log_partition(cpu)) < 0.05


def test_hopfield_capacity_on_gpu_equals_cpu(cupy):  # pragma: no cover
    """Patterns and visiting orders come from the host generator: the same numbers on both."""
    from neuronet.energy import hopfield_capacity

    kw = dict(n=100, loads=[0.05, 0.2], trials=2, seed=0, dtype=np.float64)
    a, b = hopfield_capacity(**kw), hopfield_capacity(**kw, device="cuda")
    for name in ("bit_error", "recall_exact", "recall_overlap", "overlap"):
        np.testing.assert_array_equal(getattr(b, name), getattr(a, name), err_msg=name)


def test_samplers_on_gpu_draw_on_the_device_from_the_model_distribution(cupy):  # pragma: no cover
    """Each model's ``sample`` on the device: RBM and DBM visible means, the Boltzmann
    machine's state means match the CPU's within sampling error (the exact ones for the
    machine); Hopfield sampling (host-drawn starts and orders) and the pseudo-likelihood with
    fixed flips are deterministic, so equal; annealing reaches the ground state."""
    import copy

    from dbm_models import random_dbm

    from neuronet.energy import BoltzmannMachine, Hopfield, geometric_schedule
    from neuronet.energy.monitors import free_energy_gap, pseudo_likelihood

    cpu, gpu = _rbm_pair()
    n = 20_000
    for c, g in ((cpu, gpu), (random_dbm([6, 4, 3], seed=0), None)):
        g = g if g is not None else copy.deepcopy(c).to("cuda")
        s_cpu, s_gpu = c.sample(n, steps=30, rng=1), g.sample(n, steps=30, rng=1)
        assert isinstance(s_gpu, cupy.ndarray) and s_gpu.shape == (n, 6)
        np.testing.assert_allclose(asnumpy(s_gpu).mean(0), s_cpu.mean(0), atol=0.03)
    V = _data("bernoulli", 40)
    cols = np.arange(40) % N_VIS
    np.testing.assert_allclose(asnumpy(pseudo_likelihood(gpu, V, index=cols)),
                               pseudo_likelihood(cpu, V, index=cols), rtol=1e-10)
    assert free_energy_gap(gpu, V[:20], V[20:]) == pytest.approx(free_energy_gap(cpu, V[:20], V[20:]))
    bm = BoltzmannMachine(4, 1, init_std=0.8, dtype="float64", seed=0).to("cuda")
    S = asnumpy(bm.sample(n=4000, steps=30, rng=2))
    np.testing.assert_allclose(S.mean(0), bm.exact_statistics()[1], atol=0.04)
    result = bm.anneal(64, geometric_schedule(5.0, 0.05, 60), rng=3)
    assert float(result.energies.min()) == pytest.approx(bm.ground_state()[1], abs=1e-9)
    nets = [Hopfield(32, dtype="float64", seed=4).to(d) for d in ("cpu", "cuda")]
    patterns = np.random.default_rng(5).choice([-1.0, 1.0], size=(2, 32))
    samples = [net.store(patterns).sample(10, steps=20) for net in nets]
    np.testing.assert_array_equal(asnumpy(samples[1]), samples[0])
