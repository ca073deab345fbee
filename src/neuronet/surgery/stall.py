"""When has training stalled? ``Q`` fell by less than a fraction over a window of epochs:
the trigger of growth (add a neuron) and of jogging (shake the weights)."""
from __future__ import annotations

from ..validation import check_int, check_positive

__all__ = ["StallDetector"]


class StallDetector:
    """``update(loss)`` after each epoch returns True when, over the last ``window``
    epochs, the loss fell by less than ``threshold·|loss window epochs ago|``; it then
    starts a fresh window (the net has been changed)."""

    def __init__(self, window: int = 3, threshold: float = 0.01):
        self.window = check_int(window, "window", minimum=1)
        self.threshold = float(check_positive(threshold, "threshold", allow_zero=True))
        self.losses: list = []

    def update(self, loss: float) -> bool:
        self.losses.append(float(loss))
        if len(self.losses) <= self.window:
            return False
        old, new = self.losses[-self.window - 1], self.losses[-1]
        if old - new > self.threshold * abs(old):
            return False
        self.losses = []
        return True
