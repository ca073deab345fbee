"""Zeroing as a flag (the first backward writes the gradient) and the automatic skip of a
network's ∂E/∂x: same numbers as before, less work."""
import numpy as np
import pytest

import neuronet as nt
from neuronet.layers import Concat, Sequential
from neuronet.module import Parameter


def test_zero_grad_is_a_flag_and_readers_see_zeros():
    p = Parameter(np.ones((2, 3)))
    p.grad[...] = 5.0
    buf = p._grad
    p.zero_grad()
    assert p._grad is buf and p._grad_is_zero and np.all(buf == 5.0)  # no pass over memory
    p.grad += 2.0                                                        # other code's `+=` still works
    np.testing.assert_array_equal(p.grad, np.full((2, 3), 2.0))
    p.zero_grad()
    p.grad[0, 0] = 7.0                                                   # ... and item assignment
    np.testing.assert_array_equal(p.grad, [[7, 0, 0], [0, 0, 0]])


@pytest.mark.parametrize("how", ["matmul", "sum", "plain"])
def test_first_accumulation_writes_later_ones_add(how, rng):
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 6))
    p = Parameter(np.zeros(6) if how == "sum" else np.zeros((4, 6)))
    p.grad[...] = 99.0
    p.zero_grad()
    value = {"matmul": a @ b, "sum": (a @ b).sum(axis=0), "plain": a @ b}[how]
    for k in (1, 2):
        if how == "matmul":
            p.accumulate_grad_matmul(a, b)
        elif how == "sum":
            p.accumulate_grad_sum(a @ b, 0)
        else:
            p.accumulate_grad(a @ b)
        assert not p._grad_is_zero
        np.testing.assert_allclose(p.grad, k * value)


def test_accumulate_matmul_reshapes_into_a_kernel_gradient(rng):
    p = Parameter(np.zeros((2, 3, 2, 2)))
    a, b = rng.standard_normal((2, 5)), rng.standard_normal((5, 12))
    p.zero_grad()
    p.accumulate_grad_matmul(a, b)
    np.testing.assert_allclose(p.grad, (a @ b).reshape(2, 3, 2, 2))


def _mlp(**first):
    return Sequential(nt.Dense(5, 4, seed=0, dtype=np.float64, **first), nt.Tanh(),
                      nt.Dense(4, 3, seed=1, dtype=np.float64))


def test_outermost_network_skips_its_input_gradient_but_not_its_weight_gradients(rng):
    x, dy = rng.standard_normal((6, 5)), rng.standard_normal((6, 3))
    fast, full = _mlp(), _mlp(input_grad=True)
    fast.forward(x), full.forward(x)
    fast.zero_grad(), full.zero_grad()
    assert fast.backward(dy) is None
    dx = full.backward(dy)
    assert dx.shape == x.shape
    for p, q in zip(fast.parameters(), full.parameters()):
        np.testing.assert_allclose(p.grad, q.grad)
    fast.forward(x)
    with nt.input_gradients():
        np.testing.assert_allclose(fast.backward(dy), dx)


def test_a_network_inside_another_module_passes_its_input_gradient_on(rng):
    net = Concat(_mlp())
    x = rng.standard_normal((6, 5))
    y = net.forward(x)
    dx = net.backward(np.ones_like(y))
    assert dx is not None and dx.shape == x.shape


def test_chained_networks_get_the_gradient_between_them(rng):
    enc, dec = _mlp(), Sequential(nt.Dense(3, 5, seed=2, dtype=np.float64))
    x = rng.standard_normal((6, 5))
    y = dec.forward(enc.forward(x))
    dh = dec.backward(np.ones_like(y))                  # dec's input is enc's output: needed
    assert dh is not None and dh.shape == (6, 3)
    assert enc.backward(dh) is None                     # enc's input is data
    dec.forward(rng.standard_normal((6, 3)))            # fresh data into dec: skipped
    assert dec.backward(np.ones_like(y)) is None


def test_explicit_false_skips_even_when_asked(rng):
    layer = nt.Dense(5, 4, seed=0, input_grad=False)
    layer.forward(rng.standard_normal((2, 5)).astype(np.float32))
    with nt.input_gradients():
        assert layer.backward(np.ones((2, 4), np.float32)) is None
