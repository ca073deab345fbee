"""Jogging the weights (the lecture's heuristic for a stalled descent): a small random
shake that may carry the weights out of a flat region or a shallow local minimum,

    ``w := w + ε · σ_p · ξ``,   ``ξ ~ N(0, 1)`` per weight,

with ``σ_p`` the spread (standard deviation) of the live entries of each parameter
array, so every layer is shaken in proportion to its own weights. The shake is kept
only if the validation loss does not get worse; otherwise the weights are put back.
"""
from __future__ import annotations

from ..backend import get_array_module
from ..random import make_rng
from ..train.callbacks import Callback
from ..validation import check_positive
from .stall import StallDetector

__all__ = ["jog", "Jog"]


def jog(model, scale: float, rng, biases: bool = False) -> list:
    """Shake every parameter (biases only with ``biases``) by ``scale·σ_p·N(0, 1)``, pruned
    entries untouched; returns copies of the old data, to undo."""
    scale = check_positive(scale, "scale")
    old = [p.data.copy() for p in model.parameters()]
    for p in model.parameters():
        if p.name == "b" and not biases:
            continue
        xp = get_array_module(p.data)
        live = p.data if p.mask is None else p.data[p.mask]
        sigma = float(live.std()) if live.size > 1 else 0.0
        noise = xp.asarray(rng.standard_normal(p.shape), dtype=p.data.dtype)
        p.data += scale * sigma * noise
        if p.mask is not None:
            p.data *= p.mask
    return old


class Jog(Callback):
    """When the training loss stalls (fell by less than ``threshold`` over ``window``
    epochs), :func:`jog` the weights by ``scale`` and keep the shake only if the
    validation loss (the loop's ``validation`` through its step's ``evaluate``) is no
    worse. ``jogs`` records epoch, validation loss before and after, and whether kept.
    """

    def __init__(self, scale: float = 0.05, window: int = 3, threshold: float = 0.01,
                 seed: int = 0, biases: bool = False):
        self.scale = float(check_positive(scale, "scale"))
        self.stall = StallDetector(window, threshold)
        self.rng = make_rng(None, seed)
        self.biases = bool(biases)
        self.jogs: list[dict] = []

    def on_epoch_end(self, trainer, epoch, logs):
        if not self.stall.update(logs["loss"]):
            return
        validation = getattr(trainer, "validation", None)
        if validation is None:
            raise ValueError("Jog keeps a shake only if the validation loss does not worsen: "
                             "train with validation=(X_val, y_val)")
        model = trainer.model
        before = float(trainer.step.evaluate(validation)["loss"])
        old = jog(model, self.scale, self.rng, self.biases)
        after = float(trainer.step.evaluate(validation)["loss"])
        kept = after <= before
        if not kept:
            for p, w in zip(model.parameters(), old):
                p.data[...] = w
        self.jogs.append({"epoch": epoch, "val_loss_before": before, "val_loss_after": after,
                          "kept": kept})

    def state_dict(self) -> dict:
        return {"jogs": self.jogs, "losses": self.stall.losses,
                "rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        self.jogs = [dict(j) for j in state.get("jogs", [])]
        self.stall.losses = list(state.get("losses", []))
        if "rng" in state:
            self.rng.bit_generator.state = state["rng"]
