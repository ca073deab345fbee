"""Bad input across the public API: each case names the call, the exception type it
must raise and the words its message must contain (the argument, and what was
expected or what came). No internal exception (AttributeError, KeyError, a NumPy
broadcasting error) and no silent result is acceptable."""
from __future__ import annotations

import contextlib
import io
import json
import struct

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

import neuronet as nt
from neuronet import distributed, energy, models, optim, surgery
from neuronet.data.idx import IDXError, parse_idx, read_idx, write_idx
from neuronet.losses import MSE, BinaryCrossEntropy, MarginLoss, SoftmaxCrossEntropy
from neuronet.train import (ArrayBatches, EarlyStopping, ExponentialLR, Loop, ModelCheckpoint,
                            ProgressBar, StepLR, StopAtTarget)
from neuronet.train.supervised import SupervisedStep

X4 = np.zeros((4, 3))
Y4 = np.zeros(4, dtype=int)


def dense():
    return nt.Dense(3, 2, seed=0)


def sgd(model=None):
    return optim.SGD((model or dense()).parameters(), lr=0.1)


def fit(**kw):
    model = dense()
    args = dict(model=model, loss=SoftmaxCrossEntropy(), optimizer=sgd(model), X=X4, y=Y4, epochs=1,
                batch_size=2)
    args.update(kw)
    return nt.fit(args.pop("model"), args.pop("loss"), args.pop("optimizer"), args.pop("X"),
                  args.pop("y"), **args)


def loop(**kw):
    model = dense()
    step = SupervisedStep(model, SoftmaxCrossEntropy(), sgd(model))
    return Loop(step, **kw)


def rbm():
    return energy.RBM(4, 3, seed=0)


def idx_bytes(code, dims, body=b""):
    return bytes([0, 0, code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + body


def saved_dense(tmp, edit):
    """Save a Dense layer to tmp/m.npz, let ``edit(meta, arrays)`` spoil it, load it."""
    path = tmp / "m.npz"
    nt.save(path, dense())
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(str(arrays["__meta__"]))
    edit(meta, arrays)
    np.savez(path, **arrays)
    return nt.load(path)


def saved_hopfield(tmp, spoil):
    """Save a Hopfield net to tmp/h.npz, let ``spoil(W)`` change its weights, load it."""
    net = energy.Hopfield(4)
    net.store(np.array([[1.0, -1, 1, -1], [1, 1, -1, -1]]))
    path = tmp / "h.npz"
    nt.save(path, net)
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    spoil(arrays["model/W"])
    np.savez(path, **arrays)
    return nt.load(path)


def after_forward(layer, shape):
    layer(np.zeros(shape))
    return layer


def graphconv_backward(dy):
    g = nt.GraphConv(3, 2, seed=0)
    g(np.zeros((4, 3)), nt.Adjacency(np.array([[0, 1], [1, 0]]), 4))
    return g.backward(dy)


def graphpool_backward(dy):
    p = nt.GraphPool("max")
    p(np.zeros((4, 3)), np.zeros(4, dtype=int))
    return p.backward(dy)


def write_and_read_idx(tmp, raw):
    p = tmp / "f.idx"
    p.write_bytes(raw)
    return read_idx(p)


def cli(argv):
    from neuronet.cli import main
    return main(argv)


C = []


def case(area, id_, fn, exc, *words):
    C.append(pytest.param(fn, exc, words, id=f"{area}-{id_}"))


# ------------------------------------------------------------------ layers
case("layers", "dense-n_in-0", lambda t: nt.Dense(0, 2), ValueError, "n_in", "0")
case("layers", "dense-n_out-neg", lambda t: nt.Dense(3, -1), ValueError, "n_out", "-1")
case("layers", "dense-n_in-float", lambda t: nt.Dense(2.5, 2), TypeError, "n_in", "float")
case("layers", "dense-n_in-str", lambda t: nt.Dense("3", 2), TypeError, "n_in", "str")
case("layers", "dense-init-unknown", lambda t: nt.Dense(3, 2, init="nope"), ValueError, "init", "nope")
case("layers", "dense-forward-features", lambda t: dense()(np.zeros((2, 5))), ValueError, "3", "(2, 5)")
case("layers", "dense-forward-3d", lambda t: dense()(np.zeros((2, 3, 1))), ValueError, "2-D", "3-D")
case("layers", "dense-forward-strings", lambda t: dense()(np.array([["a", "b", "c"]])), TypeError, "dtype")
case("layers", "dense-backward-before-forward", lambda t: dense().backward(np.zeros((2, 2))), RuntimeError,
     "backward", "forward")
case("layers", "dense-grad-shape", lambda t: (lambda d: (d(np.zeros((2, 3))), d.backward(np.zeros((2, 5)))))(dense()),
     ValueError, "(2, 5)", "(2, 2)")
case("layers", "dense-int-dtype", lambda t: nt.Dense(3, 2, dtype=np.int32), ValueError,
     "parameter W dtype", "float32 or float64", "int32")
case("layers", "leakyrelu-alpha-nan", lambda t: nt.LeakyReLU(alpha=float("nan")), ValueError,
     "LeakyReLU alpha", "finite", "nan")
case("layers", "parameter-bool", lambda t: nt.Parameter(np.zeros(3, bool), name="m"), ValueError,
     "parameter m dtype", "bool")
case("layers", "conv-in_channels-0", lambda t: nt.Conv2d(0, 2, 3), ValueError, "in_channels", "0")
case("layers", "conv-kernel-neg", lambda t: nt.Conv2d(1, 2, -3), ValueError, "kernel", "-3")
case("layers", "conv-stride-0", lambda t: nt.Conv2d(1, 2, 3, stride=0), ValueError, "stride", "0")
case("layers", "conv-padding-neg", lambda t: nt.Conv2d(1, 2, 3, padding=-1), ValueError, "padding", "-1")
case("layers", "conv-input-2d", lambda t: nt.Conv2d(1, 2, 3, seed=0)(np.zeros((4, 4))), ValueError, "4-D", "2-D")
case("layers", "conv-channels", lambda t: nt.Conv2d(1, 2, 3, seed=0)(np.zeros((1, 2, 5, 5))), ValueError,
     "1", "(1, 2, 5, 5)")
case("layers", "conv-too-small", lambda t: nt.Conv2d(1, 2, 5, seed=0)(np.zeros((1, 1, 3, 3))), ValueError, "5", "3")
case("layers", "maxpool-kernel-0", lambda t: nt.MaxPool2d(0), ValueError, "kernel", "0")
case("layers", "maxpool-input-2d", lambda t: nt.MaxPool2d(2)(np.zeros((4, 4))), ValueError, "4-D", "2-D")
case("layers", "avgpool-stride-neg", lambda t: nt.AvgPool2d(2, stride=-1), ValueError, "stride", "-1")
case("layers", "subsampling-channels-0", lambda t: nt.Subsampling(0), ValueError, "channels", "0")
case("layers", "dropout-p-1", lambda t: nt.Dropout(1.0), ValueError, "p", "1")
case("layers", "dropout-p-neg", lambda t: nt.Dropout(-0.1), ValueError, "p", "-0.1")
case("layers", "dropout-p-str", lambda t: nt.Dropout("0.5"), TypeError, "p", "str")
case("layers", "prelu-num-0", lambda t: nt.PReLU(0), ValueError, "num_parameters", "0")
case("layers", "maxout-pieces-0", lambda t: nt.Maxout(0), ValueError, "pieces", "0")
case("layers", "maxout-indivisible", lambda t: nt.Maxout(2)(np.zeros((2, 3))), ValueError, "2", "3")
case("layers", "threshold-kind", lambda t: nt.Threshold("nope"), ValueError, "kind", "nope")
case("layers", "sequential-not-module", lambda t: nt.Sequential(nt.ReLU(), 3), TypeError, "int")
case("layers", "sequential-class", lambda t: nt.Sequential(nt.ReLU), TypeError, "ReLU", "instance")
case("layers", "rnn-n_hidden-0", lambda t: nt.RNN(3, 0), ValueError, "n_hidden", "0")
case("layers", "rnn-activation", lambda t: nt.RNN(3, 2, activation="cube"), ValueError, "activation", "cube")
case("layers", "rnn-input-2d", lambda t: nt.RNN(3, 2, seed=0)(np.zeros((2, 3))), ValueError, "3-D", "2-D")
case("layers", "lstm-n_in-0", lambda t: nt.LSTM(0, 2), ValueError, "n_in", "0")
case("layers", "lstm-peephole", lambda t: nt.LSTM(3, 2, peepholes=("z",)), ValueError, "peephole", "z")
case("layers", "lstm-features", lambda t: nt.LSTM(3, 2, seed=0)(np.zeros((4, 2, 5))), ValueError, "3", "5")
case("layers", "gru-n_hidden-float", lambda t: nt.GRU(3, 2.0), TypeError, "n_hidden", "float")
case("layers", "graphconv-aggregation", lambda t: nt.GraphConv(3, 2, aggregation="median"), ValueError,
     "aggregation", "median")
case("layers", "graphconv-in-0", lambda t: nt.GraphConv(0, 2), ValueError, "in_features", "0")
case("layers", "graphpool-mode", lambda t: nt.GraphPool("median"), ValueError, "mode", "median")
case("layers", "adjacency-out-of-range", lambda t: nt.Adjacency(np.array([[0, 5], [1, 0]]), 3), ValueError,
     "edge_index", "[0, 2]")

case("layers", "conv-backward-before-forward", lambda t: nt.Conv2d(1, 2, 3, seed=0).backward(np.zeros((1, 2, 3, 3))),
     RuntimeError, "Conv2d", "before forward")
case("layers", "conv-grad-shape", lambda t: after_forward(nt.Conv2d(1, 2, 3, seed=0), (1, 1, 5, 5)).backward(
    np.zeros((1, 2, 4, 4))), ValueError, "Conv2d gradient", "(1, 2, 3, 3)", "(1, 2, 4, 4)")
case("layers", "conv-curvature-shape", lambda t: after_forward(nt.Conv2d(1, 2, 3, seed=0), (1, 1, 5, 5))
     .backward_curvature(np.zeros((1, 2, 4, 4))), ValueError, "Conv2d curvature", "(1, 2, 3, 3)")
case("layers", "maxpool-backward-before-forward", lambda t: nt.MaxPool2d(2).backward(np.zeros((1, 1, 2, 2))),
     RuntimeError, "MaxPool2d", "before forward")
case("layers", "maxpool-grad-shape", lambda t: after_forward(nt.MaxPool2d(2), (1, 1, 4, 4)).backward(
    np.zeros((1, 1, 3, 3))), ValueError, "MaxPool2d gradient", "(1, 1, 2, 2)", "(1, 1, 3, 3)")
case("layers", "avgpool-curvature-before-forward", lambda t: nt.AvgPool2d(2).backward_curvature(
    np.zeros((1, 1, 2, 2))), RuntimeError, "AvgPool2d curvature", "before forward")
case("layers", "subsampling-grad-shape", lambda t: after_forward(nt.Subsampling(1), (1, 1, 4, 4)).backward(
    np.zeros((1, 1, 4, 4))), ValueError, "Subsampling", "(1, 1, 2, 2)", "(1, 1, 4, 4)")
case("layers", "graphconv-backward-before-forward", lambda t: nt.GraphConv(3, 2, seed=0).backward(np.zeros((4, 2))),
     RuntimeError, "GraphConv", "before forward")
case("layers", "graphconv-curvature-before-forward", lambda t: nt.GraphConv(3, 2, seed=0).backward_curvature(
    np.zeros((4, 2))), RuntimeError, "GraphConv curvature", "before forward")
case("layers", "graphconv-grad-shape", lambda t: graphconv_backward(np.zeros((4, 5))), ValueError,
     "GraphConv gradient", "(4, 2)", "(4, 5)")
case("layers", "graphconv-grad-rows", lambda t: graphconv_backward(np.zeros((3, 2))), ValueError,
     "(4, 2)", "(3, 2)")
case("layers", "graphpool-backward-before-forward", lambda t: nt.GraphPool().backward(np.zeros((1, 3))),
     RuntimeError, "GraphPool", "before forward")
case("layers", "graphpool-grad-shape", lambda t: graphpool_backward(np.zeros((2, 3))), ValueError,
     "GraphPool gradient", "(1, 3)", "(2, 3)")

# ------------------------------------------------------------------ losses
case("losses", "mse-shape", lambda t: MSE()(np.zeros((4, 2)), np.zeros((3, 2))), ValueError, "(3, 2)", "(4, 2)")
case("losses", "mse-nan-target", lambda t: MSE()(np.zeros((2, 1)), np.array([[np.nan], [0.0]])), ValueError,
     "target", "nan")
case("losses", "ce-label-out-of-range", lambda t: SoftmaxCrossEntropy()(np.zeros((2, 3)), np.array([0, 3])),
     ValueError, "class indices", "3")
case("losses", "ce-negative-label", lambda t: SoftmaxCrossEntropy()(np.zeros((2, 3)), np.array([0, -1])),
     ValueError, "class indices", "-1")
case("losses", "ce-float-labels", lambda t: SoftmaxCrossEntropy()(np.zeros((2, 3)), np.array([0.5, 1.0])),
     ValueError, "targets", "non-integer")
case("losses", "ce-nan-target", lambda t: SoftmaxCrossEntropy()(np.zeros((2, 3)), np.array([[np.nan, 0, 1]] * 2)),
     ValueError, "target", "nan")
case("losses", "ce-rows", lambda t: SoftmaxCrossEntropy()(np.zeros((2, 3)), np.array([0, 1, 2])), ValueError,
     "3", "2")
case("losses", "bce-target-2", lambda t: BinaryCrossEntropy()(np.full((2, 1), 0.5), np.array([[0.0], [2.0]])),
     ValueError, "target", "2")
case("losses", "bce-nan-target", lambda t: BinaryCrossEntropy()(np.full((2, 1), 0.5), np.array([[np.nan], [1]])),
     ValueError, "target", "nan")
case("losses", "margin-kind", lambda t: MarginLoss("nope"), ValueError, "kind", "nope")
case("losses", "loss-strings", lambda t: MSE()(np.zeros((2, 1)), np.array([["a"], ["b"]])), TypeError, "dtype")
case("losses", "backward-before-forward", lambda t: MSE().backward(), RuntimeError, "backward", "forward")

# ------------------------------------------------------------------ optimisers
case("optim", "state-from-other-model-before-any-step",
     lambda t: sgd(nt.Dense(5, 3, seed=0)).load_state_dict(sgd().state_dict()), ValueError,
     "shapes [[3, 2], [2]]", "[[5, 3], [3]]", "different model")
case("optim", "sgd-lr-neg", lambda t: optim.SGD(dense().parameters(), lr=-1), ValueError, "lr", "-1")
case("optim", "sgd-lr-nan", lambda t: optim.SGD(dense().parameters(), lr=float("nan")), ValueError, "lr", "nan")
case("optim", "sgd-lr-str", lambda t: optim.SGD(dense().parameters(), lr="0.1"), TypeError, "lr", "str")
case("optim", "sgd-momentum-neg", lambda t: optim.SGD(dense().parameters(), momentum=-0.5), ValueError,
     "momentum", "-0.5")
case("optim", "sgd-nesterov-no-momentum", lambda t: optim.SGD(dense().parameters(), nesterov=True), ValueError,
     "nesterov", "momentum")
case("optim", "sgd-weight_decay-neg", lambda t: optim.SGD(dense().parameters(), weight_decay=-1e-4), ValueError,
     "weight_decay", "-0.0001")
case("optim", "sgd-l1-neg", lambda t: optim.SGD(dense().parameters(), l1=-1.0), ValueError, "l1", "-1")
case("optim", "sgd-empty-params", lambda t: optim.SGD([], lr=0.1), ValueError, "param", "empty")
case("optim", "sgd-params-array", lambda t: optim.SGD([np.zeros(3)], lr=0.1), TypeError, "Parameter", "ndarray")
case("optim", "adam-betas-float", lambda t: optim.Adam(dense().parameters(), betas=0.9), TypeError, "betas", "0.9")
case("optim", "nadam-betas-3", lambda t: optim.Nadam(dense().parameters(), betas=(0.9, 0.99, 0.9)), ValueError,
     "betas", "(0.9, 0.99, 0.9)")
case("optim", "adam-beta1-1", lambda t: optim.Adam(dense().parameters(), betas=(1.0, 0.999)), ValueError,
     "betas", "1")
case("optim", "rmsprop-alpha-1", lambda t: optim.RMSProp(dense().parameters(), alpha=1.0), ValueError, "alpha", "1")
case("optim", "adadelta-rho-neg", lambda t: optim.AdaDelta(dense().parameters(), rho=-0.1), ValueError, "rho",
     "-0.1")
case("optim", "diaglm-mu-neg", lambda t: optim.DiagonalLM(dense().parameters(), mu=-1.0), ValueError, "mu", "-1")
case("optim", "maxnorm-c-0", lambda t: optim.MaxNorm(0.0), ValueError, "c", "0")
case("optim", "clip-max_norm-neg", lambda t: optim.clip_grad_norm(dense().parameters(), -1.0), ValueError,
     "max_norm", "-1")
case("optim", "state-not-dict", lambda t: sgd().load_state_dict([1, 2]), TypeError, "state", "list")
case("optim", "state-negative-lr", lambda t: sgd().load_state_dict(
    {**sgd().state_dict(), "hyper": {**sgd().state_dict()["hyper"], "lr": -1.0}}), ValueError, "lr", "-1")
case("optim", "state-other-class", lambda t: sgd().load_state_dict(
    optim.Adam(dense().parameters()).state_dict()), ValueError, "Adam", "SGD")

# ------------------------------------------------------------------ loop, fit, callbacks
case("train", "fit-epochs-0", lambda t: fit(epochs=0), ValueError, "epochs", "0")
case("train", "fit-epochs-float", lambda t: fit(epochs=1.5), TypeError, "epochs", "float")
case("train", "fit-batch-0", lambda t: fit(batch_size=0), ValueError, "batch_size", "0")
case("train", "fit-rows-mismatch", lambda t: fit(y=np.zeros(3, dtype=int)), ValueError, "3", "4")
case("train", "fit-empty", lambda t: fit(X=np.zeros((0, 3)), y=np.zeros(0, dtype=int)), ValueError, "0")
case("train", "fit-nan-X", lambda t: fit(X=np.full((4, 3), np.nan)), ValueError, "X", "NaN")
case("train", "fit-X-strings", lambda t: fit(X=np.array([["a"] * 3] * 4)), TypeError, "X", "dtype")
case("train", "fit-loss-class", lambda t: fit(loss=SoftmaxCrossEntropy), TypeError, "loss", "instance")
case("train", "fit-loss-str", lambda t: fit(loss="mse"), TypeError, "loss", "str")
case("train", "fit-optimizer-class", lambda t: fit(optimizer=optim.SGD), TypeError, "optimizer", "instance")
case("train", "fit-model-not-module", lambda t: fit(model=lambda x: x), TypeError, "model", "function")
case("train", "fit-callbacks-not-list", lambda t: fit(callbacks=EarlyStopping()), TypeError, "callbacks",
     "EarlyStopping")
case("train", "fit-callback-not-callback", lambda t: fit(callbacks=[3]), TypeError, "callback", "int")
case("train", "fit-validation-split-1", lambda t: fit(validation_split=1.0), ValueError, "validation_split", "1")
case("train", "fit-smoothing-2", lambda t: fit(smoothing=2.0), ValueError, "smoothing", "2")
case("train", "fit-clip-neg", lambda t: fit(clip_grad_norm=-1.0), ValueError, "clip_grad_norm", "-1")
case("train", "fit-resume-missing", lambda t: fit(resume_from=t / "none.npz"), FileNotFoundError, "none.npz")
case("train", "fit-validation-shape", lambda t: fit(validation=(np.zeros((2, 5)), np.zeros(2, dtype=int))),
     ValueError, "3", "(2, 5)")
case("train", "loop-step-not-step", lambda t: Loop(object()), TypeError, "step", "object")
case("train", "loop-epochs-neg", lambda t: loop(epochs=-1), ValueError, "epochs", "-1")
case("train", "loop-seed-and-rng", lambda t: loop(seed=0, rng=np.random.default_rng(0)), ValueError, "seed", "rng")
case("train", "loop-run-nothing", lambda t: loop(epochs=1).run(), (TypeError, ValueError), "data")
case("train", "batches-size-0", lambda t: ArrayBatches([X4], batch_size=0), ValueError, "batch_size", "0")
case("train", "batches-rows", lambda t: ArrayBatches([X4, np.zeros(3)], batch_size=2), ValueError, "3", "4")
case("train", "early-patience-neg", lambda t: EarlyStopping(patience=-1), ValueError, "patience", "-1")
case("train", "early-mode", lambda t: EarlyStopping(mode="up"), ValueError, "mode", "up")
case("train", "early-min_delta-neg", lambda t: EarlyStopping(min_delta=-1.0), ValueError, "min_delta", "-1")
case("train", "early-monitor-missing", lambda t: fit(callbacks=[EarlyStopping(monitor="val_nope")]), ValueError,
     "val_nope")
case("train", "stop-target-nan", lambda t: StopAtTarget("loss", float("nan")), ValueError, "target", "nan")
case("train", "stop-target-str", lambda t: StopAtTarget("loss", "0.1"), TypeError, "target", "str")
case("train", "steplr-step-0", lambda t: StepLR(0), ValueError, "step", "0")
case("train", "exponentiallr-gamma-0", lambda t: ExponentialLR(0.0), ValueError, "gamma", "0")
case("train", "checkpoint-every-0", lambda t: ModelCheckpoint(t / "c.npz", every=0), ValueError, "every", "0")
case("train", "checkpoint-unknown-field", lambda t: ModelCheckpoint(t / "c{epok}.npz"), ValueError, "epok", "epoch")
case("train", "checkpoint-bad-format", lambda t: ModelCheckpoint(t / "c{epoch:q}.npz"), ValueError, "path", "epoch:q")
case("train", "checkpoint-positional-field", lambda t: ModelCheckpoint(t / "c{}.npz"), ValueError, "path", "{}")
case("train", "checkpoint-mode", lambda t: ModelCheckpoint(t / "c.npz", mode="big"), ValueError, "mode", "big")
case("train", "progress-interval-neg", lambda t: ProgressBar(interval=-1), ValueError, "interval", "-1")
case("train", "predict-features", lambda t: nt.predict(dense(), np.zeros((2, 4))), ValueError, "3", "(2, 4)")
case("train", "accuracy-lengths", lambda t: nt.accuracy(np.zeros(3), np.zeros(4)), ValueError, "3", "4")
case("train", "confusion-n_classes-0", lambda t: nt.confusion_matrix([0, 1], [0, 1], n_classes=0), ValueError,
     "n_classes", "0")

# ------------------------------------------------------------------ data files (IDX)
case("idx", "empty", lambda t: parse_idx(b""), IDXError, "truncated", "0 bytes")
case("idx", "magic", lambda t: parse_idx(b"\x01\x02\x08\x01\x00\x00\x00\x01\x05"), IDXError, "magic", "01020801")
case("idx", "type-code", lambda t: parse_idx(idx_bytes(0x0A, [1], b"\x00")), IDXError, "type code", "0x0A")
case("idx", "zero-dims", lambda t: parse_idx(bytes([0, 0, 8, 0])), IDXError, "0 dimensions")
case("idx", "truncated-header", lambda t: parse_idx(bytes([0, 0, 8, 3, 0, 0, 0, 1])), IDXError, "header", "3")
case("idx", "truncated-body", lambda t: parse_idx(idx_bytes(0x08, [2, 3], b"\x00" * 5)), IDXError, "truncated",
     "(2, 3)")
case("idx", "trailing", lambda t: parse_idx(idx_bytes(0x08, [2], b"\x00" * 3)), IDXError, "1 unexpected bytes")
case("idx", "html", lambda t: parse_idx(b"<!DOCTYPE html><html>x</html>"), IDXError, "HTML")
case("idx", "bad-gzip", lambda t: parse_idx(b"\x1f\x8b\x08\x00garbage"), IDXError, "gzip")
case("idx", "overflow-dims", lambda t: parse_idx(idx_bytes(0x08, [2**32 - 1] * 3, b"\x00" * 8)), IDXError,
     "(4294967295, 4294967295, 4294967295)", "bytes")
case("idx", "overflow-dims-float64", lambda t: parse_idx(idx_bytes(0x0E, [2**31, 2**31, 2**31, 2**31])), IDXError,
     "2147483648", "bytes")
case("idx", "file-names-path", lambda t: write_and_read_idx(t, b"\x00\x00\x08\x05"), IDXError, "f.idx", "header")
case("idx", "missing-file", lambda t: read_idx(t / "nope.idx"), FileNotFoundError, "nope.idx")
case("idx", "write-dtype", lambda t: write_idx(t / "w.idx", np.zeros(2, dtype=np.int64)), TypeError, "int64")
case("idx", "write-0d", lambda t: write_idx(t / "w.idx", np.float32(1.0)), ValueError, "dimensions", "0")

# ------------------------------------------------------------------ saved files
case("io", "load-missing", lambda t: nt.load(t / "missing.npz"), FileNotFoundError, "missing.npz")
case("io", "load-not-npz", lambda t: ((t / "x.npz").write_text("hello"), nt.load(t / "x.npz")), nt.CheckpointError,
     "x.npz")
case("io", "load-int-weights", lambda t: saved_dense(t, lambda m, a: a.update(
    {k: a[k].astype(np.int32) for k in a if k != "__meta__"})), nt.CheckpointError, "int32", "m.npz")
case("io", "load-str-weights", lambda t: saved_dense(t, lambda m, a: a.update(
    {k: a[k].astype(str) for k in a if k != "__meta__"})), nt.CheckpointError, "m.npz")
case("io", "load-no-meta", lambda t: saved_dense(t, lambda m, a: a.pop("__meta__")), nt.CheckpointError, "m.npz")
case("io", "load-meta-list", lambda t: saved_dense(t, lambda m, a: a.update(
    __meta__=np.array("[1, 2]"))), nt.CheckpointError, "m.npz")
case("io", "load-meta-deep", lambda t: saved_dense(t, lambda m, a: a.update(
    __meta__=np.array(("[" * 5000 + "]" * 5000)))), nt.CheckpointError, "m.npz")
case("io", "load-meta-not-json", lambda t: saved_dense(t, lambda m, a: a.update(
    __meta__=np.array("{not json"))), nt.CheckpointError, "m.npz")
case("io", "load-wrong-shape", lambda t: saved_dense(t, lambda m, a: a.update(
    {k: np.zeros((7, 7)) for k in a if k != "__meta__"})), nt.CheckpointError, "(7, 7)")
case("io", "load-nan-weights", lambda t: saved_dense(t, lambda m, a: a.update(
    {k: np.full(a[k].shape, np.nan) for k in a if k != "__meta__"})), nt.CheckpointError, "NaN")
case("io", "save-not-module", lambda t: nt.save(t / "a.npz", np.zeros(3)), TypeError, "ndarray")
case("io", "load-checkpoint-missing", lambda t: nt.load_checkpoint(t / "c.npz"), FileNotFoundError, "c.npz")
case("io", "load-checkpoint-not-npz", lambda t: ((t / "c.npz").write_bytes(b"PK\x03\x04junk"),
                                                 nt.load_checkpoint(t / "c.npz")), nt.CheckpointError, "c.npz")

# ------------------------------------------------------------------ energy models
case("energy", "rbm-n_visible-0", lambda t: energy.RBM(0, 3), ValueError, "n_visible", "0")
case("energy", "rbm-n_hidden-float", lambda t: energy.RBM(4, 2.5), TypeError, "n_hidden", "float")
case("energy", "rbm-visible-unknown", lambda t: energy.RBM(4, 3, visible="gamma"), ValueError, "gamma")
case("energy", "rbm-init_std-neg", lambda t: energy.RBM(4, 3, init_std=-1.0), ValueError, "init_std", "-1")
case("energy", "rbm-fit-features", lambda t: rbm().fit(np.zeros((10, 5)), epochs=1, verbose=False), ValueError,
     "4", "(10, 5)")
case("energy", "rbm-fit-k-0", lambda t: rbm().fit(np.zeros((10, 4)), k=0, epochs=1, verbose=False), ValueError,
     "k", "0")
case("energy", "rbm-fit-nan", lambda t: rbm().fit(np.full((10, 4), np.nan), epochs=1, verbose=False), ValueError,
     "NaN")
case("energy", "rbm-fit-lr-neg", lambda t: rbm().fit(np.zeros((10, 4)), lr=-0.1, epochs=1, verbose=False),
     ValueError, "lr", "-0.1")
case("energy", "rbm-transform-features", lambda t: rbm().transform(np.zeros((2, 7))), ValueError, "4", "(2, 7)")
case("energy", "rbm-sample-n-0", lambda t: rbm().sample(0), ValueError, "n", "0")
case("energy", "rbm-sample-steps-neg", lambda t: rbm().sample(2, steps=-1), ValueError, "steps", "-1")
case("energy", "rbm-fit-zero-rows", lambda t: rbm().fit(np.zeros((0, 4)), epochs=1, verbose=False), ValueError,
     "X", "empty", "(0, 4)")
case("energy", "rbm-fit-momentum-neg", lambda t: rbm().fit(np.zeros((10, 4)), momentum=-0.5, epochs=1,
                                                           verbose=False), ValueError, "momentum", "-0.5")
case("energy", "rbm-fit-epochs-0", lambda t: rbm().fit(np.zeros((10, 4)), epochs=0, verbose=False), ValueError,
     "epochs", "0")
case("energy", "hopfield-load-asymmetric", lambda t: saved_hopfield(t, lambda W: W.__setitem__((0, 1), 2.0)),
     nt.CheckpointError, "h.npz", "symmetric")
case("energy", "hopfield-load-diagonal", lambda t: saved_hopfield(t, lambda W: W.__setitem__((2, 2), 1.0)),
     nt.CheckpointError, "h.npz", "diagonal")
case("energy", "bm-n_visible-0", lambda t: energy.BoltzmannMachine(0), ValueError, "n_visible", "0")
case("energy", "bm-n_hidden-neg", lambda t: energy.BoltzmannMachine(3, -1), ValueError, "n_hidden", "-1")
case("energy", "bm-fit-method", lambda t: energy.BoltzmannMachine(3, seed=0).fit(np.zeros((4, 3)), method="magic",
                                                                                  epochs=1), ValueError, "method",
     "magic")
case("energy", "bm-fit-features", lambda t: energy.BoltzmannMachine(3, seed=0).fit(np.zeros((4, 2)), epochs=1),
     ValueError, "3", "(4, 2)")
case("energy", "bm-sample-T-0", lambda t: energy.BoltzmannMachine(3, seed=0).sample(2, T=0.0), ValueError, "T", "0")
case("energy", "hopfield-n-0", lambda t: energy.Hopfield(0), ValueError, "n", "0")
case("energy", "hopfield-rule", lambda t: energy.Hopfield(4, rule="oja"), ValueError, "rule", "oja")
case("energy", "hopfield-store-features", lambda t: energy.Hopfield(4).store(np.ones((2, 5))), ValueError, "4",
     "(2, 5)")
case("energy", "hopfield-store-not-binary", lambda t: energy.Hopfield(4).store(np.full((2, 4), 0.3)), ValueError,
     "patterns", "0.3")
case("energy", "hopfield-recall-mode", lambda t: energy.Hopfield(4).recall(np.ones(4), mode="lazy"), ValueError,
     "mode", "lazy")
case("energy", "hopfield-thresholds-shape", lambda t: energy.Hopfield(4, thresholds=np.zeros(3)), ValueError,
     "thresholds", "(3,)")
case("energy", "dbn-sizes-short", lambda t: energy.DBN([4]), ValueError, "sizes", "[4]")
case("energy", "dbn-sizes-zero", lambda t: energy.DBN([4, 0]), ValueError, "sizes[1]", "0")
case("energy", "dbn-n_labels-neg", lambda t: energy.DBN([4, 3], n_labels=-2), ValueError, "n_labels", "-2")
case("energy", "dbn-transform-features", lambda t: energy.DBN([4, 3], seed=0).transform(np.zeros((2, 5))),
     ValueError, "4", "(2, 5)")
case("energy", "dbn-pretrain-layers", lambda t: energy.DBN([4, 3], seed=0).pretrain(
    np.zeros((4, 4)), epochs=1, layers=[5], verbose=False), TypeError, "layers[0]", "5")
case("energy", "dbm-sizes-str", lambda t: energy.DBM("abc"), TypeError, "sizes[0]", "str")
case("energy", "dbm-sizes-short", lambda t: energy.DBM([4, 3]), ValueError, "sizes", "[4, 3]")
case("energy", "dbm-sample-n-0", lambda t: energy.DBM([4, 3, 2], seed=0).sample(0), ValueError, "n", "0")
case("energy", "dbm-fit-features", lambda t: energy.DBM([4, 3, 2], seed=0).fit(np.zeros((4, 6)), epochs=1),
     ValueError, "4", "(4, 6)")
case("energy", "flip-bits-k-neg", lambda t: energy.flip_bits(np.ones((2, 4)), -1, seed=0), ValueError, "k", "-1")
case("energy", "schedule-steps-0", lambda t: energy.geometric_schedule(10.0, 1.0, 0), ValueError, "steps", "0")
case("energy", "schedule-t-neg", lambda t: energy.geometric_schedule(-1.0, 1.0, 5), ValueError, "t_start", "-1")
case("energy", "softmax-units-0", lambda t: energy.SoftmaxUnits(0), ValueError, "group_size", "0")
case("energy", "make-units-unknown", lambda t: energy.make_units("gamma"), ValueError, "gamma")
case("energy", "log-partition-too-big", lambda t: energy.log_partition(energy.RBM(40, 40, seed=0), max_states=1000),
     ValueError, "max_states", "1000")

# ------------------------------------------------------------------ models
case("models", "mlp-sizes-short", lambda t: models.MLP([4]), ValueError, "sizes", "[4]")
case("models", "mlp-sizes-zero", lambda t: models.MLP([4, 0, 2]), ValueError, "sizes[1]", "0")
case("models", "mlp-activation", lambda t: models.MLP([4, 2], activation="swishy"), ValueError, "activation",
     "swishy")
case("models", "mlp-dropout-1", lambda t: models.MLP([4, 3, 2], dropout=1.0), ValueError, "dropout", "1")
case("models", "mlp-input_dropout-neg", lambda t: models.MLP([4, 3, 2], input_dropout=-0.2), ValueError,
     "input_dropout", "-0.2")
case("models", "mlp-init", lambda t: models.MLP([4, 2], init="zeros-ish"), ValueError, "init", "zeros-ish")
case("models", "mlp-forward-features", lambda t: models.MLP([4, 2], seed=0)(np.zeros((2, 3))), ValueError, "4",
     "(2, 3)")
case("models", "lenet-table", lambda t: models.LeNet5(table="random"), ValueError, "table", "random")
case("models", "lenet-pooling", lambda t: models.LeNet5(pooling="median"), ValueError, "pooling", "median")
case("models", "lenet-n_classes-1", lambda t: models.LeNet5(n_classes=1), ValueError, "n_classes", "1")
case("models", "lenet-input-size", lambda t: models.LeNet5(seed=0)(np.zeros((1, 1, 20, 20))), ValueError, "32",
     "(1, 1, 20, 20)")
case("models", "dsn-n_modules-0", lambda t: models.DSN(4, 2, 3, n_modules=0), ValueError, "n_modules", "0")
case("models", "dsn-ridge-neg", lambda t: models.DSN(4, 2, 3, n_modules=2, ridge=-1.0), ValueError, "ridge", "-1")
case("models", "dsn-targets", lambda t: models.DSN(4, 2, 3, n_modules=2, targets="soft"), ValueError, "targets",
     "soft")
case("models", "dsn-fit-labels", lambda t: models.DSN(4, 2, 3, n_modules=1, seed=0).fit(
    np.zeros((3, 4)), np.array([0, 1, 5]), finetune_iters=0), ValueError, "5")
case("models", "dsn-fit-features", lambda t: models.DSN(4, 2, 3, n_modules=1, seed=0).fit(
    np.zeros((3, 5)), np.array([0, 1, 1]), finetune_iters=0), ValueError, "4", "(3, 5)")
case("models", "autoencoder-sizes-short", lambda t: models.DeepAutoencoder([4]), ValueError, "sizes", "[4]")
case("models", "autoencoder-code", lambda t: models.DeepAutoencoder([4, 2], code="laplace"), ValueError, "code",
     "laplace")
case("models", "autoencoder-reconstruct-features", lambda t: models.DeepAutoencoder([4, 2], seed=0).reconstruct(
    np.zeros((2, 3))), ValueError, "4", "(2, 3)")
case("models", "stack-noise-1", lambda t: models.AutoencoderStack([4, 2], noise=1.0), ValueError, "noise", "1")
case("models", "charlm-cell", lambda t: models.CharLM(5, cell="tree"), ValueError, "cell", "tree")
case("models", "charlm-vocab-0", lambda t: models.CharLM(0), ValueError, "vocab_size", "0")
case("models", "graphclassifier-readout", lambda t: models.GraphClassifier(3, readout="median"), ValueError,
     "readout", "median")
case("models", "logic-neuron-name", lambda t: models.logic_neuron("nand-ish"), ValueError, "name", "nand-ish")
case("models", "perceptron-labels", lambda t: models.perceptron_train(np.zeros((3, 2)), np.array([0, 1, 2]),
                                                                      epochs=1), ValueError, "y", "2")


# ------------------------------------------------------------------ surgery, distributed
def mlp3():
    return nt.Sequential(nt.Dense(3, 4, seed=0), nt.ReLU(), nt.Dense(4, 2, seed=0))


case("surgery", "jog-scale-neg", lambda t: surgery.jog(mlp3(), -1.0, np.random.default_rng(0)), ValueError,
     "scale", "-1")
case("surgery", "Jog-window-0", lambda t: surgery.Jog(window=0), ValueError, "window", "0")
case("surgery", "stall-threshold-neg", lambda t: surgery.StallDetector(threshold=-1), ValueError, "threshold", "-1")
case("surgery", "prune-n-neg", lambda t: (lambda m: surgery.prune(m, -1, surgery.magnitude_saliency(m)))(mlp3()),
     ValueError, "n", "-1")
case("surgery", "prune-n-too-many", lambda t: (lambda m: surgery.prune(m, 10**6, surgery.magnitude_saliency(m)))(
    mlp3()), ValueError, "1000000", "26")
case("surgery", "obd-method", lambda t: surgery.OBDPruner(method="xyz"), ValueError, "method", "xyz")
case("surgery", "obd-unit", lambda t: surgery.OBDPruner(unit="xyz"), ValueError, "unit", "xyz")
case("surgery", "obd-needs-data", lambda t: surgery.OBDPruner(method="obd"), ValueError, "loss, X and y")
case("surgery", "grow-strategy", lambda t: surgery.Grow(MSE(), X4, np.zeros((4, 2)), index=0, strategy="xyz"),
     ValueError, "strategy", "xyz")
case("surgery", "grow-dense-not-dense", lambda t: surgery.grow_dense(nt.ReLU(), dense()), TypeError, "Dense", "ReLU")
case("surgery", "prune-features-range", lambda t: surgery.prune_features(mlp3(), [7]), ValueError, "features", "7")
case("distributed", "dataparallel-not-optimizer", lambda t: distributed.DataParallel("sgd"), TypeError,
     "optimizer", "str")
case("distributed", "communicator-kind", lambda t: distributed.get_communicator("xyz"), ValueError, "comm", "xyz")
case("distributed", "split-count-neg", lambda t: distributed.split_count(-1, distributed.SingleProcess()), ValueError,
     "total", "-1")
case("distributed", "flat-buffer-extra-neg", lambda t: distributed.flat_buffer([np.zeros(3)], extra=-1), ValueError,
     "extra", "-1")

# ------------------------------------------------------------------ sklearn estimators
def skl(name, **kw):
    import neuronet.sklearn as s
    return getattr(s, name)(**kw)


XS, YS = np.random.default_rng(0).random((8, 4)), np.array([0, 1] * 4)
case("sklearn", "mlp-hidden-zero", lambda t: skl("MLPClassifier", hidden_layer_sizes=(0,), max_iter=1).fit(XS, YS),
     ValueError, "hidden_layer_sizes", "0")
case("sklearn", "mlp-solver", lambda t: skl("MLPClassifier", solver="lbfgs", max_iter=1).fit(XS, YS), ValueError,
     "solver", "lbfgs")
case("sklearn", "mlp-alpha-neg", lambda t: skl("MLPClassifier", alpha=-1.0, max_iter=1).fit(XS, YS), ValueError,
     "alpha", "-1")
case("sklearn", "mlp-batch-size-str", lambda t: skl("MLPClassifier", batch_size="big", max_iter=1).fit(XS, YS),
     (TypeError, ValueError), "batch_size", "big")
case("sklearn", "mlp-max_iter-0", lambda t: skl("MLPClassifier", max_iter=0).fit(XS, YS), ValueError, "max_iter",
     "0")
case("sklearn", "mlp-lr-neg", lambda t: skl("MLPClassifier", learning_rate_init=-0.1, max_iter=1).fit(XS, YS),
     ValueError, "learning_rate_init", "-0.1")
case("sklearn", "mlp-rows", lambda t: skl("MLPClassifier", max_iter=1).fit(XS, YS[:5]), ValueError, "5", "8")
case("sklearn", "mlp-nan", lambda t: skl("MLPClassifier", max_iter=1).fit(np.full((8, 4), np.nan), YS), ValueError,
     "NaN")
case("sklearn", "mlp-predict-before-fit", lambda t: skl("MLPClassifier").predict(XS), NotFittedError, "fit")
case("sklearn", "mlp-predict-features", lambda t: skl("MLPClassifier", max_iter=1, hidden_layer_sizes=(3,)).fit(
    XS, YS).predict(np.zeros((2, 5))), ValueError, "4", "5")
case("sklearn", "mlpreg-activation", lambda t: skl("MLPRegressor", activation="swish", max_iter=1).fit(XS, XS[:, 0]),
     ValueError, "activation", "swish")
case("sklearn", "rbm-n_components-0", lambda t: skl("RBM", n_components=0).fit(XS), ValueError, "n_components", "0")
case("sklearn", "rbm-n_iter-0", lambda t: skl("RBM", n_iter=0).fit(XS), ValueError, "n_iter", "0")
case("sklearn", "rbm-k-0", lambda t: skl("RBM", k=0, n_iter=1).fit(XS), ValueError, "k", "0")
case("sklearn", "rbm-transform-before-fit", lambda t: skl("RBM").transform(XS), NotFittedError, "fit")
case("sklearn", "dbn-pretrain-epochs-neg", lambda t: skl("DBNClassifier", hidden_layer_sizes=(3,),
                                                         pretrain_epochs=-1).fit(XS, YS), ValueError,
     "pretrain_epochs", "-1")
case("sklearn", "dsn-n_modules-0", lambda t: skl("DSNClassifier", n_modules=0).fit(XS, YS), ValueError, "n_modules",
     "0")
case("sklearn", "dsn-ridge-neg", lambda t: skl("DSNClassifier", ridge=-1.0).fit(XS, YS), ValueError, "ridge", "-1")
case("sklearn", "lenet-pooling", lambda t: skl("LeNet5Classifier", pooling="median").fit(np.zeros((2, 1024)),
                                                                                        [0, 1]), ValueError,
     "pooling", "median")
case("sklearn", "lenet-features", lambda t: skl("LeNet5Classifier", max_iter=1).fit(np.zeros((2, 2000)), [0, 1]),
     ValueError, "1024", "2000")
case("sklearn", "autoencoder-code", lambda t: skl("DeepAutoencoder", code="laplace").fit(XS), ValueError, "code",
     "laplace")
case("sklearn", "autoencoder-hidden-empty", lambda t: skl("DeepAutoencoder", hidden_layer_sizes=()).fit(XS),
     ValueError, "hidden_layer_sizes")


# ------------------------------------------------------------------ command line
class Exit(Exception):
    """The command's exit status and what it printed on stderr."""


def cli_exit(argv):
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            code = cli(argv)
        except SystemExit as e:  # argparse's own usage errors
            code = e.code
    raise Exit(f"exit {code}: {err.getvalue()}")


case("cli", "unknown-command", lambda t: cli_exit(["frobnicate"]), Exit, "exit 2", "frobnicate")
case("cli", "train-missing-config", lambda t: cli_exit(["train", str(t / "none.json")]), Exit, "exit 2", "none.json", "not found")
case("cli", "demo-epochs-str", lambda t: cli_exit(["demo", "--epochs", "many"]), Exit, "exit 2", "--epochs", "many")
case("cli", "evaluate-missing", lambda t: cli_exit(["evaluate", str(t / "none.npz")]), Exit, "exit 2", "none.npz")
case("cli", "data-unknown", lambda t: cli_exit(["data", "fetch", "no-such-set"]), Exit, "exit 2", "no-such-set")
case("cli", "reproduce-unknown", lambda t: cli_exit(["reproduce", "no-such-entry"]), Exit, "exit 2", "no-such-entry")

CASES = C


@pytest.mark.parametrize("fn, exc, words", CASES)
def test_bad_input(fn, exc, words, tmp_path):
    with pytest.raises(exc) as e:
        fn(tmp_path)
    msg = str(e.value).lower()
    missing = [w for w in words if w.lower() not in msg]
    assert not missing, f"message {str(e.value)!r} does not name {missing}"


def test_enough_cases():
    assert len(CASES) >= 150


def test_good_input_next_to_the_bad_still_works(tmp_path):
    """The checks refuse only what is wrong: a formatted {epoch} template, a NaN *output*
    (data: it propagates), a 28×28 LeNet input and a small valid IDX file all pass."""
    ck = ModelCheckpoint(tmp_path / "c-{epoch:03d}.npz")
    assert ck._path(7).name == "c-007.npz"
    assert np.isnan(MSE()(np.array([[np.nan]]), np.array([[0.0]])))
    assert parse_idx(idx_bytes(0x08, [2, 3], bytes(range(6)))).tolist() == [[0, 1, 2], [3, 4, 5]]
    assert models.LeNet5(seed=0)(np.zeros((1, 1, 28, 28))).shape == (1, 10)
    net = energy.Hopfield(4)
    net.store(np.array([[1.0, -1, 1, -1], [1, 1, -1, -1]]))
    nt.save(tmp_path / "h.npz", net)
    assert np.array_equal(nt.load(tmp_path / "h.npz").W.data, net.W.data)
    x = np.zeros((1, 1, 2, 2))
    x[0, 0, 1, 1] = np.nan  # NaN is data: max-pooling propagates it (PyTorch does)
    assert np.isnan(nt.MaxPool2d(2)(x)).all()
    shared = nt.Dense(2, 2, seed=0)
    assert len(nt.Sequential(shared, nt.ReLU(), shared).parameters()) == 2  # updated once per step
    assert models.MLP([4, 3, 2], seed=0)(np.zeros((2, 4))).shape == (2, 2)
    w, w0, errors = models.perceptron_train(np.array([[0.0, 0], [1, 1]]), [0, 1], epochs=5, seed=0)
    assert errors[-1] == 0
