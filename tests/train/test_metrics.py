"""Accuracy, error rate and confusion matrix, checked against scikit-learn."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score
from sklearn.metrics import confusion_matrix as sk_confusion

from neuronet.train import accuracy, confusion_matrix, error_rate


def test_against_sklearn(rng):
    y = rng.integers(0, 5, 300)
    scores = rng.standard_normal((300, 5))
    pred = scores.argmax(1)
    assert accuracy(y, scores) == pytest.approx(accuracy_score(y, pred))
    assert error_rate(y, pred) == pytest.approx(1 - accuracy_score(y, pred))
    np.testing.assert_array_equal(confusion_matrix(y, pred), sk_confusion(y, pred, labels=range(5)))
    np.testing.assert_array_equal(confusion_matrix(np.eye(5)[y], pred, n_classes=6)[:5, :5],
                                  sk_confusion(y, pred, labels=range(5)))


def test_single_column_outputs_and_errors():
    assert accuracy([0, 1, 1], np.array([[0.2], [0.7], [0.4]])) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="same length"):
        accuracy([0, 1], [0])
    with pytest.raises(ValueError, match="at least one"):
        accuracy([], [])
    with pytest.raises(ValueError, match="too small"):
        confusion_matrix([0, 3], [0, 1], n_classes=2)
