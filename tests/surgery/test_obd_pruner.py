"""The OBD schedule on the training loop: rounds of pruning and retraining, the put-back
rule, feature selection, the magnitude baseline, resume of the callback's state."""
from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet.surgery import OBDPruner


def _problem(seed=0, n=400, d=8):
    r = np.random.default_rng(seed)
    X = r.standard_normal((n, d))
    y = (X[:, 0] + 0.5 * X[:, 1] - X[:, 2] > 0).astype(np.int64)     # inputs 3.. are noise
    return X[:300], y[:300], X[300:], y[300:]


def _net(d=8, seed=0):
    return nt.layers.Sequential(nt.Dense(d, 16, seed=seed), nt.Tanh(),
                                nt.Dense(16, 2, seed=seed + 1)).astype(np.float64)


def _fit(net, X, y, Xv, yv, cb, epochs):
    return nt.fit(net, nt.SoftmaxCrossEntropy(), nt.optim.Adam(net, lr=0.01), X, y, epochs=epochs,
                  batch_size=30, validation=(Xv, yv), seed=0, callbacks=[cb])


@pytest.mark.parametrize("method", ["obd", "magnitude"])
def test_rounds_remove_a_fraction_of_the_live_weights_and_retrain(method):
    X, y, Xv, yv = _problem()
    net = _net()
    n0 = net.num_parameters()
    cb = OBDPruner(nt.SoftmaxCrossEntropy(), X, y, method=method, fraction=0.2, start_epoch=3,
                   retrain_epochs=2, monitor="val_loss", tolerance=10.0, max_rounds=3)
    hist = _fit(net, X, y, Xv, yv, cb, epochs=20)
    assert [r["round"] for r in cb.rounds] == [0, 1, 2, 3]
    assert [r["epoch"] for r in cb.rounds] == [3, 5, 7, 9] and len(hist) == 9  # stops after round 3
    assert cb.rounds[0]["live"] == n0
    assert all(p.mask is None for p in net.parameters() if p.name == "b")  # biases never go
    for r in cb.rounds[1:]:
        assert r["live"] == cb.rounds[r["round"] - 1]["live"] - r["removed"]
        assert "val_loss" in r and "loss" in r
    assert net.num_parameters() == cb.rounds[-1]["live"]
    pruned = sum(int((~p.mask).sum()) for p in net.parameters() if p.mask is not None)
    assert pruned == sum(r["removed"] for r in cb.rounds) and not cb.put_back


def test_weights_removed_per_round_follow_the_fraction():
    X, y, Xv, yv = _problem(1)
    net = _net(seed=1)
    cb = OBDPruner(nt.SoftmaxCrossEntropy(), X, y, fraction=0.25, start_epoch=2, tolerance=10.0,
                   max_rounds=2)
    _fit(net, X, y, Xv, yv, cb, epochs=10)
    weights = 8 * 16 + 16 * 2                                   # live weights before round 1
    assert cb.rounds[1]["removed"] == int(0.25 * weights)
    assert cb.rounds[2]["removed"] == int(0.25 * (weights - int(0.25 * weights)))


def test_put_back_when_the_quality_gets_much_worse():
    X, y, Xv, yv = _problem(2)
    net = _net(seed=2)
    cb = OBDPruner(nt.SoftmaxCrossEntropy(), X, y, fraction=0.5, start_epoch=5, retrain_epochs=1,
                   monitor="val_loss", tolerance=0.02)
    hist = _fit(net, X, y, Xv, yv, cb, epochs=40)
    last = cb.rounds[-1]
    assert cb.put_back and last["put_back"] and len(hist) < 40
    assert last["val_loss"] > cb.baseline + 0.02                # the reason it stopped
    assert last["live_after_put_back"] == last["live"] + last["removed"]
    assert net.num_parameters() == last["live_after_put_back"]
    for r in cb.rounds[1:-1]:
        assert r["val_loss"] <= cb.baseline + 0.02


def test_feature_selection_removes_the_noise_inputs_first():
    X, y, Xv, yv = _problem(3)
    net = _net(seed=3)
    cb = OBDPruner(nt.SoftmaxCrossEntropy(), X, y, unit="features", fraction=0.2, start_epoch=15,
                   tolerance=10.0, max_rounds=3)
    _fit(net, X, y, Xv, yv, cb, epochs=40)
    W = net.parameters()[0]
    removed_rows = np.flatnonzero(~W.mask.any(axis=1))
    assert [r["removed"] for r in cb.rounds[1:]] == [16, 16, 16]   # one of 8, 7, 6 inputs each
    assert set(removed_rows) <= {3, 4, 5, 6, 7} and len(removed_rows) == 3
    assert np.all(W.data[removed_rows] == 0)


def test_state_dict_round_trip_restores_the_put_back_record():
    X, y, Xv, yv = _problem(4)
    net = _net(seed=4)
    cb = OBDPruner(method="magnitude", fraction=0.3, start_epoch=2, tolerance=10.0, max_rounds=1)
    _fit(net, X, y, Xv, yv, cb, epochs=5)
    state = cb.state_dict()
    cb2 = OBDPruner(method="magnitude")
    cb2.load_state_dict(state)

    class _T:
        model = net
    cb2.on_train_begin(_T())
    n = net.num_parameters()
    cb2.last.restore()
    assert net.num_parameters() == n + cb.rounds[1]["removed"] and cb2.rounds == cb.rounds


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match=r"method must be one of \['magnitude', 'obd'\], got 'random'"):
        OBDPruner(method="random")
    with pytest.raises(ValueError, match="needs loss, X and y"):
        OBDPruner(method="obd")
    with pytest.raises(ValueError, match=r"unit must be one of"):
        OBDPruner(method="magnitude", unit="neurons")
    with pytest.raises(ValueError, match="fraction must be in"):
        OBDPruner(method="magnitude", fraction=1.5)
