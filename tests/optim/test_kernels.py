"""The fused kernels (neuronet.kernels): the compiled path equals the NumPy reference, and the
key checks (every optimiser against torch.optim, the activations' gradients, a training step)
pass on both paths, whichever one the environment selects by default."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from test_optimizers import RULES, test_ten_steps_equal_torch

import neuronet as nt
from neuronet import kernels
from neuronet.layers import Sequential

BACKENDS = ["numpy", "numba"]


@pytest.fixture(params=BACKENDS)
def backend(request, monkeypatch):
    """Run the test with the NumPy kernels, then with the Numba ones on every array size."""
    if request.param == "numba":
        pytest.importorskip("numba", reason="the optional extra neuronet[fast] is not installed")
        monkeypatch.setattr(kernels, "MIN_SIZE", 0)
    before = kernels.active()
    kernels.use(request.param)
    yield request.param
    kernels.use(before)


@pytest.mark.parametrize("name", list(RULES))
def test_every_optimiser_equals_torch_on_both_paths(name, backend):
    test_ten_steps_equal_torch(name, 0.1, 0.05)


@pytest.mark.parametrize("layer", [nt.ReLU, nt.Sigmoid, nt.Tanh, nt.ScaledTanh])
def test_activation_gradients_on_both_paths(layer, backend, rng):
    x = rng.standard_normal((5, 7))
    x[np.abs(x) < 1e-3] += 0.01
    nt.gradcheck(layer(), x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_kernels_equal_the_numpy_reference(dtype, rng):
    pytest.importorskip("numba", reason="the optional extra neuronet[fast] is not installed")
    from neuronet.kernels import numba_kernels as fast
    from neuronet.kernels import numpy_kernels as ref

    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    a, b = (rng.standard_normal(1000).astype(dtype) for _ in range(2))
    for name, args in (("relu_backward", (a, b)), ("sigmoid_backward", (a, b)),
                       ("tanh_backward", (a, b, 1.1439))):
        want, got = np.empty_like(a), np.empty_like(a)
        getattr(ref, name)(*args, want)
        getattr(fast, name)(*args, got)
        np.testing.assert_allclose(got, want, **tol, err_msg=name)
    g = rng.standard_normal(1000).astype(dtype)
    cases = {"sgd_step": lambda w, s, t: ((w, g, 0.1), (w, g, 0.1)),
             "momentum_step": lambda w, s, t: ((w, s, g, 0.1, 0.9, True), (w, s, g, 0.1, 0.9, True)),
             "adadelta_step": lambda w, s, t: ((w, s, t, g, 1.0, 0.9, 1e-6),) * 2,
             "adam_step": lambda w, s, t: ((w, s, t, g, 0.01, 0.9, 0.999, 1e-8, 1.2, 0.001),) * 2,
             "rmsprop_step": lambda w, s, t: ((w, s, g, 0.01, 0.9, 1e-8, t, None, 0.0),
                                              (w, s, g, 0.01, 0.9, 1e-8, t, s, 0.0, True, False))}
    for name, make in cases.items():
        states = [[a.copy(), np.abs(b) + 0.5, 0.1 * np.abs(a) + 0.01] for _ in range(2)]
        ref_args, fast_args = make(*states[0])[0], make(*states[1])[1]
        getattr(ref, name)(*ref_args)
        getattr(fast, name)(*fast_args)
        for x, y in zip(states[0], states[1]):
            np.testing.assert_allclose(y, x, **tol, err_msg=name)


def _trajectory(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((64, 300)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    net = Sequential(nt.Dense(300, 200, seed=0), nt.ReLU(), nt.Dense(200, 100, seed=1), nt.Tanh(),
                     nt.Dense(100, 10, seed=2))
    loss, opt = nt.SoftmaxCrossEntropy(), nt.optim.Adam(net.parameters(), lr=1e-3)
    out = []
    for _ in range(3):
        opt.zero_grad()
        out.append(loss(net.forward(x), y))
        net.backward(loss.backward())
        opt.step()
    return out, [p.data.copy() for p in net.parameters()]


def test_a_training_step_is_the_same_on_both_paths():
    pytest.importorskip("numba", reason="the optional extra neuronet[fast] is not installed")
    before = kernels.active()
    try:
        kernels.use("numpy")
        want = _trajectory()
        kernels.use("numba")
        got = _trajectory()
    finally:
        kernels.use(before)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5)
    for a, b in zip(got[1], want[1]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_the_environment_selects_the_path():
    env = dict(os.environ, NEURONET_KERNELS="numpy")
    out = subprocess.run([sys.executable, "-c", "import neuronet.kernels as k; print(k.active())"],
                         env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "numpy"
    with pytest.raises(ValueError, match="kernels must be"):
        kernels.use("fortran")


@pytest.mark.gpu
@pytest.mark.skipif(not nt.backend.cupy_available(), reason="needs CuPy and a CUDA device")
@pytest.mark.parametrize("name", list(RULES))
@pytest.mark.parametrize("gpu_path", ["fused", "xp"])
def test_every_optimiser_on_gpu_equals_cpu(name, gpu_path, monkeypatch):  # pragma: no cover - GPU only
    """Both GPU paths: the fused CuPy kernels and (``use('numpy')``) the xp expressions."""
    from test_optimizers import _grads, _run_ours, _start

    import cupy

    ours, _ = RULES[name]
    grads, start = _grads(), _start()
    want, _, _ = _run_ours(ours, grads, start, weight_decay=0.1)
    monkeypatch.setitem(kernels._STATE, "gpu", gpu_path == "fused")
    got, _, params = _run_ours(ours, [[cupy.asarray(g) for g in gs] for gs in grads],
                               [cupy.asarray(w) for w in start], weight_decay=0.1)
    assert all(isinstance(p.data, cupy.ndarray) for p in params)
    for a, b in zip(want[-1], got[-1]):
        np.testing.assert_allclose(cupy.asnumpy(b), a, rtol=1e-6, atol=1e-9)
