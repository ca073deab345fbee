"""Weight constraints applied after every optimiser step, whatever the rule.

Max-norm (the lecture's "normalisation of the input weights of each neuron";
Srivastava et al. 2014, §5.1): each unit ``j``'s incoming weight vector ``w_j``
is projected back onto the ball ``‖w_j‖₂ ≤ c`` after every update::

    w_j := w_j · min(1, c / ‖w_j‖₂)

A unit's incoming weights are, by the library's layouts, the column ``W[:, j]``
of a 2-D weight ``(n_in, n_out)`` (Dense, recurrent input and hidden matrices)
and the filter ``W[j]`` of a convolution weight ``(out, in, kh, kw)``: the norm
runs over every axis but the unit's (``axis`` overrides this).
"""
from __future__ import annotations

from ..backend import get_array_module
from ..module import Module, Parameter
from ..validation import check_positive

__all__ = ["MaxNorm", "max_norm", "incoming_axes"]


def incoming_axes(p: Parameter) -> tuple:
    """The axes that index one unit's incoming weights: ``(0,)`` for ``(n_in, n_out)``,
    every axis but the first for a convolution's ``(out, in, kh, kw)``."""
    nd = p.data.ndim
    if nd < 2:
        raise ValueError(f"max-norm constrains weight matrices; parameter {p.name!r} has shape "
                         f"{tuple(p.data.shape)} (a bias or scale vector)")
    return (0,) if nd == 2 else tuple(range(1, nd))


class MaxNorm:
    """``w_j := w_j · min(1, c / ‖w_j‖₂)`` for every unit of ``params``, called as
    ``constraint(optimizer)`` after each step. ``params=None``: every parameter of the
    optimiser with two or more axes (weights, not biases)."""

    def __init__(self, c: float, params=None, axis=None):
        self.c = float(check_positive(c, "c"))
        if isinstance(params, Module):
            params = params.parameters()
        self.params = None if params is None else list(params)
        for i, p in enumerate(self.params or []):
            if not isinstance(p, Parameter):
                raise TypeError(f"params must hold Parameters; item {i} is {type(p).__name__}")
            if axis is None:
                incoming_axes(p)
        self.axis = axis

    def targets(self, optimizer) -> list:
        if self.params is not None:
            return self.params
        return [p for p in optimizer.params if p.data.ndim >= 2]

    def __call__(self, optimizer) -> None:
        for p in self.targets(optimizer):
            xp = get_array_module(p.data)
            axes = incoming_axes(p) if self.axis is None else self.axis
            norm = xp.sqrt((p.data * p.data).sum(axis=axes, keepdims=True))
            if bool((norm > self.c).any()):
                p.data *= (self.c / xp.maximum(norm, self.c)).astype(p.data.dtype)

    def __repr__(self):
        return f"MaxNorm(c={self.c:g})"


def max_norm(optimizer, c: float, params=None, axis=None):
    """Add a :class:`MaxNorm` constraint to ``optimizer`` (any ``nt.optim`` rule); returns it."""
    constraint = MaxNorm(c, params, axis)
    optimizer.constraints.append(constraint)
    return optimizer
