"""Max-norm: each unit's incoming weight vector projected onto ‖w_j‖ ≤ c after every step,
with every optimiser; checked against the formula and against torch.renorm (float64)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import neuronet as nt
from neuronet.optim import OPTIMIZERS, MaxNorm, max_norm


def _dense_params(seed=0, n_in=6, n_out=5, scale=1.0):
    r = np.random.default_rng(seed)
    W = nt.Parameter(scale * r.standard_normal((n_in, n_out)), name="W")
    b = nt.Parameter(3.0 * r.standard_normal(n_out), name="b")
    for p in (W, b):
        p.grad[...] = 5.0 * r.standard_normal(p.shape)
    return W, b


def _make(name, params):
    opt = OPTIMIZERS[name](params, lr=0.1)
    if name == "DiagonalLM":  # steps need a curvature estimate first
        for p in params:
            p.curv = np.ones_like(p.data)
        opt.update_curvature()
    return opt


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimiser_then_projection_onto_the_ball(name):
    W, b = _dense_params(scale=0.6)
    W2, b2 = _dense_params(scale=0.6)
    _make(name, [W, b]).step()
    norms = np.linalg.norm(W.data, axis=0)
    c = float(np.median(norms))  # units on both sides of c, whatever the rule's step size
    held = max_norm(_make(name, [W2, b2]), c)
    held.step()  # from the same point: the unconstrained update, then the projection
    expect = W.data * np.minimum(1.0, c / norms)
    np.testing.assert_allclose(W2.data, expect, rtol=1e-12, atol=0)
    assert np.all(np.linalg.norm(W2.data, axis=0) <= c * (1 + 1e-12))
    np.testing.assert_array_equal(b2.data, b.data)  # biases are not constrained
    for _ in range(5):
        W2.grad[...] = 5.0 * np.random.default_rng(1).standard_normal(W2.shape)
        held.step()
        assert np.all(np.linalg.norm(W2.data, axis=0) <= c * (1 + 1e-12))


def test_matches_torch_renorm_on_dense_and_conv_weights():
    r = np.random.default_rng(3)
    dense = nt.Parameter(r.standard_normal((20, 7)))            # (n_in, n_out): columns
    conv = nt.Parameter(r.standard_normal((4, 3, 5, 5)))        # (out, in, kh, kw): filters
    t_dense = torch.renorm(torch.tensor(dense.data.T), 2, 0, 3.0).numpy().T
    t_conv = torch.renorm(torch.tensor(conv.data), 2, 0, 7.0).numpy()
    opt = nt.optim.SGD([dense, conv], lr=0.1)  # zero gradients: the step itself changes nothing
    opt.constraints += [MaxNorm(3.0, [dense]), MaxNorm(7.0, [conv])]
    opt.step()
    np.testing.assert_allclose(dense.data, t_dense, rtol=1e-6)  # torch.renorm scales by c/(‖w‖+1e-7)
    np.testing.assert_allclose(conv.data, t_conv, rtol=1e-6)
    assert np.abs(np.linalg.norm(conv.data.reshape(4, -1), axis=1) - 7.0).min() < 1e-9


def test_pruned_weights_stay_zero_and_float32_stays_float32():
    r = np.random.default_rng(4)
    mask = r.random((8, 3)) > 0.3
    W = nt.Parameter((5 * r.standard_normal((8, 3))).astype(np.float32), mask=mask)
    W.grad[...] = 1.0
    opt = max_norm(nt.optim.Adam([W], lr=0.01), 0.5)
    opt.step()
    assert W.data.dtype == np.float32
    assert np.all(W.data[~mask] == 0)
    assert np.all(np.linalg.norm(W.data, axis=0) <= 0.5 * (1 + 1e-6))


def test_trains_an_mlp_with_every_hidden_unit_bounded():
    X, y = nt.data.load_digits("train")
    Xt, yt = nt.data.load_digits("test")
    model = nt.models.MLP([64, 32, 10], seed=0)
    opt = max_norm(nt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), 2.0)
    nt.fit(model, nt.SoftmaxCrossEntropy(), opt, X, y, epochs=5, batch_size=32, seed=0)
    assert nt.evaluate(model, nt.SoftmaxCrossEntropy(), Xt, yt)["accuracy"] > 0.9
    for p in model.parameters():
        if p.data.ndim == 2:
            norms = np.linalg.norm(p.data, axis=0)
            assert norms.max() <= 2.0 * (1 + 1e-6)
            assert norms.max() > 1.999  # the constraint was active, not vacuous


def test_bad_arguments_name_what_was_expected():
    W, b = _dense_params()
    with pytest.raises(ValueError, match="c must be"):
        MaxNorm(0.0)
    with pytest.raises(TypeError, match="c must be a number"):
        MaxNorm("3")
    with pytest.raises(ValueError, match=r"parameter 'b' has shape \(5,\)"):
        MaxNorm(1.0, [W, b])
    with pytest.raises(TypeError, match="item 0 is ndarray"):
        MaxNorm(1.0, [W.data])
