"""Losses (MISSION A4): a value averaged over the batch, its gradient and curvature."""
from .base import LOSSES, Loss
from .cross_entropy import BinaryCrossEntropy, SoftmaxCrossEntropy
from .margin import MarginLoss
from .mse import MSE

__all__ = ["Loss", "MSE", "SoftmaxCrossEntropy", "BinaryCrossEntropy", "MarginLoss", "LOSSES"]
