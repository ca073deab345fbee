"""The energy-model protocol: what RBM, Boltzmann machine, Hopfield net (and DBN, DBM) share.

An energy model assigns every joint state ``s`` an energy ``E(s)``; a stochastic
one defines the Boltzmann–Gibbs distribution ``P(s) = e^{−E(s)} / Z``. Every
model in :mod:`neuronet.energy` has the same method names and return types:

==================  ========================================================
``energy(...)``     ``E`` of each row of the given states, shape ``(N,)``
``free_energy(v)``  ``F(v) = −log Σ_h e^{−E(v, h)}`` per row ``(N,)``, where
                    the hidden units can be summed out in closed form
``sample(n, steps)``  ``n`` states ``(n, units)`` after ``steps`` steps of the
                    model's own dynamics (Gibbs sampling; for a Hopfield net the
                    deterministic descent to a minimum) from random states
``transform(X)``    the hidden representation of each row ``(N, hidden)``
``reconstruct(X)``  the model's reconstruction of each row ``(N, visible)``
``rng``             the model's own ``numpy.random.Generator``: every sampler
                    draws from it unless given ``rng=``; ``model.rng = seed``
                    (an int) or a Generator replaces it
==================  ========================================================

A method a model cannot give raises ``NotImplementedError`` naming the model
(a Hopfield net has no hidden units, so no free energy or transform).
Training is not part of the protocol's base: each family's ``fit`` is a
:class:`~neuronet.train.loop.Step` on the one loop (RBM: :mod:`.rbm_step`).
"""
from __future__ import annotations

import numpy as np

from ..module import Module
from ..random import make_rng

__all__ = ["EnergyModel"]


class EnergyModel(Module):
    """Base class of the energy models (see the module docstring for the protocol)."""

    @property
    def rng(self) -> np.random.Generator:
        """The model's generator (created unseeded on first use if none was given)."""
        rng = self.__dict__.get("_rng")
        if rng is None:
            rng = self.__dict__["_rng"] = make_rng()
        return rng

    @rng.setter
    def rng(self, value) -> None:
        self.__dict__["_rng"] = make_rng(value)

    def _rng_or(self, rng=None) -> np.random.Generator:
        """``rng`` as a Generator, or the model's own when ``None``."""
        return self.rng if rng is None else make_rng(rng)

    def _missing(self, what: str):
        return NotImplementedError(f"{type(self).__name__} has no {what}")

    def energy(self, *states):
        """``E`` of each row of the given states, shape ``(N,)``."""
        raise self._missing("energy")

    def free_energy(self, v):
        """``F(v) = −log Σ_h e^{−E(v, h)}`` per row, shape ``(N,)``."""
        raise self._missing("free energy (its hidden units cannot be summed out in closed form)")

    def sample(self, n: int, steps: int, init=None, rng=None):
        """``n`` states ``(n, units)`` after ``steps`` steps of the model's dynamics."""
        raise self._missing("sampler")

    def transform(self, X):
        """The hidden representation of each row of ``X``, ``(N, hidden)``."""
        raise self._missing("hidden representation (transform)")

    def reconstruct(self, X):
        """The reconstruction of each row of ``X``, ``(N, visible)``."""
        raise self._missing("reconstruction")
