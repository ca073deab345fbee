"""The CuPy kernels' formulas against the NumPy reference, without a GPU.

:mod:`neuronet.kernels.cupy_kernels` keeps each ``ElementwiseKernel`` as source text
(inputs, outputs, a C loop body). Here a small interpreter runs those bodies element-wise
on NumPy arrays in place of CuPy (``tests/fake_device.py``: declarations ``T x = …`` become
locals, casts ``(T)…`` the dtype, assignments to outputs write in place), and the module's
own wrappers call it with their argument order. What this cannot see is whether CUDA compiles the
text: that is the GPU tests' part (tests/optim/test_kernels.py, tests/energy/test_energy_gpu.py).
"""
from __future__ import annotations

import numpy as np
import pytest
from fake_device import kernel_from_source

from neuronet.kernels import cupy_kernels, numpy_kernels


def _interpreter(name: str):
    """What ``cupy_kernels._kernel(name)`` returns, run on NumPy arrays."""
    return kernel_from_source(*cupy_kernels._SOURCES[name], name)


@pytest.fixture
def interpreted(monkeypatch):
    monkeypatch.setattr(cupy_kernels, "_kernel", _interpreter)
    return cupy_kernels


def test_activation_kernels_equal_the_reference(interpreted, rng):
    a, b = rng.standard_normal((2, 500))
    y = 1 / (1 + np.exp(-a))
    for name, args in (("sigmoid", (a,)), ("relu_backward", (a, b)), ("tanh_backward", (a, np.tanh(b), 1.7)),
                       ("sigmoid_backward", (a, y))):
        want, got = np.empty_like(a), np.empty_like(a)
        getattr(numpy_kernels, name)(*args, want)
        getattr(interpreted, name)(*args, got)
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15, err_msg=name)


def _rms(centered, momentum):
    def make(w, s, t, u, g, fast):
        ga = t if centered else None
        buf = u if momentum else None
        if fast:  # the compiled modules' signature: placeholders and flags
            return (w, s, g, 0.01, 0.9, 1e-8, t if centered else s, u if momentum else s, 0.5,
                    centered, momentum)
        return (w, s, g, 0.01, 0.9, 1e-8, ga, buf, 0.5)
    return make


#: case -> (kernel function, its arguments from the states ``w, s, t, u``, ``g`` and ``fast``)
CASES = {
    "sgd": ("sgd_step", lambda w, s, t, u, g, fast: (w, g, 0.1)),
    "momentum": ("momentum_step", lambda w, s, t, u, g, fast: (w, s, g, 0.1, 0.9, False)),
    "nesterov": ("momentum_step", lambda w, s, t, u, g, fast: (w, s, g, 0.1, 0.9, True)),
    "adadelta": ("adadelta_step", lambda w, s, t, u, g, fast: (w, s, t, g, 1.0, 0.9, 1e-6)),
    "adam": ("adam_step", lambda w, s, t, u, g, fast: (w, s, t, g, 0.01, 0.9, 0.999, 1e-8, 1.2, 0.001)),
    "rmsprop": ("rmsprop_step", _rms(False, False)),
    "rmsprop_centered": ("rmsprop_step", _rms(True, False)),
    "rmsprop_momentum": ("rmsprop_step", _rms(False, True)),
    "rmsprop_centered_momentum": ("rmsprop_step", _rms(True, True)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_optimiser_kernels_equal_the_reference(interpreted, rng, case):
    name, make = CASES[case]
    a, b, c = rng.standard_normal((3, 400))
    g = rng.standard_normal(400)
    states = [[a.copy(), np.abs(b) + 0.5, 0.1 * np.abs(c) + 0.01, 0.3 * c] for _ in range(2)]
    getattr(numpy_kernels, name)(*make(*states[0], g, False))
    getattr(interpreted, name)(*make(*states[1], g, True))
    assert not np.array_equal(states[0][0], a)  # the step moved the weights
    for want, got in zip(*states):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14, err_msg=case)


def test_the_interpreter_sees_a_wrong_formula(rng):
    """Not vacuous: a kernel whose body differs from the reference fails the comparison."""
    inputs, outputs, body = cupy_kernels._SOURCES["sgd_step"]
    cupy_kernels._SOURCES["broken"] = (inputs, outputs, body.replace("lr * g", "lr * g * g"))
    try:
        w, g = rng.standard_normal((2, 50))
        got = w.copy()
        _interpreter("broken")(g, 0.1, got)
        want = w.copy()
        numpy_kernels.sgd_step(want, g, 0.1)
        assert not np.allclose(got, want)
    finally:
        del cupy_kernels._SOURCES["broken"]
