"""Dropout with a max-norm constraint on MNIST (Srivastava et al. 2014).

Three hidden layers of 1024 ReLU units; in training each input unit is dropped
with probability 0.2 and each hidden unit with 0.5 (inverted dropout: kept units
scaled by 1/(1 − p), so the test net uses all units unscaled); after every SGD
step each unit's incoming weights are projected onto ``‖w_j‖₂ ≤ c``; momentum
rises linearly from 0.5 to 0.95.
"""
from __future__ import annotations

import neuronet as nt
from neuronet.train.callbacks import Callback

from .common import error_pct, mnist, train
from .registry import Reproduction, register


class MomentumRamp(Callback):
    """``γ(epoch) = γ₀ + (γ₁ − γ₀)·min(1, (epoch − 1)/ramp)`` at the start of each epoch."""

    def __init__(self, start: float = 0.5, end: float = 0.95, ramp: int = 5):
        self.start, self.end, self.ramp = start, end, ramp

    def on_epoch_begin(self, trainer, epoch):
        trainer.optimizer.momentum = self.start + (self.end - self.start) * min(1.0, (epoch - 1) / self.ramp)


#: 120 epochs, ~30 min on one idle core. Chosen on held-out training images (the first 50 000 train,
#: the last 10 000 score, error after the last epoch): η 0.05 ×0.96, 60 epochs 1.54 %; η 0.05 ×0.98,
#: 80 epochs 1.53 %; η 0.02 ×0.97, 60 epochs 1.47 %; η 0.1 ×0.98 lost its way once momentum reached
#: 0.95 (validation error 3 % → 24 % over epochs 10-33). This recipe is the best of those stretched
#: to twice the epochs (0.985¹²⁰ ≈ 0.97⁶⁰). Earlier test-set records: 12 epochs with η ×0.9 2.01 %;
#: η 0.05 ×0.96 for 40 epochs 1.40 %, for 60 epochs 1.40 %.
RECIPE = dict(lr=0.02, lr_decay=0.985, momentum=(0.5, 0.95), momentum_ramp=10, max_norm=3.5, epochs=120)


def run(ctx) -> dict:
    Xtr, ytr, Xte, yte = mnist(ctx)
    r = RECIPE
    model = nt.models.MLP([784, 1024, 1024, 1024, 10], activation="relu", dropout=0.5,
                          input_dropout=0.2, seed=ctx.seed)
    opt = nt.optim.max_norm(nt.optim.SGD(model.parameters(), lr=r["lr"], momentum=r["momentum"][0]),
                            r["max_norm"])
    ctx.config.update({k: v for k, v in r.items() if k != "epochs"})  # the loop records the epochs run
    hist = train(ctx, "mlp", model, opt, Xtr, ytr, epochs=1 if ctx.quick else r["epochs"], batch_size=100,
                 callbacks=[MomentumRamp(*r["momentum"], r["momentum_ramp"]), nt.ExponentialLR(r["lr_decay"])])
    return {"test_error_pct": error_pct(model, Xte, yte),
            "train_loss_last_epoch": hist.records[-1]["loss"],
            "epoch_seconds": [rec["time"] for rec in hist.records]}


register(Reproduction(
    name="dropout-maxnorm",
    title="MNIST, dropout net 784-1024-1024-1024-10 ReLU with max-norm (Srivastava et al. 2014)",
    published={"test_error_pct": 1.06},
    source="Srivastava et al. 2014, Table 2: 'Dropout NN + max-norm constraint, ReLU, 3 layers, "
           "1024 units: 1.06 %'",
    recipe=f"MLP 784-1024×3-10 ReLU (He init), dropout 0.2 input / 0.5 hidden, max-norm c = {RECIPE['max_norm']:g} "
           f"on every unit's incoming weights; SGD η = {RECIPE['lr']:g} ×{RECIPE['lr_decay']:g} per epoch, momentum "
           f"{RECIPE['momentum'][0]:g} → {RECIPE['momentum'][1]:g} over {RECIPE['momentum_ramp']} epochs, batch 100, "
           f"{RECIPE['epochs']} epochs",
    differences=f"SCALED for a CPU core: {RECIPE['epochs']} epochs where the paper trained for hundreds (≈ 10⁶ weight "
                f"updates); the learning-rate schedule chosen on held-out training images, c = {RECIPE['max_norm']:g} not tuned",
    target={"test_error_pct": 1.30}, minutes=30.0, run=run))
