"""Gradient clipping (MISSION B2): if ``‖g‖ > θ`` then ``g := g θ/‖g‖``."""
from __future__ import annotations

import math

from ..backend import get_array_module
from ..validation import check_positive
from .optimizer import _param_list

__all__ = ["clip_grad_norm"]


def clip_grad_norm(params, max_norm: float, norm_type: float = 2.0) -> float:
    """Scale all gradients together so their joint norm is at most ``max_norm``.

    ``‖g‖`` is the ``norm_type`` norm (2 by default, or ``inf``) of all
    gradients concatenated; when it exceeds ``θ = max_norm`` every gradient is
    multiplied by ``θ/(‖g‖ + 10⁻⁶)`` in place. Returns the norm before clipping,
    as ``torch.nn.utils.clip_grad_norm_`` does. ``params``: Parameters or a Module.
    Pruned entries (``p.mask == False``) never reach the weights, so they do not
    count in ``‖g‖``.
    """
    params = _param_list(params)
    check_positive(max_norm, "max_norm")
    norm_type = float(norm_type)
    grads = [_applied(p) for p in params]
    if math.isinf(norm_type):
        total = max(float(get_array_module(g).abs(g).max()) if g.size else 0.0 for g in grads)
    else:
        check_positive(norm_type, "norm_type")
        total = sum(float((get_array_module(g).abs(g) ** norm_type).sum())
                    for g in grads) ** (1.0 / norm_type)
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for p in params:
            p.grad *= coef
    return total


def _applied(p):
    """The part of ``p.grad`` an optimiser applies: zero at pruned entries."""
    return p.grad if p.mask is None else p.grad * p.mask
