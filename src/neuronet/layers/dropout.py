"""Dropout (MISSION B4): random switching-off of neurons during training."""
from __future__ import annotations

from ..backend import get_array_module
from ..module import Module
from ..random import generator_for, make_rng, rng_state, set_rng_state
from ..validation import check_probability
from .activations import _as_float

__all__ = ["Dropout"]


class Dropout(Module):
    """Each input is switched off with probability ``p``: ``ξ ~ Bernoulli(1 − p)``.

    * ``inverted=True`` (default): training ``y = x ⊙ ξ / (1 − p)``, evaluation
      ``y = x`` (no knowledge of ``p`` needed at test time);
    * ``inverted=False`` (the lecture's original): training ``y = x ⊙ ξ``,
      evaluation ``y = (1 − p)·x``.

    Backward multiplies by the same mask (``ξ/(1−p)`` or ``ξ``), curvature by its
    square. ``rng``/``seed`` fix the masks; ``rng_state()``/``set_rng_state()``
    resume them exactly.
    """

    def __init__(self, p: float = 0.5, inverted: bool = True, rng=None, seed=None):
        self.p = check_probability(p, "p")
        self.inverted = bool(inverted)
        self.rng = make_rng(rng, seed)
        self._scale = None

    def forward(self, x):
        x = _as_float(x, "Dropout input")
        if not self.training or self.p == 0:
            # Evaluation: identity, or the lecture's (1 − p)·x for classic dropout.
            self._scale = 1.0 if (self.inverted or self.training) else 1.0 - self.p
            return x if self._scale == 1.0 else x * x.dtype.type(self._scale)
        xp = get_array_module(x)
        keep = generator_for(self.rng, xp).random(x.shape, dtype=x.dtype) >= self.p  # on x's device
        scale = 1.0 / (1.0 - self.p) if self.inverted else 1.0
        self._scale = xp.asarray(keep * x.dtype.type(scale))
        return x * self._scale

    def _factor(self, d, what):
        if self._scale is None:
            raise RuntimeError(f"Dropout.{what} called before forward()")
        if hasattr(self._scale, "shape") and d.shape != self._scale.shape:
            raise ValueError(f"Dropout.{what} input must have shape {tuple(self._scale.shape)}, "
                             f"got {tuple(d.shape)}")
        return self._scale

    def backward(self, dy):
        s = self._factor(dy, "backward")
        return dy if isinstance(s, float) and s == 1.0 else dy * s

    def backward_curvature(self, d2y):
        s = self._factor(d2y, "backward_curvature")
        return d2y if isinstance(s, float) and s == 1.0 else d2y * (s * s)

    def rng_state(self) -> dict:
        return rng_state(self.rng)

    def set_rng_state(self, state: dict) -> None:
        set_rng_state(self.rng, state)
