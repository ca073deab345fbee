"""Keras's MNIST MLP example: 784-512-512-10, ReLU, dropout 0.2, RMSprop.

``h₁ = ReLU(W₁x + b₁)``, dropout; ``h₂ = ReLU(W₂h₁ + b₂)``, dropout; softmax output;
RMSprop ``r := ρr + (1 − ρ)g²``, ``w := w − η g / (√r + ε)`` with Keras's η = 10⁻³, ρ = 0.9.
"""
from __future__ import annotations

import neuronet as nt

from .common import error_pct, mnist, train
from .registry import Reproduction, register


def run(ctx) -> dict:
    Xtr, ytr, Xte, yte = mnist(ctx)
    model = nt.models.MLP([784, 512, 512, 10], activation="relu", dropout=0.2, init="glorot",
                          seed=ctx.seed)
    opt = nt.optim.RMSProp(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    hist = train(ctx, "mlp", model, opt, Xtr, ytr, epochs=2 if ctx.quick else 20, batch_size=128)
    return {"test_error_pct": error_pct(model, Xte, yte),
            "train_loss_last_epoch": hist.records[-1]["loss"]}


register(Reproduction(
    name="mlp-keras",
    title="MNIST, MLP 784-512-512-10 with ReLU and dropout 0.2 (Keras's mnist_mlp.py)",
    published={"test_error_pct": 1.60},
    source="Keras examples/mnist_mlp.py: 'Gets to 98.40% test accuracy after 20 epochs'",
    recipe="MLP 784-512-512-10 ReLU, dropout 0.2 after each hidden layer, Glorot-uniform init, "
           "RMSprop η = 10⁻³ ρ = 0.9, batch 128, 20 epochs, all 60k training images",
    differences="none in the recipe; our weights and dropout masks come from our own seeded RNG",
    target={"test_error_pct": 1.8}, minutes=1.5, run=run))
