"""Jogging: the shake's size follows each layer's weight spread, pruned weights and
biases stay, a shake that worsens the validation loss is undone."""
from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet.layers import Sequential
from neuronet.surgery import Jog, StallDetector, jog
from neuronet.train.callbacks import Callback


def _net(seed=0):
    net = Sequential(nt.Dense(4, 30, seed=seed), nt.Tanh(), nt.Dense(30, 3, seed=seed + 1))
    return net.astype(np.float64)


def test_shake_is_scaled_by_each_layers_spread_and_spares_pruned_weights_and_biases():
    net = _net()
    net.layers[2].W.data *= 10                          # a layer with a 10x wider spread
    net.layers[0].W.set_mask(np.random.default_rng(0).uniform(size=(4, 30)) > 0.3)
    net.layers[0].b.data[...] = 0.5
    old = jog(net, 0.1, np.random.default_rng(1))
    W1, b1, W2, _ = net.parameters()
    ratio = []
    for p, w in ((W1, old[0]), (W2, old[2])):
        live = p.mask if p.mask is not None else np.ones(p.shape, bool)
        ratio.append(np.std(p.data[live] - w[live]) / (0.1 * np.std(w[live])))
        assert np.all(p.data[~live] == 0)
    np.testing.assert_allclose(ratio, 1.0, atol=0.25)
    np.testing.assert_array_equal(b1.data, old[1])


class _CheckUndo(Callback):
    """After Jog: a rejected shake leaves exactly the validation loss of before."""

    def __init__(self, jogger):
        self.jogger, self.checked = jogger, 0

    def on_epoch_end(self, trainer, epoch, logs):
        if self.jogger.jogs and self.jogger.jogs[-1]["epoch"] == epoch:
            rec = self.jogger.jogs[-1]
            now = trainer.step.evaluate(trainer.validation)["loss"]
            assert now == (rec["val_loss_after"] if rec["kept"] else rec["val_loss_before"])
            self.checked += 1


@pytest.mark.parametrize("scale,expect_kept", [(3.0, False), (1e-9, None)])
def test_jog_keeps_a_shake_only_if_the_validation_loss_does_not_worsen(scale, expect_kept):
    r = np.random.default_rng(2)
    X, y = r.standard_normal((200, 4)), r.integers(0, 3, 200)
    net = _net(1)
    jogger = Jog(scale=scale, window=1, threshold=10.0, seed=0)    # stalls every 2nd epoch
    check = _CheckUndo(jogger)
    nt.fit(net, nt.SoftmaxCrossEntropy(), nt.optim.SGD(net, lr=0.05), X[:150], y[:150], epochs=6,
           batch_size=50, validation=(X[150:], y[150:]), seed=0, callbacks=[jogger, check])
    assert [j["epoch"] for j in jogger.jogs] == [2, 4, 6] and check.checked == 3
    for j in jogger.jogs:
        assert j["kept"] == (j["val_loss_after"] <= j["val_loss_before"])
        if expect_kept is not None:
            assert j["kept"] == expect_kept


def test_stall_detector():
    s = StallDetector(window=2, threshold=0.1)
    assert [s.update(v) for v in (1.0, 0.8, 0.7, 0.75)] == [False, False, False, True]
    assert s.losses == [] and not s.update(0.5)


def test_bad_input():
    with pytest.raises(ValueError, match="scale must be > 0, got 0"):
        Jog(scale=0)
    net = _net()
    with pytest.raises(ValueError, match="train with validation="):
        nt.fit(net, nt.MSE(), nt.optim.SGD(net, lr=0.01), np.zeros((10, 4)), np.zeros((10, 3)),
               epochs=3, callbacks=[Jog(window=1, threshold=10.0)])
