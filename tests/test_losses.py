"""Losses against PyTorch and finite differences (float64), and their input checks."""
from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import neuronet as nt

TOL = 1e-6


def _t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def _margin_torch(kind):
    def fn(a, t):
        m = a * t
        per = {"logistic": F.softplus(-m), "hinge": F.relu(1 - m), "exponential": torch.exp(-m),
               "sigmoid": torch.sigmoid(-m)}[kind]
        return per.sum() / a.shape[0]
    return fn


def _data(name, shape, rng):
    """(loss, output, target, torch loss of (output tensor, target tensor))."""
    n = shape[0]
    if name == "mse":
        return (nt.MSE(), rng.standard_normal(shape), rng.standard_normal(shape),
                lambda y, t: 0.5 * ((y - t) ** 2).sum() / n)
    if name == "sce_index":
        t = rng.integers(0, shape[1], n)
        return (nt.SoftmaxCrossEntropy(), rng.standard_normal(shape) * 2, t,
                lambda a, _: F.cross_entropy(a, torch.tensor(t), reduction="sum") / n)
    if name == "sce_onehot":
        t = np.eye(shape[1])[rng.integers(0, shape[1], n)]
        return (nt.SoftmaxCrossEntropy(), rng.standard_normal(shape), t,
                lambda a, tt: F.cross_entropy(a, tt, reduction="sum") / n)
    if name == "sce_soft":
        t = rng.dirichlet(np.ones(shape[1]), n)
        return (nt.SoftmaxCrossEntropy(), rng.standard_normal(shape), t,
                lambda a, tt: F.cross_entropy(a, tt, reduction="sum") / n)
    if name == "bce_prob":
        return (nt.BinaryCrossEntropy(), rng.uniform(0.05, 0.95, shape), rng.uniform(0, 1, shape),
                lambda y, t: F.binary_cross_entropy(y, t, reduction="sum") / n)
    if name == "bce_logits":
        return (nt.BinaryCrossEntropy(from_logits=True), rng.standard_normal(shape) * 3,
                (rng.uniform(0, 1, shape) > 0.5).astype(float),
                lambda a, t: F.binary_cross_entropy_with_logits(a, t, reduction="sum") / n)
    kind = name.split("_", 1)[1]
    t = np.where(rng.uniform(size=shape) > 0.5, 1.0, -1.0)
    a = rng.standard_normal(shape) * 1.5
    if kind == "hinge":  # keep the kink at M = 1 away from the finite differences
        a[np.abs(a * t - 1) < 1e-3] += 0.01
    return nt.MarginLoss(kind), a, t, _margin_torch(kind)


NAMES = ["mse", "sce_index", "sce_onehot", "sce_soft", "bce_prob", "bce_logits",
         "margin_logistic", "margin_hinge", "margin_exponential", "margin_sigmoid"]
SHAPES = {"margin": [(6,), (1,), (4, 1)], "default": [(5, 3), (1, 4), (8, 10)]}
PARAMS = [(n, s) for n in NAMES for s in SHAPES["margin" if n.startswith("margin") else "default"]]


@pytest.mark.parametrize("name,shape", PARAMS)
def test_loss_matches_torch_value_gradient_and_hessian_diagonal(name, shape):
    rng = np.random.default_rng(zlib.crc32(repr((name, shape)).encode()))
    loss, y, t, fn = _data(name, shape, rng)
    value = loss.forward(y, t)
    grad = loss.backward()
    curv = loss.backward_curvature()
    yt = _t(y, True)
    tt = _t(t) if np.asarray(t).dtype.kind == "f" else torch.tensor(t)
    vt = fn(yt, tt)
    vt.backward()
    assert isinstance(value, float)
    np.testing.assert_allclose(value, vt.item(), rtol=TOL, atol=TOL)
    np.testing.assert_allclose(grad, yt.grad.numpy(), rtol=TOL, atol=TOL)
    hess = torch.autograd.functional.hessian(lambda z: fn(z, tt), _t(y))
    diag = torch.diagonal(hess.reshape(y.size, y.size)).reshape(y.shape).numpy()
    if name == "margin_sigmoid":  # non-convex: Gauss-Newton curvature is clipped at zero
        diag = np.maximum(diag, 0)
    np.testing.assert_allclose(curv, diag, rtol=TOL, atol=TOL)


@pytest.mark.parametrize("name,shape", PARAMS)
def test_loss_finite_differences(name, shape):
    rng = np.random.default_rng(zlib.crc32(repr((name, shape, 1)).encode()))
    loss, y, t, _ = _data(name, shape, rng)
    assert nt.gradcheck(loss, y, target=t, atol=1e-6, rtol=1e-5)


def test_softmax_cross_entropy_gradient_is_y_minus_t_over_n():
    a = np.array([[1.0, 2.0, 0.5], [0.0, 0.0, 0.0]])
    loss = nt.SoftmaxCrossEntropy()
    loss(a, np.array([1, 2]))
    y = np.exp(a) / np.exp(a).sum(1, keepdims=True)
    np.testing.assert_allclose(loss.backward(), (y - np.eye(3)[[1, 2]]) / 2)
    np.testing.assert_allclose(loss.probabilities, y)


def test_losses_are_stable_at_extremes():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        v = nt.SoftmaxCrossEntropy()(np.array([[1000.0, -1000.0]]), np.array([1]))
        assert np.isclose(v, 2000.0)
        assert np.isclose(nt.BinaryCrossEntropy(from_logits=True)(np.array([[800.0]]), np.array([[0.0]])),
                          800.0)
        assert np.isclose(nt.MarginLoss("logistic")(np.array([-900.0]), np.array([1.0])), 900.0)
    bce = nt.BinaryCrossEntropy()
    assert np.isclose(bce(np.array([[0.0, 1.0]]), np.array([[1.0, 0.0]])), 200.0)  # log clamped at -100
    assert np.all(np.isfinite(bce.backward()))


def test_mse_accepts_column_target_and_int_targets():
    y = np.array([[1.0], [2.0]])
    assert np.isclose(nt.MSE()(y, np.array([0, 0])), (1 + 4) / 4)
    loss = nt.SoftmaxCrossEntropy()
    a = np.random.default_rng(0).standard_normal((3, 4))
    assert np.isclose(loss(a, np.array([1.0, 0.0, 3.0])), loss(a, np.array([1, 0, 3])))


# ------------------------------------------------------------- bad input
def test_target_of_wrong_shape():
    with pytest.raises(ValueError, match=r"must have the shape of the output \(4, 3\), got \(4, 2\)"):
        nt.MSE()(np.zeros((4, 3)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"must have 4 class indices.*got shape \(3,\)"):
        nt.SoftmaxCrossEntropy()(np.zeros((4, 3)), np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match=r"rows of shape \(4, 3\), got shape \(4, 5\)"):
        nt.SoftmaxCrossEntropy()(np.zeros((4, 3)), np.zeros((4, 5)))
    with pytest.raises(ValueError, match=r"one label per score.*got \(3,\)"):
        nt.MarginLoss()(np.zeros(4), np.ones(3))


def test_class_index_out_of_range():
    with pytest.raises(ValueError, match=r"class indices must be in \[0, 3\), got values in \[0, 3\]"):
        nt.SoftmaxCrossEntropy()(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match=r"in \[0, 3\), got values in \[-1, 1\]"):
        nt.SoftmaxCrossEntropy()(np.zeros((2, 3)), np.array([-1, 1]))
    with pytest.raises(ValueError, match="integer class indices"):
        nt.SoftmaxCrossEntropy()(np.zeros((2, 3)), np.array([0.5, 1.0]))


def test_probabilities_outside_unit_interval():
    with pytest.raises(ValueError, match=r"probabilities must be in \[0, 1\].*from_logits=True.*\[-0.5, 0.5\]"):
        nt.BinaryCrossEntropy()(np.array([[-0.5, 0.5]]), np.array([[0.0, 1.0]]))
    with pytest.raises(ValueError, match=r"targets must be in \[0, 1\], got values in \[0.0, 2.0\]"):
        nt.BinaryCrossEntropy(from_logits=True)(np.array([[0.5, 0.5]]), np.array([[0.0, 2.0]]))
    with pytest.raises(ValueError, match="must be -1 or \\+1"):
        nt.MarginLoss("hinge")(np.zeros(2), np.array([0, 1]))


def test_loss_non_numeric_and_ndim():
    with pytest.raises(TypeError, match="numeric array.*got dtype <U1"):
        nt.MSE()(np.array([["a"]]), np.zeros((1, 1)))
    with pytest.raises(ValueError, match=r"must be 2-D \(N, C\), got a 1-D array"):
        nt.SoftmaxCrossEntropy()(np.zeros(3), np.array([0]))
    with pytest.raises(ValueError, match="kind must be one of"):
        nt.MarginLoss("square")
    with pytest.raises(RuntimeError, match="before forward"):
        nt.MSE().backward()
