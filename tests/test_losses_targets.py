"""Losses own their target handling and their predictions; the loop asks them."""
import numpy as np
import pytest

import neuronet as nt


def test_softmax_targets_become_class_indices_and_are_checked():
    L = nt.SoftmaxCrossEntropy()
    y = L.prepare_targets(np.array([0.0, 2.0, 1.0]), 3)
    assert y.dtype == np.int64 and y.tolist() == [0, 2, 1]
    with pytest.raises(ValueError, match="must be integers.*0.5"):
        L.prepare_targets(np.array([0.5, 1.0]), 2)
    with pytest.raises(ValueError, match="must be >= 0, got -1"):
        L.prepare_targets(np.array([-1, 1]), 2)
    with pytest.raises(ValueError, match="NaN"):
        L.prepare_targets(np.array([[np.nan, 1.0]]), 1)
    with pytest.raises(ValueError, match="same number of samples, got X: 4, y: 2"):
        L.prepare_targets(np.array([1, 0]), 4)


def test_each_loss_reads_its_outputs_as_labels():
    out = np.array([[-0.3], [0.2], [0.7]])
    assert nt.BinaryCrossEntropy(from_logits=True).predict(out).tolist() == [0, 1, 1]
    assert nt.BinaryCrossEntropy().predict(out).tolist() == [0, 0, 1]
    assert nt.MarginLoss().predict(out).tolist() == [-1, 1, 1]
    assert nt.SoftmaxCrossEntropy().predict(np.array([[0.1, 2.0], [3.0, 0.0]])).tolist() == [1, 0]


def test_task_follows_loss_and_targets():
    assert nt.MSE().task(np.array([0, 1, 2])) == "classification"  # one-hot regression on labels
    assert nt.MSE().task(np.array([0.5, 1.5])) == "regression"
    assert nt.MarginLoss().task(np.array([-1.0, 1.0])) == "classification"


class EvenOddLoss(nt.MSE):
    """A user's loss with its own reading of the outputs: the loop must use it."""

    def task(self, target):
        return "classification"

    def predict(self, output):
        return np.zeros(len(output), dtype=np.int64)  # always class 0


def test_fit_uses_the_losses_own_prediction():
    X = np.random.default_rng(0).standard_normal((20, 3)).astype(np.float32)
    y = np.ones((20, 1), dtype=np.float32)
    net = nt.Sequential(nt.Dense(3, 1, seed=0))
    h = nt.fit(net, EvenOddLoss(), nt.optim.SGD(net.parameters(), lr=0.01), X, y, epochs=1,
               batch_size=5, validation=(X, np.zeros(20, dtype=np.int64)), seed=0)
    assert h.last["val_accuracy"] == 1.0  # predicted 0 everywhere, true 0 everywhere


@pytest.mark.parametrize("loss, target", [
    (nt.SoftmaxCrossEntropy(), np.array([[np.nan, 1.0], [0.0, 1.0]])),
    (nt.BinaryCrossEntropy(), np.array([[np.nan], [1.0]])),
    (nt.BinaryCrossEntropy(from_logits=True), np.array([[0.0], [np.nan]])),
])
def test_nan_targets_are_refused_by_the_cross_entropies(loss, target):
    out = np.full(target.shape, 0.5)
    with pytest.raises(ValueError, match=r"targets? (rows )?must be .*\[0, 1\].*nan"):
        loss.forward(out, target)


def test_a_loss_class_instead_of_an_instance_is_named():
    net = nt.Sequential(nt.Dense(2, 2, seed=0))
    X, y = np.zeros((4, 2), np.float32), np.zeros(4, np.int64)
    with pytest.raises(TypeError, match=r"loss must be an instance, got the class SoftmaxCrossEntropy"):
        nt.fit(net, nt.SoftmaxCrossEntropy, nt.optim.SGD(net.parameters(), lr=0.1), X, y, epochs=1)
    with pytest.raises(TypeError, match=r"optimizer must be an instance, got the class SGD"):
        nt.train.SupervisedStep(net, nt.MSE(), nt.optim.SGD)
