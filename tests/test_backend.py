"""Backend, dtype policy, seeding and the Module protocol's bookkeeping."""
from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet.backend import asnumpy, cupy_available, get_array_module, to_device
from neuronet.random import make_rng, rng_state, set_rng_state


def test_numpy_arrays_use_numpy():
    assert get_array_module(np.zeros(3), np.ones(2)) is np


def test_default_dtype_is_float32_and_settable():
    assert nt.get_default_dtype() == np.float32
    try:
        nt.set_default_dtype(np.float64)
        assert nt.Dense(3, 2, seed=0).W.data.dtype == np.float64
    finally:
        nt.set_default_dtype(np.float32)
    assert nt.Dense(3, 2, seed=0).W.data.dtype == np.float32
    with pytest.raises(ValueError, match="float32 or float64"):
        nt.set_default_dtype(np.int32)


def test_to_device_rejects_unknown_devices():
    with pytest.raises(ValueError, match="'cpu' or 'cuda'"):
        to_device(np.zeros(2), "tpu")
    assert isinstance(to_device(np.zeros(2), "cpu"), np.ndarray)


def test_make_rng_seeds_reproducibly_and_refuses_both():
    a, b = make_rng(seed=3), make_rng(seed=3)
    assert np.array_equal(a.random(5), b.random(5))
    g = np.random.default_rng(1)
    assert make_rng(g) is g
    with pytest.raises(ValueError, match="either rng= or seed="):
        make_rng(g, seed=1)
    with pytest.raises(TypeError, match="seed must be an int"):
        make_rng(seed=1.5)
    state = rng_state(a)
    x = a.random(4)
    set_rng_state(a, state)
    assert np.array_equal(a.random(4), x)


def test_spec_records_constructor_arguments_and_nesting():
    model = nt.Sequential(nt.Dense(4, 3, init="he", seed=1), nt.ReLU(), nt.Dense(3, 2, seed=2))
    spec = model.spec()
    assert spec["type"] == "Sequential"
    inner = spec["args"]["*layers"]
    assert [type(m).__name__ for m in inner] == ["Dense", "ReLU", "Dense"]
    assert inner[0].spec()["args"]["init"] == "he"
    names = [n for n, _ in model.named_parameters()]
    assert names == ["layers.0.W", "layers.0.b", "layers.2.W", "layers.2.b"]
    assert model.num_parameters() == 4 * 3 + 3 + 3 * 2 + 2


def test_load_state_dict_checks_names_and_shapes():
    m = nt.Dense(4, 3, seed=0)
    state = m.state_dict()
    with pytest.raises(KeyError, match="missing"):
        m.load_state_dict({"W": state["W"]})
    with pytest.raises(ValueError, match=r"shape \(4, 3\)"):
        m.load_state_dict({"W": np.zeros((3, 4)), "b": state["b"]})


@pytest.mark.gpu
@pytest.mark.skipif(not cupy_available(), reason="needs CuPy and a CUDA device")
def test_training_step_on_gpu_equals_cpu():  # pragma: no cover - runs only with a GPU
    import cupy

    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 8)).astype(np.float32)
    y = rng.integers(0, 3, 16)
    results = []
    for device in ("cpu", "cuda"):
        model = nt.Sequential(nt.Dense(8, 5, seed=0), nt.Tanh(), nt.Dense(5, 3, seed=1)).to(device)
        loss = nt.SoftmaxCrossEntropy()
        opt = nt.optim.Momentum(model.parameters(), lr=0.1)
        xd, yd = to_device(x, device), to_device(y, device)
        for _ in range(3):
            loss.forward(model.forward(xd), yd)
            opt.zero_grad()
            model.backward(loss.backward())
            opt.step()
        if device == "cuda":
            assert isinstance(model.parameters()[0].data, cupy.ndarray)
        results.append([asnumpy(p.data) for p in model.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_sequential_append_keeps_the_spec_in_step():
    seq = nt.Sequential(nt.Dense(4, 3, seed=0))
    seq.append(nt.ReLU())
    assert [type(m).__name__ for m in seq.spec()["args"]["*layers"]] == ["Dense", "ReLU"]
    mlp = nt.models.MLP([4, 3, 2], seed=0)
    before = mlp.spec()
    mlp.append(nt.Softmax())
    assert mlp.spec() == before  # a subclass is rebuilt from its own arguments
