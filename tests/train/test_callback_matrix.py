"""Every callback works with every model family on the one loop.

Families: nt.fit (an MLP), fit_stream (truncated BPTT), RBM.fit by CD and by PCD,
BoltzmannMachine.fit and the graph classifier. Callbacks: checkpoint, resume
(bit-identical), early stopping, a learning-rate schedule, the progress bar, and
divergence (which must leave the last good checkpoint as it was). Tiny models, a
few epochs: the whole matrix runs in seconds.
"""
from __future__ import annotations

import io

import numpy as np
import pytest

import neuronet as nt
from neuronet.data import one_hot
from neuronet.data.graphs import GraphDataset
from neuronet.energy import RBM, BoltzmannMachine
from neuronet.models.graph_classifier import GraphClassifier, train_graph_classifier

_rng = np.random.default_rng(0)
X_MLP = _rng.normal(size=(40, 3))
Y_MLP = (X_MLP[:, 0] + X_MLP[:, 1] > 0).astype(np.int64)
STREAM = _rng.integers(0, 4, (31, 2))
X_BITS = (_rng.random((60, 8)) < 0.3).astype(np.float64)
X_BM = (_rng.random((20, 4)) < 0.4).astype(np.float64)


def _graphs(n=12):
    """n paths of 3 nodes with 2 features; the label is the sign of the first feature's sum."""
    x = np.random.default_rng(1).normal(size=(3 * n, 2))
    src = np.concatenate([[3 * g, 3 * g + 1, 3 * g + 1, 3 * g + 2] for g in range(n)])
    dst = np.concatenate([[3 * g + 1, 3 * g, 3 * g + 2, 3 * g + 1] for g in range(n)])
    labels = (x[:, 0].reshape(n, 3).sum(1) > 0).astype(int)
    return GraphDataset(x, np.stack([src, dst]), np.repeat(np.arange(n), 3), labels)


GRAPHS = _graphs()


# Each family: train a fresh model (weights from `seed`) for `epochs` of the loop and return it.
def _mlp(epochs, seed, callbacks, resume, progress):
    model = nt.Sequential(nt.Dense(3, 4, seed=seed), nt.Tanh(), nt.Dense(4, 2, seed=seed + 1))
    nt.fit(model, nt.SoftmaxCrossEntropy(), nt.optim.SGD(model.parameters(), lr=0.1), X_MLP, Y_MLP,
           epochs=epochs, batch_size=10, seed=0, callbacks=callbacks, resume_from=resume, progress=progress)
    return model


def _stream(epochs, seed, callbacks, resume, progress):
    """An epoch of the loop is a round of 3 BPTT steps (val_every = checkpoint_every = 3)."""
    model = nt.Sequential(nt.LSTM(4, 5, stateful=True, seed=seed), nt.TimeDistributed(nt.Dense(5, 4, seed=seed)))
    model = model.astype(np.float64)
    x, y = STREAM[:-1], STREAM[1:]
    nt.fit_stream(model, nt.SequenceSoftmaxCrossEntropy(), nt.optim.SGD(model.parameters(), lr=0.3), x, y,
                  seq_len=4, steps=3 * epochs, transform=lambda c: one_hot(c, 4, np.float64),
                  validation=(x, y), val_every=3, checkpoint=resume, checkpoint_every=3,
                  callbacks=callbacks, progress=progress)
    return model


def _rbm(persistent):
    def run(epochs, seed, callbacks, resume, progress):
        r = RBM(8, 4, seed=seed).astype(np.float64)
        r.fit(X_BITS, epochs=epochs, batch_size=10, persistent=persistent, lr=0.1, seed=0,
              callbacks=callbacks, resume_from=resume, verbose=progress)
        return r
    return run


def _boltzmann(epochs, seed, callbacks, resume, progress):
    bm = BoltzmannMachine(4, 2, init_std=0.1, seed=seed, dtype="float64")
    bm.fit(X_BM, epochs=epochs, lr=0.2, batch_size=10, sweeps=1, n_chains=10, seed=0,
           callbacks=callbacks, resume_from=resume, progress=progress)
    return bm


def _graph(epochs, seed, callbacks, resume, progress):
    model = GraphClassifier(2, 2, hidden=(4,), head=4, seed=seed).astype(np.float64)
    train_graph_classifier(model, GRAPHS, np.arange(12), epochs=epochs, batch_size=4, lr=0.05, seed=0,
                           callbacks=callbacks, resume_from=resume, progress=progress)
    return model


FAMILIES = {"fit": _mlp, "fit_stream": _stream, "rbm_cd": _rbm(False), "rbm_pcd": _rbm(True),
            "boltzmann": _boltzmann, "graph": _graph}


class Spy(nt.Callback):
    """Records, per epoch, the learning rate, the training loss and a copy of the weights."""

    def __init__(self):
        self.epochs, self.lr, self.loss, self.weights = [], [], [], []

    def on_epoch_end(self, trainer, epoch, logs):
        self.epochs.append(epoch)
        self.lr.append(trainer.optimizer.lr)
        self.loss.append(logs["loss"])
        self.weights.append([p.data.copy() for p in trainer.model.parameters()])


class Poison(nt.Callback):
    """After epoch ``at``, a NaN in the first weight: the next batch's loss is NaN."""

    def __init__(self, at):
        self.at = at

    def on_epoch_end(self, trainer, epoch, logs):
        if epoch == self.at:
            trainer.model.parameters()[0].data.flat[0] = np.nan


def _params(model):
    return [p.data for p in model.parameters()]


@pytest.mark.parametrize("family", FAMILIES)
def test_checkpoint_and_bit_identical_resume(family, tmp_path):
    run = FAMILIES[family]
    straight_spy = Spy()
    straight = run(4, 0, [straight_spy], None, False)
    ck = tmp_path / "ck.npz"
    first = run(2, 0, [nt.ModelCheckpoint(ck)], None, False)
    assert nt.io.load_checkpoint(ck).epoch == 2
    for a, b in zip(_params(nt.load(ck)), _params(first)):
        np.testing.assert_array_equal(a, b)
    spy = Spy()
    resumed = run(4, 99, [nt.ModelCheckpoint(ck), spy], ck, False)  # other initial weights
    for a, b in zip(_params(resumed), _params(straight)):
        np.testing.assert_array_equal(a, b)
    assert spy.epochs == [3, 4] and spy.loss == straight_spy.loss[2:]


@pytest.mark.parametrize("family", FAMILIES)
def test_early_stopping_restores_the_best_epoch(family):
    spy = Spy()
    stop = nt.EarlyStopping(monitor="loss", patience=0, min_delta=1e9, mode="min")
    model = FAMILIES[family](6, 0, [spy, stop], None, False)
    assert stop.stopped_epoch == 2 and spy.epochs == [1, 2]
    for a, b in zip(_params(model), spy.weights[0]):  # epoch 1 was the best: its weights are back
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("family", FAMILIES)
def test_learning_rate_schedule(family):
    spy = Spy()
    FAMILIES[family](3, 0, [nt.StepLR(step=1, gamma=0.5), spy], None, False)
    lr0 = spy.lr[0]
    assert spy.lr == [lr0, lr0 / 2, lr0 / 4]


@pytest.mark.parametrize("family", FAMILIES)
def test_progress_bar_shows_running_loss(family):
    out = io.StringIO()
    FAMILIES[family](2, 0, [nt.ProgressBar(file=out, interval=0)], None, False)
    text = out.getvalue()
    assert "2/2" in text and "Q=" in text, text


@pytest.mark.parametrize("family", FAMILIES)
def test_divergence_keeps_the_last_good_checkpoint(family, tmp_path):
    spy = Spy()
    ck = tmp_path / "ck.npz"
    with pytest.raises(nt.TrainingDiverged) as err:
        FAMILIES[family](8, 0, [spy, nt.ModelCheckpoint(ck, every=2), Poison(at=3)], None, False)
    assert err.value.epoch == 4
    assert nt.io.load_checkpoint(ck).epoch == 2
    for a, b in zip(_params(nt.load(ck)), spy.weights[1]):
        np.testing.assert_array_equal(a, b)


def test_epochs_without_validation_are_skipped_only_when_the_run_validates(tmp_path):
    """fit_stream validates every other round here: early stopping counts validated rounds."""
    model = nt.Sequential(nt.LSTM(4, 5, stateful=True, seed=0), nt.TimeDistributed(nt.Dense(5, 4, seed=0)))
    x, y = STREAM[:-1], STREAM[1:]
    stop = nt.EarlyStopping(monitor="val_loss", patience=0, min_delta=1e9)
    hist = nt.fit_stream(model, nt.SequenceSoftmaxCrossEntropy(), nt.optim.SGD(model.parameters(), lr=0.3),
                         x, y, seq_len=4, steps=30, transform=lambda c: one_hot(c, 4), validation=(x, y),
                         val_every=6, checkpoint=tmp_path / "s.npz", checkpoint_every=3, progress=False,
                         callbacks=[stop])
    # rounds of gcd(6, 3) = 3 steps: validated after rounds 2 and 4, stopped at the second
    assert hist.val_step == [6, 12] and stop.stopped_epoch == 4 and hist.steps_done == 12
    with pytest.raises(ValueError, match="EarlyStopping monitors 'val_recon_error'.*give validation data"):
        RBM(8, 4, seed=0).fit(X_BITS, epochs=2, verbose=False,
                              callbacks=[nt.EarlyStopping(monitor="val_recon_error")])
