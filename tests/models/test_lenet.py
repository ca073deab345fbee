"""LeNet-5: architecture, parameter count, C3 table, gradients against PyTorch, learning."""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import neuronet as nt
from neuronet.models.lenet import LENET5_C3_TABLE, LeNet5

# Parameter count, derived layer by layer (LeCun et al. 1998, section II.B):
#   C1   6·(1·25) + 6                       =    156
#   S2   6 coefficients + 6 biases          =     12
#   C3   60 kernels·25 + 16 biases          =  1,516   (60 = 6·3 + 6·4 + 3·4 + 1·6 connections)
#   S4   16 + 16                            =     32
#   C5   120·(16·25) + 120                  = 48,120
#   F6   84·120 + 84                        = 10,164
#   ------------------------------------------------- 60,000 = the paper's "60,000 trainable parameters"
#   output 10·84 + 10 (trained dense layer instead of the fixed RBF units) = 850
LENET5_PARAMETERS = 60_850


def test_parameter_count_matches_the_paper():
    net = LeNet5(seed=0)
    assert net.num_parameters() == LENET5_PARAMETERS
    counts = [layer.num_parameters() for layer in net.layers]
    # C1 tanh S2 C3 tanh S4 C5 tanh Flatten F6 tanh output
    assert counts == [156, 0, 12, 1516, 0, 32, 48120, 0, 0, 10164, 0, 850]
    assert LENET5_PARAMETERS - 850 == 60_000


def test_c3_has_lecuns_table_and_1516_parameters():
    net = LeNet5(seed=0)
    c3 = net.layers[3]
    assert c3.W.shape == (16, 6, 5, 5)
    np.testing.assert_array_equal(c3.W.mask[:, :, 0, 0], LENET5_C3_TABLE)
    assert int(LENET5_C3_TABLE.sum()) * 25 == 1500
    assert c3.num_parameters() == 1500 + 16 == 1516
    rows = [np.flatnonzero(r).tolist() for r in LENET5_C3_TABLE]
    # maps 0-5: three contiguous S2 maps (cyclically); 6-11: four contiguous; 12-14: four
    # non-contiguous; 15: all six (Table I of the paper)
    assert rows[:6] == [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [0, 4, 5], [0, 1, 5]]
    assert rows[6:12] == [[0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5], [0, 3, 4, 5], [0, 1, 4, 5],
                          [0, 1, 2, 5]]
    assert rows[12:15] == [[0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5]]
    assert rows[15] == [0, 1, 2, 3, 4, 5]
    assert np.all(c3.W.data[~LENET5_C3_TABLE] == 0)


def test_options_full_table_max_pooling_softmax(rng):
    assert LeNet5(table="full", seed=0).num_parameters() == LENET5_PARAMETERS - 1516 + 2416
    maxnet = LeNet5(pooling="max", seed=0)
    assert maxnet.num_parameters() == LENET5_PARAMETERS - 12 - 32
    assert isinstance(maxnet.layers[2], nt.MaxPool2d)
    soft = LeNet5(softmax=True, seed=0)
    p = soft.forward(rng.random((3, 1, 32, 32)))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    with pytest.raises(ValueError, match="table"):
        LeNet5(table="partial")
    with pytest.raises(ValueError, match="pooling"):
        LeNet5(pooling="median")


def test_input_layouts_and_padding(rng):
    net = LeNet5(seed=1).astype(np.float64)
    digits = rng.random((2, 28, 28))
    y = net.forward(digits)
    assert y.shape == (2, 10)
    padded = np.pad(digits, ((0, 0), (2, 2), (2, 2)))[:, None]
    np.testing.assert_allclose(net.forward(padded), y)
    np.testing.assert_allclose(net.forward(digits.reshape(2, 784)), y)
    np.testing.assert_allclose(net.forward(digits[:, None]), y)
    with pytest.raises(ValueError, match="LeNet5 input"):
        net.forward(rng.random((2, 3, 32, 32)))
    with pytest.raises(ValueError, match="LeNet5 input"):
        net.forward(rng.random((2, 30, 30)))


def torch_lenet(net, x):
    """The same computation in PyTorch autograd, weights copied (float64)."""
    params = {}
    for name, p in net.named_parameters():
        params[name] = torch.tensor(p.data, requires_grad=True)
    c1, s2, c3, s4, c5, f6, out = (net.layers[i] for i in (0, 2, 3, 5, 6, 9, 11))

    def act(a):
        return 1.7159 * torch.tanh(2.0 * a / 3.0)

    def sub(h, i):
        return (F.avg_pool2d(h, 2) * params[f"layers.{i}.a"][:, None, None]
                + params[f"layers.{i}.b"][:, None, None])

    mask = torch.tensor(c3.W.mask.astype(np.float64))
    xt = x if isinstance(x, torch.Tensor) else torch.tensor(x)
    h = act(F.conv2d(xt, params["layers.0.W"], params["layers.0.b"]))
    h = sub(h, 2)
    h = act(F.conv2d(h, params["layers.3.W"] * mask, params["layers.3.b"]))
    h = sub(h, 5)
    h = act(F.conv2d(h, params["layers.6.W"], params["layers.6.b"])).reshape(len(x), -1)
    h = act(h @ params["layers.9.W"] + params["layers.9.b"])
    return h @ params["layers.11.W"] + params["layers.11.b"], params


@pytest.mark.parametrize("n", [1, 3])
def test_lenet_gradients_match_torch(n, rng):
    net = LeNet5(seed=2).astype(np.float64)
    for layer in (net.layers[2], net.layers[5]):      # non-trivial subsampling coefficients
        layer.a.data[...] = rng.uniform(0.5, 1.5, layer.a.shape)
        layer.b.data[...] = rng.normal(0, 0.1, layer.b.shape)
    x = rng.random((n, 1, 32, 32))
    y = net.forward(x)
    dy = rng.standard_normal(y.shape)
    net.zero_grad()
    dx = net.backward(dy)
    yt, params = torch_lenet(net, x)
    yt.backward(torch.tensor(dy))
    np.testing.assert_allclose(y, yt.detach().numpy(), atol=1e-6)
    assert dx is None                                  # C1 computes no input gradient by default
    for name, p in net.named_parameters():
        ref = params[name].grad.numpy()
        if p.mask is not None:
            ref = ref * p.mask
        np.testing.assert_allclose(p.grad, ref, atol=1e-6, err_msg=name)


def test_lenet_input_gradient_matches_torch(rng):
    net = LeNet5(seed=6, input_grad=True).astype(np.float64)
    x = rng.random((2, 1, 32, 32))
    dy = rng.standard_normal((2, 10))
    net.forward(x)
    dx = net.backward(dy)
    xt = torch.tensor(x, requires_grad=True)
    yt, _ = torch_lenet(net, xt)
    yt.backward(torch.tensor(dy))
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-6)


def test_lenet_curvature_pass_reaches_every_parameter(rng):
    net = LeNet5(seed=3, input_grad=True).astype(np.float64)
    net.forward(rng.random((2, 1, 32, 32)))
    net.zero_curv()
    d2x = net.backward_curvature(rng.uniform(0.1, 1.0, (2, 10)))
    assert d2x.shape == (2, 1, 32, 32) and np.all(d2x >= 0)
    for name, p in net.named_parameters():
        assert p.curv is not None and np.all(p.curv >= 0), name
        assert np.any(p.curv > 0), name
    c3 = net.layers[3]
    assert np.all(c3.W.curv[~LENET5_C3_TABLE] == 0)


def test_save_load_roundtrip(tmp_path, rng):
    net = LeNet5(seed=4, pooling="subsample", augment={"max_shift": 1.0})
    x = rng.random((2, 28, 28)).astype(np.float32)
    net.eval()
    path = nt.save(tmp_path / "lenet.npz", net) or tmp_path / "lenet.npz"
    loaded = nt.load(path)
    loaded = getattr(loaded, "model", loaded)
    loaded.eval()
    np.testing.assert_array_equal(loaded.forward(x), net.forward(x))
    assert loaded.num_parameters() == LENET5_PARAMETERS


def _mnist_subset(data_dir, n_train, n_test):
    os.environ.setdefault("NEURONET_DATA", str(data_dir))
    X, y = nt.data.load_mnist("train")
    Xt, yt = nt.data.load_mnist("test")
    return (X[:n_train].astype(np.float32) / 255, y[:n_train],
            Xt[:n_test].astype(np.float32) / 255, yt[:n_test])


def test_lenet_learns_mnist_subset(data_dir):
    X, y, Xt, yt = _mnist_subset(data_dir, 1000, 500)
    net = LeNet5(seed=0)
    nt.fit(net, nt.SoftmaxCrossEntropy(), nt.optim.Adam(net.parameters(), lr=2e-3), X, y,
           epochs=4, batch_size=32, seed=0)
    net.eval()
    acc = (net.forward(Xt).argmax(axis=1) == yt).mean()
    assert acc > 0.85, acc


@pytest.mark.slow
def test_lenet5_mnist_reaches_paper_level(data_dir, tmp_path):
    """Issue 4's proof: examples/lenet5_mnist.toml (15 epochs) gives ≤ 1.1 % test error.

    Runs the real command line (`neuronet train`), about 5-25 minutes on 2 cores."""
    from pathlib import Path

    from neuronet.cli import main

    os.environ.setdefault("NEURONET_DATA", str(data_dir))
    config = Path(__file__).resolve().parents[2] / "examples" / "lenet5_mnist.toml"
    assert main(["train", str(config), "--out", str(tmp_path), "--no-progress"]) == 0
    import json
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["epochs"] <= 15
    assert 1 - metrics["test_accuracy"] <= 0.011, metrics


def test_lenet_with_augmentation_resumes_exactly(tmp_path, rng):
    """Stopping after epoch 1 and resuming gives the weights of an uninterrupted run:
    the distortion layer's generator is saved in the checkpoint."""
    from neuronet.train.callbacks import ModelCheckpoint

    X = rng.random((96, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 96)

    def run(epochs, resume=None, ckpt=None):
        net = LeNet5(seed=5, augment={"max_shift": 2.0, "elastic_alpha": 4.0})
        opt = nt.optim.Adam(net.parameters(), lr=1e-3)
        cbs = [ModelCheckpoint(ckpt)] if ckpt else []
        nt.fit(net, nt.SoftmaxCrossEntropy(), opt, X, y, epochs=epochs, batch_size=32, seed=1,
               callbacks=cbs, resume_from=resume)
        return net

    straight = run(2)
    ckpt = tmp_path / "ck.npz"
    run(1, ckpt=ckpt)
    resumed = run(2, resume=ckpt)
    for (name, a), (_, b) in zip(straight.named_parameters(), resumed.named_parameters()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)
