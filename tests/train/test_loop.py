"""The one training loop: a step in, epochs, divergence, checkpoints and exact resume out."""
import numpy as np
import pytest

import neuronet as nt
from neuronet.train.loop import Loop, Step


class NoisyMeanStep(Step):
    """Fits w to the mean of the rows with noise drawn from its own RNG and a state
    array that changes every batch: resume must restore both to be bit-identical."""

    def __init__(self, seed=0, nan_at=None):
        self.model = nt.Dense(3, 1, seed=0)
        self.optimizer = nt.optim.Momentum(self.model.parameters(), lr=0.1, momentum=0.5)
        self.rng = np.random.default_rng(seed)
        self.seen = np.zeros(3)
        self.calls, self.nan_at = 0, nan_at

    def compute(self, batch):
        (x,) = batch
        self.calls += 1
        W = self.model.W
        diff = W.data[:, 0] - x.mean(0) + 0.01 * self.rng.standard_normal(3)
        W.grad[:, 0] += diff
        self.seen += x.sum(0)
        loss = float(0.5 * diff @ diff)
        return {"loss": np.nan if self.calls == self.nan_at else loss, "seen": float(self.seen[0])}

    def state_dict(self):
        return {"rng": self.rng.bit_generator.state, "seen": self.seen.copy(), "calls": self.calls}

    def load_state_dict(self, state):
        if state:
            self.rng.bit_generator.state = state["rng"]
            self.seen, self.calls = np.array(state["seen"]), int(state["calls"])


X = np.random.default_rng(1).standard_normal((40, 3))


def _run(tmp_path, epochs, resume=False, **kw):
    step = NoisyMeanStep()
    ck = tmp_path / "ck.npz"
    loop = Loop(step, epochs=epochs, batch_size=8, seed=3, callbacks=[nt.ModelCheckpoint(ck)],
                resume_from=ck if resume else None, **kw)
    return loop, loop.run(X)


def test_resume_is_bit_identical_with_step_state(tmp_path):
    (tmp_path / "a").mkdir()
    full, h_full = _run(tmp_path / "a", 6)
    (tmp_path / "b").mkdir()
    _run(tmp_path / "b", 3)
    part, h_part = _run(tmp_path / "b", 6, resume=True)
    assert np.array_equal(full.model.W.data, part.model.W.data)
    assert h_full["loss"] == h_part["loss"] and h_full["seen"] == h_part["seen"]
    assert part.step.calls == full.step.calls == 6 * 5


def test_divergence_keeps_last_good_checkpoint_whatever_every(tmp_path):
    step = NoisyMeanStep(nan_at=4 * 5 + 2)  # epoch 5, batch 2
    ck = tmp_path / "ck.npz"
    loop = Loop(step, epochs=8, batch_size=8, seed=3, callbacks=[nt.ModelCheckpoint(ck, every=2)])
    snapshots = []

    class Snap(nt.Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            snapshots.append(trainer.model.W.data.copy())
    loop.callbacks.append(Snap())
    before = {}

    class Before(nt.Callback):
        def on_batch_end(self, trainer, batch, loss):
            before["W"] = trainer.model.W.data.copy()
    loop.callbacks.append(Before())
    with pytest.raises(nt.TrainingDiverged) as err:
        loop.run(X)
    assert (err.value.epoch, err.value.batch) == (5, 2)
    assert np.array_equal(loop.model.W.data, before["W"])  # the diverged step was not applied
    saved = nt.load(ck)
    assert np.array_equal(saved.W.data, snapshots[3])  # epoch 4's weights, not the failed state
    assert nt.io.load_checkpoint(ck).epoch == 4


def test_mean_metrics_and_running_q(tmp_path):
    loop = Loop(NoisyMeanStep(), epochs=2, batch_size=16, seed=0, smoothing=1.0, record_q=True)
    h = loop.run(X)
    assert len(loop.batches) == 3 and len(h.q_trace) == 6
    assert h["q"][-1] == h.q_trace[-1]  # λ = 1: Q is the last batch's loss


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="callbacks must be a list"):
        Loop(NoisyMeanStep(), callbacks=nt.EarlyStopping())
    with pytest.raises(TypeError, match="step must be"):
        Loop(object())
    with pytest.raises(ValueError, match="epochs"):
        Loop(NoisyMeanStep(), epochs=0)
    with pytest.raises(ValueError, match="same number of rows"):
        Loop(NoisyMeanStep()).run(X, X[:3])
