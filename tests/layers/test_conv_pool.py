"""Conv2d, pooling, LeNet subsampling, Flatten, ScaledTanh: gradients by finite
differences (float64) and by PyTorch autograd, curvature passes, bad input."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import second_diff, shifted_values

import neuronet as nt

TOL = 1e-6


# ------------------------------------------------------------------ helpers
# the engine's central differences (z perturbed in place): numgrad(f, z) = ∂f/∂z
numgrad = nt.numerical_gradient


def check_torch(layer, x, torch_forward, rng):
    """Output, ∂E/∂x and every parameter's gradient of ``E = Σ dy·y`` (random ``dy``) against
    torch autograd of ``torch_forward(x, **params)``: the layer's parameters as tensors, by name."""
    y = layer.forward(x)
    dy = rng.standard_normal(y.shape)
    dx = layer.backward(dy)
    xt = torch.tensor(x, requires_grad=True)
    pt = {name: torch.tensor(p.data, requires_grad=True) for name, p in layer.named_parameters()}
    yt = torch_forward(xt, **pt)
    yt.backward(torch.tensor(dy))
    assert y.shape == tuple(yt.shape)
    np.testing.assert_allclose(y, yt.detach().numpy(), atol=TOL)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=TOL)
    for name, p in layer.named_parameters():
        np.testing.assert_allclose(p.grad, pt[name].grad.numpy(), atol=TOL, err_msg=name)


def check_fd(layer, x, rng):
    """Finite differences of ``E = Σ dy·y`` w.r.t. the input and every parameter."""
    y = layer.forward(x)
    dy = rng.standard_normal(y.shape)
    layer.zero_grad()
    dx = layer.backward(dy)

    def energy():
        return float(np.sum(dy * layer.forward(x)))

    np.testing.assert_allclose(dx, numgrad(energy, x), atol=TOL, rtol=TOL)
    for p in layer.parameters():
        num = numgrad(energy, p.data)
        if p.mask is not None:
            num = num * p.mask
        np.testing.assert_allclose(p.grad, num, atol=TOL, rtol=TOL, err_msg=p.name)


def check_curvature(layer, x, rng):
    """For a layer linear in x and in each parameter, the Gauss-Newton diagonal of
    ``E = ½ Σ c·y²`` (c ≥ 0) is the exact diagonal Hessian: compare with second differences."""
    y = layer.forward(x)
    c = rng.uniform(0.5, 2.0, y.shape)
    layer.zero_curv()
    d2x = layer.backward_curvature(c)

    def energy():
        return float(0.5 * np.sum(c * layer.forward(x) ** 2))

    np.testing.assert_allclose(d2x, second_diff(energy, x), atol=1e-5, rtol=1e-5)
    for p in layer.parameters():
        num = second_diff(energy, p.data)
        if p.mask is not None:
            num = num * p.mask
        np.testing.assert_allclose(p.curv, num, atol=1e-5, rtol=1e-5, err_msg=p.name)


def conv64(*args, rng, **kw):
    layer = nt.Conv2d(*args, rng=rng, **kw).astype(np.float64)
    if layer.b is not None:
        layer.b.data[...] = rng.standard_normal(layer.b.shape)
    return layer


# (N, C_in, C_out, H, W, kernel, stride, padding)
CONV_CASES = [
    (2, 3, 4, 7, 8, 3, 1, 0),
    (1, 2, 3, 6, 6, 3, 1, 1),                 # batch size 1, padding
    (3, 2, 5, 9, 7, (2, 3), (2, 1), (1, 2)),  # non-square everything
    (2, 1, 2, 5, 5, 5, 1, 0),                 # kernel = image
    (2, 4, 3, 11, 10, (3, 1), 3, (0, 1)),     # stride larger than 1, sizes that do not divide
]


# ------------------------------------------------------------------ Conv2d
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d_matches_torch(case, rng):
    n, cin, cout, h, w, k, s, p = case
    layer = conv64(cin, cout, k, stride=s, padding=p, rng=rng)
    x = rng.standard_normal((n, cin, h, w))
    check_torch(layer, x, lambda v, W, b: F.conv2d(v, W, b, stride=s, padding=p), rng)


@pytest.mark.parametrize("case", CONV_CASES[:3])
def test_conv2d_finite_differences(case, rng):
    n, cin, cout, h, w, k, s, p = case
    layer = conv64(cin, cout, k, stride=s, padding=p, rng=rng)
    x = rng.standard_normal((n, cin, h, w))
    check_fd(layer, x, rng)
    assert nt.gradcheck(layer, x, atol=TOL, rtol=TOL, seed=1)


@pytest.mark.parametrize("case", CONV_CASES[1:3])
def test_conv2d_curvature(case, rng):
    n, cin, cout, h, w, k, s, p = case
    layer = conv64(cin, cout, k, stride=s, padding=p, rng=rng)
    check_curvature(layer, rng.standard_normal((n, cin, h, w)), rng)


def test_conv2d_gradients_accumulate_and_no_bias(rng):
    layer = conv64(2, 3, 3, bias=False, rng=rng)
    assert layer.parameters() == [layer.W]
    x = rng.standard_normal((2, 2, 5, 5))
    dy = rng.standard_normal(layer.forward(x).shape)
    layer.backward(dy)
    g1 = layer.W.grad.copy()
    layer.backward(dy)
    np.testing.assert_allclose(layer.W.grad, 2 * g1)


def test_conv2d_float32_default_and_int_input(rng):
    layer = nt.Conv2d(1, 2, 3, rng=rng)
    assert layer.W.data.dtype == np.float32
    y = layer.forward(rng.integers(0, 255, (2, 1, 6, 6)))
    assert y.dtype == np.float32 and y.shape == (2, 2, 4, 4)


def test_conv2d_input_grad_off(rng):
    layer = conv64(1, 2, 3, rng=rng, input_grad=False)
    y = layer.forward(rng.standard_normal((2, 1, 5, 5)))
    assert layer.backward(np.ones_like(y)) is None
    assert np.abs(layer.W.grad).sum() > 0


# ------------------------------------------------------------------ connection table
def test_connection_table_equals_masked_torch_conv(rng):
    table = rng.random((5, 4)) < 0.5
    table[:, 0] |= ~table.any(axis=1)          # every output map sees something
    layer = conv64(4, 5, (3, 2), stride=(1, 2), padding=1, connections=table, rng=rng)
    mask = table[:, :, None, None]
    assert np.all(layer.W.data[~table] == 0)
    x = rng.standard_normal((3, 4, 8, 7))
    def masked_conv(v, W, b):
        return F.conv2d(v, W * torch.tensor(mask), b, stride=(1, 2), padding=1)

    check_torch(layer, x, masked_conv, rng)
    assert np.all(layer.W.grad[~table] == 0)
    # num_parameters counts only the connected kernels (+ biases)
    assert layer.num_parameters() == int(table.sum()) * 3 * 2 + 5


def test_connection_table_weights_stay_zero_under_sgd(rng):
    table = np.eye(3, dtype=bool)
    layer = nt.Conv2d(3, 3, 3, connections=table, rng=rng)
    x = rng.standard_normal((2, 3, 6, 6))
    for _ in range(3):
        layer.zero_grad()
        layer.backward(rng.standard_normal(layer.forward(x).shape))
        for p in layer.parameters():
            p.data -= 0.1 * p.grad
            p.apply_mask()
    assert np.all(layer.W.data[~table] == 0)
    assert np.all(layer.W.data[table] != 0)


def test_connection_table_curvature_masked(rng):
    table = np.array([[True, False], [True, True], [False, True]])
    layer = conv64(2, 3, 2, connections=table, rng=rng)
    check_curvature(layer, rng.standard_normal((2, 2, 4, 5)), rng)
    assert np.all(layer.W.curv[~table] == 0)


# ------------------------------------------------------------------ bad input
def test_conv2d_bad_inputs(rng):
    layer = nt.Conv2d(3, 4, (3, 5))
    with pytest.raises(ValueError, match="3 channels"):
        layer.forward(np.zeros((2, 2, 8, 8)))
    with pytest.raises(ValueError, match="smaller than the 3×5 window"):
        layer.forward(np.zeros((2, 3, 8, 4)))
    with pytest.raises(ValueError, match="4-D"):
        layer.forward(np.zeros((3, 8, 8)))
    with pytest.raises(TypeError, match="numeric"):
        layer.forward(np.array([["a"]]))
    with pytest.raises(ValueError, match=r"shape \(out_channels, in_channels\) = \(4, 3\), got \(3, 4\)"):
        nt.Conv2d(3, 4, 3, connections=np.ones((3, 4), bool))
    table = np.ones((4, 3), bool)
    table[2] = False
    with pytest.raises(ValueError, match=r"output map\(s\) \[2\] see no input"):
        nt.Conv2d(3, 4, 3, connections=table)
    with pytest.raises(TypeError, match="boolean"):
        nt.Conv2d(3, 4, 3, connections=np.full((4, 3), 0.5))
    with pytest.raises(ValueError, match="kernel_size"):
        nt.Conv2d(3, 4, 0)
    with pytest.raises(ValueError, match="pair"):
        nt.Conv2d(3, 4, (1, 2, 3))
    with pytest.raises(ValueError, match="init"):
        nt.Conv2d(3, 4, 3, init="bogus")


# ------------------------------------------------------------------ pooling
# (N, C, H, W, kernel, stride)
POOL_CASES = [
    (2, 3, 8, 8, 2, None),            # tiles exactly (reshape fast path)
    (1, 2, 7, 9, (2, 3), None),       # non-square, sizes that do not divide, batch 1
    (2, 2, 7, 8, 3, 2),               # overlapping windows
    (2, 1, 6, 7, (2, 3), (1, 2)),     # non-square overlapping
    (2, 2, 9, 5, (3, 2), (2, 3)),     # stride larger than the window horizontally
]


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("case", POOL_CASES)
def test_pool_matches_torch(kind, case, rng):
    n, c, h, w, k, s = case
    layer = nt.MaxPool2d(k, s) if kind == "max" else nt.AvgPool2d(k, s)
    x = rng.standard_normal((n, c, h, w))
    fn = F.max_pool2d if kind == "max" else F.avg_pool2d
    check_torch(layer, x, lambda v: fn(v, k, s), rng)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("case", POOL_CASES[1:4])
def test_pool_finite_differences_and_curvature(kind, case, rng):
    n, c, h, w, k, s = case
    layer = nt.MaxPool2d(k, s) if kind == "max" else nt.AvgPool2d(k, s)
    x = rng.standard_normal((n, c, h, w))
    check_fd(layer, x, rng)
    check_curvature(layer, x, rng)


def test_maxpool_ties_route_to_one_element():
    # an all-zero window (as after ReLU) must pass its gradient to one input only
    layer = nt.MaxPool2d(2)
    x = np.zeros((1, 1, 2, 2))
    layer.forward(x)
    dx = layer.backward(np.ones((1, 1, 1, 1)))
    assert dx.sum() == 1.0 and dx[0, 0, 0, 0] == 1.0


def test_pool_bad_inputs():
    with pytest.raises(ValueError, match="4-D"):
        nt.MaxPool2d(2).forward(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="smaller than the 2×3 window"):
        nt.AvgPool2d((2, 3)).forward(np.zeros((1, 1, 4, 2)))
    with pytest.raises(ValueError, match="stride"):
        nt.MaxPool2d(2, stride=0)


# ------------------------------------------------------------------ Subsampling
def subsampling64(c, k, s, rng):
    layer = nt.Subsampling(c, k, s).astype(np.float64)
    layer.a.data[...] = rng.uniform(0.5, 1.5, c)
    layer.b.data[...] = rng.standard_normal(c)
    return layer


@pytest.mark.parametrize("case", [(2, 3, 8, 8, 2, None), (1, 2, 7, 9, (2, 3), (1, 2))])
def test_subsampling_matches_torch(case, rng):
    n, c, h, w, k, s = case
    layer = subsampling64(c, k, s, rng)
    x = rng.standard_normal((n, c, h, w))
    check_torch(layer, x, lambda v, a, b: F.avg_pool2d(v, k, s) * a[:, None, None] + b[:, None, None], rng)


def test_subsampling_finite_differences_and_curvature(rng):
    layer = subsampling64(2, (2, 3), (1, 2), rng)
    x = rng.standard_normal((2, 2, 5, 7))
    check_fd(layer, x, rng)
    check_curvature(layer, x, rng)
    assert layer.num_parameters() == 4


def test_subsampling_wrong_channels():
    with pytest.raises(ValueError, match="4 channels"):
        nt.Subsampling(4).forward(np.zeros((1, 3, 4, 4)))


# ------------------------------------------------------------------ Flatten, ScaledTanh
def test_flatten_roundtrip(rng):
    layer = nt.Flatten()
    x = rng.standard_normal((3, 2, 4, 5))
    y = layer.forward(x)
    assert y.shape == (3, 40)
    np.testing.assert_array_equal(y[1], x[1].ravel())
    dy = rng.standard_normal(y.shape)
    np.testing.assert_array_equal(layer.backward(dy), dy.reshape(x.shape))
    np.testing.assert_array_equal(layer.backward_curvature(dy), dy.reshape(x.shape))
    with pytest.raises(ValueError, match="at least 2-D"):
        layer.forward(np.zeros(3))


def test_scaled_tanh_matches_torch_and_fd(rng):
    layer = nt.ScaledTanh()
    x = rng.standard_normal((4, 3, 2)) * 2
    y = layer.forward(x)
    dy = rng.standard_normal(y.shape)
    dx = layer.backward(dy)
    xt = torch.tensor(x, requires_grad=True)
    yt = 1.7159 * torch.tanh(2.0 * xt / 3.0)
    yt.backward(torch.tensor(dy))
    np.testing.assert_allclose(y, yt.detach().numpy(), atol=TOL)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=TOL)
    check_fd(layer, x, rng)
    # f(±1) = ±1 (LeCun's choice of constants, to 4 digits)
    np.testing.assert_allclose(layer.forward(np.array([1.0, -1.0])), [1.0, -1.0], atol=1e-4)


def test_scaled_tanh_curvature_is_gauss_newton(rng):
    layer = nt.ScaledTanh()
    x = rng.standard_normal((5, 4))
    layer.forward(x)
    d2y = rng.uniform(0.1, 1.0, x.shape)
    # f'(x) by differences of Σ f (each f depends only on its own x)
    slope = numgrad(lambda: float(np.sum(nt.ScaledTanh().forward(x))), x)
    np.testing.assert_allclose(layer.backward_curvature(d2y), d2y * slope ** 2, rtol=1e-6)
