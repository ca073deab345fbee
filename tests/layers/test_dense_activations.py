"""Engine layers against finite differences and PyTorch autograd (float64)."""
from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import neuronet as nt
from neuronet.layers import Concat, Sequential

TOL = 1e-6


def _t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def _torch_dense(x, W, b=None):
    y = x @ W
    return y if b is None else y + b


def _prelu(x, alpha):
    return F.prelu(x, alpha)


def _maxout(pieces):
    return lambda x: x.reshape(x.shape[0], -1, pieces).max(dim=2).values


# name -> (module factory given input shape, torch function of (x, *params), input shapes)
CASES = {
    "dense": (lambda s: nt.Dense(s[1], 3, seed=1), _torch_dense, [(4, 5), (1, 5), (7, 2)]),
    "dense_nobias": (lambda s: nt.Dense(s[1], 4, bias=False, seed=2), _torch_dense, [(3, 6), (1, 1)]),
    "dense_normal": (lambda s: nt.Dense(s[1], 2, init="normal", std=0.5, seed=3), _torch_dense,
                     [(5, 3)]),
    "sigmoid": (lambda s: nt.Sigmoid(), torch.sigmoid, [(4, 5), (1, 3), (2, 3, 4, 4)]),
    "tanh": (lambda s: nt.Tanh(), torch.tanh, [(4, 5), (1, 3), (2, 3, 4)]),
    "relu": (lambda s: nt.ReLU(), F.relu, [(4, 5), (1, 3), (2, 3, 4, 4)]),
    "leaky_relu": (lambda s: nt.LeakyReLU(0.2), lambda x: F.leaky_relu(x, 0.2), [(4, 5), (1, 3)]),
    "prelu_shared": (lambda s: nt.PReLU(init=0.3), _prelu, [(4, 5), (1, 3), (2, 3, 4, 4)]),
    "prelu_feature": (lambda s: nt.PReLU(s[1], init=0.1), _prelu, [(4, 5), (1, 3), (2, 3, 4, 4)]),
    "softplus": (lambda s: nt.Softplus(), F.softplus, [(4, 5), (1, 3), (2, 3, 4)]),
    "maxout2": (lambda s: nt.Maxout(2), _maxout(2), [(4, 6), (1, 2)]),
    "maxout3": (lambda s: nt.Maxout(3), _maxout(3), [(5, 9), (1, 3)]),
    "softmax": (lambda s: nt.Softmax(), lambda x: F.softmax(x, dim=-1), [(4, 5), (1, 3)]),
    "sequential": (lambda s: Sequential(nt.Dense(s[1], 4, seed=5), nt.Tanh(), nt.Dense(4, 2, seed=6)),
                   lambda x, W1, b1, W2, b2: torch.tanh(x @ W1 + b1) @ W2 + b2, [(3, 5), (1, 2)]),
    "concat": (lambda s: Concat(Sequential(nt.Dense(s[1], 3, seed=7), nt.Sigmoid())),
               lambda x, W, b: torch.cat([x, torch.sigmoid(x @ W + b)], dim=1), [(4, 3), (1, 2)]),
}

PARAMS = [(name, shape) for name, (_, _, shapes) in CASES.items() for shape in shapes]


def _build(name, shape):
    make, fn, _ = CASES[name]
    module = make(shape).astype(np.float64)
    rng = np.random.default_rng(zlib.crc32(repr((name, shape)).encode()))
    x = rng.standard_normal(shape)
    # Keep ReLU-like kinks and Maxout ties away from finite-difference steps.
    x[np.abs(x) < 1e-3] += 0.01
    return module, fn, x, rng


@pytest.mark.parametrize("name,shape", PARAMS)
def test_matches_torch_autograd(name, shape):
    module, fn, x, rng = _build(name, shape)
    for p in module.parameters():  # non-trivial parameter values
        p.data[...] = rng.standard_normal(p.shape) * 0.7
    y = module.forward(x)
    dy = rng.standard_normal(y.shape)
    module.zero_grad()
    with nt.input_gradients():  # torch's x.requires_grad: a network's ∂E/∂x only when asked
        dx = module.backward(dy)

    xt = _t(x, True)
    pts = [_t(p.data, True) for p in module.parameters()]
    yt = fn(xt, *pts)
    yt.backward(_t(dy))
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=TOL, atol=TOL)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=TOL, atol=TOL)
    for p, pt in zip(module.parameters(), pts):
        np.testing.assert_allclose(p.grad, pt.grad.numpy(), rtol=TOL, atol=TOL, err_msg=p.name)


@pytest.mark.parametrize("name,shape", PARAMS)
def test_finite_differences(name, shape):
    module, _, x, rng = _build(name, shape)
    assert nt.gradcheck(module, x, seed=int(rng.integers(1000)), atol=1e-6, rtol=1e-5)


def test_gradcheck_detects_a_wrong_gradient():
    class Broken(nt.Tanh):
        def backward(self, dy):
            return dy * (1 - self._y)  # missing square

    with pytest.raises(nt.GradcheckError, match="input"):
        nt.gradcheck(Broken(), np.random.default_rng(0).standard_normal((3, 4)))
    assert nt.gradcheck(Broken(), np.ones((2, 2)) * 0.3, raise_exception=False) is False


def test_gradcheck_detects_a_wrong_parameter_gradient():
    class Broken(nt.Dense):
        def backward(self, dy):
            dx = super().backward(dy)
            self.W.grad *= 1.01
            return dx

    m = Broken(3, 2, seed=0).astype(np.float64)
    with pytest.raises(AssertionError, match="parameter W"):
        nt.gradcheck(m, np.random.default_rng(1).standard_normal((4, 3)))


def test_gradcheck_refuses_float32():
    with pytest.raises(ValueError, match="float64"):
        nt.gradcheck(nt.Dense(2, 2, seed=0), np.ones((1, 2)))


def test_backward_accumulates_into_grad():
    m = nt.Dense(3, 2, seed=0).astype(np.float64)
    x = np.random.default_rng(0).standard_normal((4, 3))
    dy = np.random.default_rng(1).standard_normal((4, 2))
    m.forward(x)
    m.backward(dy)
    g1 = m.W.grad.copy()
    m.backward(dy)
    np.testing.assert_allclose(m.W.grad, 2 * g1)


def test_dense_input_grad_false_skips_dx():
    m = nt.Dense(3, 2, seed=0, input_grad=False).astype(np.float64)
    ref = nt.Dense(3, 2, seed=0).astype(np.float64)
    x = np.random.default_rng(0).standard_normal((4, 3))
    dy = np.random.default_rng(1).standard_normal((4, 2))
    m.forward(x), ref.forward(x)
    assert m.backward(dy) is None
    ref.backward(dy)
    np.testing.assert_array_equal(m.W.grad, ref.W.grad)


def test_integer_input_is_converted():
    m = nt.Dense(3, 2, seed=0)
    xi = np.array([[1, 2, 3], [0, -1, 4]])
    y = m.forward(xi)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, m.forward(xi.astype(np.float32)))
    assert nt.ReLU().forward(xi).dtype == nt.get_default_dtype()
    assert nt.Sigmoid().forward(np.array([[True, False]])).dtype.kind == "f"


def test_default_dtype_and_explicit_dtype():
    assert nt.Dense(2, 3).W.data.dtype == np.float32
    assert nt.Dense(2, 3, dtype=np.float64).b.data.dtype == np.float64
    assert nt.Dense(2, 3, seed=0).forward(np.ones((1, 2), dtype=np.float64)).dtype == np.float32


def test_seed_reproducible_and_inits():
    a, b = nt.Dense(10, 20, seed=3), nt.Dense(10, 20, seed=3)
    np.testing.assert_array_equal(a.W.data, b.W.data)
    assert not np.array_equal(a.W.data, nt.Dense(10, 20, seed=4).W.data)
    assert np.all(nt.Dense(4, 4, init="zeros").W.data == 0)
    assert np.all(nt.Dense(4, 4, seed=0).b.data == 0)
    big = nt.Dense(400, 300, init="he", seed=0).W.data
    assert abs(big.std() - np.sqrt(2 / 400)) < 0.01 * np.sqrt(2 / 400) * 5
    g = nt.Dense(400, 300, init="glorot", seed=0).W.data
    assert abs(g.std() - np.sqrt(2 / 700)) < 0.05 * np.sqrt(2 / 700)
    assert np.abs(g).max() <= np.sqrt(6 / 700)
    s = nt.Dense(400, 300, init=0.01, seed=0).W.data
    assert abs(s.std() - 0.01) < 0.0005


def test_init_functions():
    w = nt.init.normal((200, 300), 0.02, seed=0)
    assert w.shape == (200, 300) and w.dtype == np.float32 and abs(w.std() - 0.02) < 0.001
    assert nt.init.zeros((2, 3)).sum() == 0
    assert nt.init.fans((16, 6, 5, 5)) == (150, 400)
    h = nt.init.he((1000, 50), rng=np.random.default_rng(0), dtype=np.float64)
    assert h.dtype == np.float64 and abs(h.std() - np.sqrt(2 / 1000)) < 0.003
    with pytest.raises(ValueError, match="init must be one of"):
        nt.Dense(2, 2, init="bogus")


def test_threshold_forward_and_backward_error():
    x = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_array_equal(nt.Threshold().forward(x), [[-1, 1, 1]])
    step = nt.Threshold("step")
    np.testing.assert_array_equal(step.forward(x), [[0, 1, 1]])
    with pytest.raises(RuntimeError, match="inference only"):
        step.backward(np.ones((1, 3)))
    with pytest.raises(ValueError, match="'sign' or 'step'"):
        nt.Threshold("bogus")


def test_maxout_shape_and_error():
    m = nt.Maxout(3)
    assert m.forward(np.zeros((2, 12))).shape == (2, 4)
    with pytest.raises(ValueError, match="multiple of pieces=3"):
        m.forward(np.zeros((2, 10)))


def test_activations_stable_for_large_inputs():
    x = np.array([[-1000.0, 0.0, 1000.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        np.testing.assert_allclose(nt.Sigmoid().forward(x), [[0, 0.5, 1]])
        np.testing.assert_allclose(nt.Softplus().forward(x), [[0, np.log(2), 1000]])
        np.testing.assert_allclose(nt.Softmax().forward(x), [[0, 0, 1]])


# ------------------------------------------------------------------ dropout
@pytest.mark.parametrize("inverted", [True, False])
def test_dropout_matches_torch_with_the_same_mask(inverted):
    p = 0.3
    d = nt.Dropout(p, inverted=inverted, seed=0)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 7))
    y = d.forward(x)
    keep = y != 0
    scale = 1 / (1 - p) if inverted else 1.0
    xt = _t(x, True)
    yt = xt * _t(keep) * scale
    dy = rng.standard_normal(x.shape)
    yt.backward(_t(dy))
    np.testing.assert_allclose(y, yt.detach().numpy(), atol=TOL)
    np.testing.assert_allclose(d.backward(dy), xt.grad.numpy(), atol=TOL)
    # evaluation: identity (inverted) or the lecture's (1 − p)·x (classic)
    d.eval()
    np.testing.assert_allclose(d.forward(x), x if inverted else (1 - p) * x)
    np.testing.assert_allclose(d.backward(dy), dy if inverted else (1 - p) * dy)


def test_dropout_rate_expectation_and_seed():
    x = np.ones((200, 500), dtype=np.float32)
    d = nt.Dropout(0.25, seed=3)
    y = d.forward(x)
    assert abs((y == 0).mean() - 0.25) < 0.01
    assert abs(y.mean() - 1.0) < 0.01  # inverted dropout keeps the expectation
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, nt.Dropout(0.25, seed=3).forward(x))
    classic = nt.Dropout(0.25, inverted=False, seed=3).forward(x)
    assert set(np.unique(classic)) == {0.0, 1.0}
    state = d.rng_state()
    a = d.forward(x)
    d.set_rng_state(state)
    np.testing.assert_array_equal(a, d.forward(x))
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\)"):
        nt.Dropout(1.0)


def test_dropout_in_a_net_gradchecks_with_fixed_mask():
    net = Sequential(nt.Dense(4, 6, seed=0), nt.ReLU(), nt.Dropout(0.5, seed=1), nt.Dense(6, 2, seed=2))
    net.astype(np.float64)
    x = np.random.default_rng(0).standard_normal((3, 4))
    drop = net[2]
    drop.forward(np.ones((3, 6)))
    mask = drop._scale.copy()

    class Fixed(nt.Dropout):
        def forward(self, x):
            self._scale = mask
            return x * mask

    net.layers[2] = Fixed(0.5)
    assert nt.gradcheck(net, x)


def test_dropout_curvature_uses_the_squared_mask():
    d = nt.Dropout(0.4, seed=2)
    x = np.random.default_rng(3).standard_normal((4, 5))
    y = d.forward(x)
    scale = np.where(y != 0, 1 / 0.6, 0.0)
    d2y = np.random.default_rng(4).uniform(size=x.shape)
    np.testing.assert_allclose(d.backward_curvature(d2y), scale ** 2 * d2y)


def test_gradcheck_respects_masks():
    """A masked (pruned) weight has no numerical gradient to compare: gradcheck passes."""
    import neuronet as nt
    layer = nt.Dense(4, 3, seed=0).astype(np.float64)
    mask = np.ones((4, 3), bool)
    mask[0, :] = False
    layer.W.set_mask(mask)
    x = np.random.default_rng(1).normal(size=(5, 4))
    assert nt.gradcheck(layer, x)
    assert np.all(layer.W.data[0] == 0)
