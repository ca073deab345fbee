"""The training loop: SG with running Q, resume exactness, divergence, callbacks, bad input."""
from __future__ import annotations

import io

import numpy as np
import pytest

import neuronet as nt
from neuronet import data as D
from neuronet.train import Callback


def _net(seed=0, hidden=16, dropout=0.0, n_in=2, n_out=2):
    layers = [nt.Dense(n_in, hidden, seed=seed), nt.Tanh()]
    if dropout:
        layers.append(nt.Dropout(dropout, seed=seed + 7))
    layers.append(nt.Dense(hidden, n_out, seed=seed + 1))
    return nt.Sequential(*layers)


class Recorder(Callback):
    """Per-batch losses and per-epoch weights, to check the loop from outside."""

    def __init__(self):
        self.losses, self.weights = [], []

    def on_batch_end(self, trainer, batch, loss):
        self.losses.append(loss)

    def on_epoch_end(self, trainer, epoch, logs):
        self.weights.append(trainer.model.state_dict())


# ------------------------------------------------------------- SG per object
def test_sg_one_object_at_a_time_solves_xor():
    X, y = D.logic_table("xor")
    net = _net(seed=0, hidden=8)
    stop = nt.StopAtTarget("val_accuracy", 1.0)
    hist = nt.fit(net, nt.SoftmaxCrossEntropy(), nt.optim.SGD(net.parameters(), lr=0.1), X, y,
                  epochs=1000, batch_size=1, seed=0, validation=(X, y), callbacks=[stop])
    assert stop.reached_epoch is not None and len(hist) == stop.reached_epoch
    assert np.array_equal(nt.predict(net, X).argmax(1), y)  # zero training errors


def test_sg_one_object_at_a_time_solves_flower():
    X, y = D.make_flower(100, noise=0.02, seed=0)
    X = D.Standardizer().fit_transform(X)
    net = nt.Sequential(nt.Dense(2, 64, seed=0), nt.Tanh(), nt.Dense(64, 64, seed=1), nt.Tanh(),
                        nt.Dense(64, 2, seed=2))
    stop = nt.StopAtTarget("val_accuracy", 1.0)
    nt.fit(net, nt.SoftmaxCrossEntropy(), nt.optim.Adam(net.parameters(), lr=0.02), X, y,
           epochs=150, batch_size=1, seed=0, validation=(X, y),
           callbacks=[nt.ExponentialLR(0.98), stop])
    assert stop.reached_epoch is not None
    assert np.array_equal(nt.predict(net, X).argmax(1), y)  # zero training errors


def test_running_q_is_the_lecture_recurrence():
    X, y = D.make_flower(40, seed=0)
    rec = Recorder()
    net = _net()
    lam = 0.1
    hist = nt.fit(net, nt.SoftmaxCrossEntropy(), nt.optim.SGD(net.parameters(), lr=0.05), X, y,
                  epochs=2, batch_size=1, seed=0, smoothing=lam, record_q=True, callbacks=[rec])
    L, q = np.array(rec.losses), np.array(hist.q_trace)
    assert len(L) == len(q) == 80
    expect = [L[0]]
    for li in L[1:]:
        expect.append((1 - lam) * expect[-1] + lam * li)
    np.testing.assert_allclose(q, expect, rtol=1e-12)
    assert hist["q"] == [q[39], q[79]]
    np.testing.assert_allclose(hist["loss"], [L[:40].mean(), L[40:].mean()])


def test_each_epoch_visits_every_object_once_in_random_order():
    seen = []

    class Spy(nt.Module):
        def forward(self, x):
            seen.append(np.array(x[:, 0]))
            return x

        def backward(self, dy):
            return dy

    X = np.c_[np.arange(10.0), np.zeros(10)]
    y = np.arange(10) % 2
    net = nt.Sequential(Spy(), nt.Dense(2, 2, seed=0))
    nt.fit(net, nt.SoftmaxCrossEntropy(), nt.optim.SGD(net.parameters(), lr=0.01), X, y,
           epochs=2, batch_size=3, seed=1)
    e1, e2 = np.concatenate(seen[:4]), np.concatenate(seen[4:8])
    assert sorted(e1) == sorted(e2) == list(range(10))
    assert list(e1) != list(range(10)) and list(e1) != list(e2)
    assert [len(s) for s in seen[:4]] == [3, 3, 3, 1]


def test_multi_output_regression():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    Y = np.c_[X[:, 0] * X[:, 1], np.sin(X[:, 2]), X.sum(1)]
    net = nt.Sequential(nt.Dense(3, 32, seed=0), nt.Tanh(), nt.Dense(32, 3, seed=1))
    hist = nt.fit(net, nt.MSE(), nt.optim.Adam(net.parameters(), lr=0.01), X, Y, epochs=30,
                  batch_size=16, seed=0, validation_split=0.25)
    assert "val_accuracy" not in hist.keys()
    assert hist["val_loss"][-1] < 0.2 * hist["val_loss"][0]


# ------------------------------------------------------------------ resume
def _resume_setup(tmp_path):
    X, y = D.make_flower(120, seed=3)

    def run(epochs, **kw):
        net = _net(seed=0, dropout=0.3)
        opt = nt.optim.Adam(net.parameters(), lr=0.01)
        h = nt.fit(net, nt.SoftmaxCrossEntropy(), opt, X, y, epochs=epochs, batch_size=8,
                   validation_split=0.2, callbacks=[nt.StepLR(1, 0.7), *kw.pop("cbs", [])], **kw)
        return net, opt, h
    return run


def test_resume_is_bit_identical(tmp_path):
    run = _resume_setup(tmp_path)
    net4, opt4, h4 = run(4, seed=5)
    ck = tmp_path / "ck.npz"
    run(2, seed=5, cbs=[nt.ModelCheckpoint(ck)])
    # a different seed: everything random must come from the checkpoint
    net, opt, h = run(4, seed=123, resume_from=ck)
    for (name, a), (_, b) in zip(net4.named_parameters(), net.named_parameters()):
        assert np.array_equal(a.data, b.data), name
    assert opt.t == opt4.t
    for k in opt4.state_dict()["state"]:
        assert np.array_equal(opt4.state_dict()["state"][k], opt.state_dict()["state"][k])
    assert h["loss"] == h4["loss"] and h["val_loss"] == h4["val_loss"]
    assert h["lr"] == h4["lr"] and len(h) == 4
    assert h.trainer.epoch == 4


def test_atomic_save_survives_crash_between_write_and_rename(tmp_path, monkeypatch):
    import neuronet.io as nio
    net = _net(seed=0)
    path = tmp_path / "model.npz"
    nt.save(path, net)
    before = path.read_bytes()
    net2 = _net(seed=9)

    def crash(src, dst):
        raise KeyboardInterrupt("simulated crash between write and rename")
    monkeypatch.setattr(nio.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        nt.save(path, net2)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]
    loaded = nt.load(path)
    assert np.array_equal(loaded[0].W.data, net[0].W.data)


@pytest.mark.filterwarnings("ignore:overflow")
def test_divergence_names_epoch_and_batch_and_keeps_checkpoint(tmp_path):
    X, y = D.make_flower(64, seed=0)

    class Blowup(Callback):
        def on_epoch_begin(self, trainer, epoch):
            if epoch == 3:
                trainer.optimizer.lr = 1e30

    net = _net()
    ck = tmp_path / "last.npz"
    with pytest.raises(nt.TrainingDiverged, match=r"epoch 3, batch \d+") as e:
        nt.fit(net, nt.MSE(), nt.optim.SGD(net.parameters(), lr=0.01), X,
               np.eye(2)[y], epochs=5, batch_size=8, seed=0,
               callbacks=[nt.ModelCheckpoint(ck), Blowup()])
    assert e.value.epoch == 3 and e.value.batch >= 1
    ckpt = nt.load_checkpoint(ck)
    assert ckpt.epoch == 2
    assert all(np.isfinite(p.data).all() for p in ckpt.model.parameters())


# --------------------------------------------------------------- callbacks
def test_early_stopping_restores_best_weights():
    rng = np.random.default_rng(0)
    X, y = D.make_flower(200, seed=0)
    Xv, yv = X[:50], rng.permutation(y[:50])  # noise labels: validation loss rises
    rec = Recorder()
    es = nt.EarlyStopping("val_loss", patience=2)
    net = _net(hidden=32)
    hist = nt.fit(net, nt.SoftmaxCrossEntropy(), nt.optim.Adam(net.parameters(), lr=0.05), X, y,
                  epochs=100, batch_size=8, seed=0, validation=(Xv, yv), callbacks=[rec, es])
    vl = hist["val_loss"]
    assert len(hist) < 100 and es.stopped_epoch == len(hist)
    best = int(np.argmin(vl))
    assert es.best_epoch == best + 1 and len(hist) == best + 1 + 2
    for name, arr in net.state_dict().items():
        assert np.array_equal(arr, rec.weights[best][name])


def test_lr_schedules():
    X, y = D.logic_table("xor")
    for cb, expect in [(nt.StepLR(2, 0.5), [0.1, 0.1, 0.05, 0.05, 0.025]),
                       (nt.ExponentialLR(0.5), [0.1, 0.05, 0.025, 0.0125, 0.00625]),
                       (nt.InverseTimeLR(1.0), [0.1, 0.05, 0.1 / 3, 0.025, 0.02])]:
        net = _net()
        h = nt.fit(net, nt.SoftmaxCrossEntropy(), nt.optim.SGD(net.parameters(), lr=0.1), X, y,
                   epochs=5, batch_size=4, callbacks=[cb])
        np.testing.assert_allclose(h["lr"], expect)


def test_periodic_checkpoints(tmp_path):
    X, y = D.logic_table("xor")
    cb = nt.ModelCheckpoint(tmp_path / "ck-{epoch}.npz", every=2)
    net = _net()
    nt.fit(net, nt.SoftmaxCrossEntropy(), nt.optim.SGD(net.parameters(), lr=0.1), X, y,
           epochs=5, batch_size=2, seed=0, callbacks=[cb])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck-2.npz", "ck-4.npz", "ck-5.npz"]
    assert nt.load_checkpoint(tmp_path / "ck-4.npz").epoch == 4


def test_progress_bar_shows_q_and_validation():
    X, y = D.make_flower(64, seed=0)
    buf = io.StringIO()
    net = _net()
    nt.fit(net, nt.SoftmaxCrossEntropy(), nt.optim.SGD(net.parameters(), lr=0.1), X, y,
           epochs=2, batch_size=1, seed=0, validation=(X, y),
           callbacks=[nt.ProgressBar(interval=0.0, file=buf)])
    out = buf.getvalue()
    assert "epoch 2" in out and "Q=" in out and "val_accuracy=" in out and "64/64" in out


# --------------------------------------------------------------- bad input
@pytest.mark.parametrize("X, y, kw, exc, msg", [
    (np.zeros((5, 2)), np.zeros(4, dtype=int), {}, ValueError, "same number of samples.*X: 5, y: 4"),
    (np.array([[0.0, np.nan], [1, 1]]), np.array([0, 1]), {}, ValueError, "X contains NaN"),
    (np.zeros((2, 2)), np.array([0.5, 1.0]), {}, ValueError, "must be integers.*0.5"),
    (np.zeros((0, 2)), np.zeros(0, dtype=int), {}, ValueError, "empty"),
    (np.zeros((2, 2)), np.array([0, 1]), {"epochs": 0}, ValueError, "epochs must be >= 1"),
    (np.zeros((2, 2)), np.array([0, 1]), {"epochs": -3}, ValueError, "epochs must be >= 1"),
    (np.zeros((2, 2)), np.array([0, 1]), {"batch_size": 0}, ValueError, "batch_size must be >= 1"),
    (np.zeros((2, 2)), np.array([0, -1]), {}, ValueError, "must be >= 0"),
    (np.array(["a", "b"]), np.array([0, 1]), {}, TypeError, "numeric"),
    (np.zeros(2), np.array([0, 1]), {}, ValueError, r"\(N, features"),
    (np.zeros((4, 2)), np.array([0, 1, 0, 1]), {"validation_split": 0.5,
                                                "validation": (np.zeros((1, 2)), [0])},
     ValueError, "not both"),
    (np.zeros((4, 2)), np.array([0, 1, 0, 1]), {"callbacks": [print]}, TypeError, "Callback"),
])
def test_bad_input_is_a_clear_error(X, y, kw, exc, msg):
    net = _net()
    args = dict(epochs=1, batch_size=2)
    args.update(kw)
    with pytest.raises(exc, match=msg):
        nt.fit(net, nt.SoftmaxCrossEntropy(), nt.optim.SGD(net.parameters(), lr=0.1), X, y, **args)


def test_integer_valued_float_labels_are_accepted():
    X, y = D.logic_table("xor")
    net = _net()
    h = nt.fit(net, nt.SoftmaxCrossEntropy(), nt.optim.SGD(net.parameters(), lr=0.1), X,
               y.astype(np.float64), epochs=1, batch_size=2, validation=(X, y))
    assert 0 <= h.last["val_accuracy"] <= 1


def test_history_access():
    h = nt.History([{"epoch": 1, "loss": 2.0}, {"epoch": 2, "loss": 1.0, "val_loss": 3.0}])
    assert h["loss"] == [2.0, 1.0] and h["val_loss"] == [None, 3.0]
    assert h.keys() == ["epoch", "loss", "val_loss"]
    with pytest.raises(KeyError, match="no 'acc'"):
        h["acc"]


@pytest.mark.parametrize("kind", ["margin-logistic", "margin-hinge", "bce-logits", "bce-sigmoid"])
def test_binary_losses_and_their_accuracy(kind):
    """Margin losses take y ∈ {−1, +1} (accuracy by sign), BCE y ∈ {0, 1} (by ½ or logit 0)."""
    X, y = D.make_flower(100, seed=0)
    layers = [nt.Dense(2, 16, seed=0), nt.Tanh(), nt.Dense(16, 1, seed=1)]
    if kind.startswith("margin"):
        loss, t = nt.MarginLoss(kind.split("-")[1]), 2 * y - 1
    else:
        loss, t = nt.BinaryCrossEntropy(from_logits=kind == "bce-logits"), y
        if kind == "bce-sigmoid":
            layers.append(nt.Sigmoid())
    net = nt.Sequential(*layers)
    h = nt.fit(net, loss, nt.optim.Adam(net.parameters(), lr=0.01), X, t, epochs=20,
               batch_size=10, seed=0, validation=(X, t))
    out = nt.predict(net, X).ravel()
    pred = (out > (0.5 if kind == "bce-sigmoid" else 0.0)).astype(int)
    assert h.last["val_accuracy"] == pytest.approx(np.mean(pred == y))
    assert h.last["val_accuracy"] >= 0.8


def test_validation_split_is_random_and_fixed():
    """Sorted data (classes in blocks) still give both classes in the validation part,
    and the same objects on every call (so a resumed run validates on the same set)."""
    X, y = D.make_flower(200, seed=0)  # 100 of class 0, then 100 of class 1
    seen = []

    def run():
        net = _net()
        h = nt.fit(net, nt.SoftmaxCrossEntropy(), nt.optim.SGD(net.parameters(), lr=0.1), X, y,
                   epochs=1, batch_size=50, seed=0, validation_split=0.25)
        seen.append(h.trainer.batches.n)
        return h
    h1, h2 = run(), run()
    assert seen == [150, 150] and h1["val_loss"] == h2["val_loss"]
    perm = np.random.default_rng(0).permutation(200)[:50]
    assert 10 < np.sum(y[perm] == 1) < 40
