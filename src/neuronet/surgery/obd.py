"""Optimal Brain Damage (LeCun, Denker & Solla 1990): saliencies, pruning, put-back,
and OBD feature selection.

Near a minimum of ``Q`` the gradient vanishes and, keeping only the diagonal of the
Hessian, deleting weight ``w_k`` (setting it to zero) raises the loss by

    ``δQ ≈ S_k = ½ · h_kk · w_k²``,   ``h_kk = ∂²Q/∂w_k²`` (averaged over the data)

— the weight's *saliency*. OBD removes the least salient weights, retrains, repeats.
Removing is masking (``Parameter.mask``): the weight becomes exactly zero, every
optimiser keeps it so, and ``num_parameters()`` stops counting it. The saliency of
an input feature ``j`` is the sum over its outgoing weights in the first dense layer,
``S_j = Σ_h S_jh``; removing a feature masks that whole row.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..backend import asnumpy, get_array_module
from ..layers.dense import Dense
from ..validation import check_int
from .curvature import data_curvature

__all__ = ["saliency", "magnitude_saliency", "prune", "Removal", "feature_saliency",
           "prune_features", "first_dense"]


def _excluded(p, biases: bool):
    """Boolean array: entries not eligible for pruning (pruned already, or a bias)."""
    if not biases and p.name == "b":
        return np.ones(p.shape, dtype=bool)
    return np.zeros(p.shape, dtype=bool) if p.mask is None else ~asnumpy(p.mask)


def _with_exclusions(model, scores, biases):
    out = []
    for p, s in zip(model.parameters(), scores):
        s = np.array(asnumpy(s), dtype=np.float64)
        s[_excluded(p, biases)] = np.nan
        out.append(s)
    return out


def saliency(model, loss, X, y, batch_size: int | None = 1000, biases: bool = True) -> list:
    """OBD saliencies ``S_k = ½ · w_k² · h_kk`` of every parameter, ``h_kk`` the diagonal
    ``∂²Q/∂w_k²`` averaged over ``(X, y)`` by the curvature pass.

    Returns NumPy float64 arrays aligned with ``model.parameters()``; entries that are
    already pruned (and every bias when ``biases=False``) are NaN: not candidates.
    """
    curv = data_curvature(model, loss, X, y, batch_size)
    return _with_exclusions(
        model, [0.5 * asnumpy(p.data).astype(np.float64) ** 2 * asnumpy(c)
                for p, c in zip(model.parameters(), curv)], biases)


def magnitude_saliency(model, biases: bool = True) -> list:
    """The baseline's score ``|w_k|`` (the smallest weights go first), NaN where excluded."""
    return _with_exclusions(model, [np.abs(asnumpy(p.data)) for p in model.parameters()], biases)


@dataclass
class Removal:
    """What one pruning step removed: per parameter the flat indices and the values
    they had, so :meth:`restore` can put them back exactly."""
    entries: list = field(default_factory=list)   # (Parameter, flat indices, old values, had_mask)

    def __len__(self):
        return int(sum(len(idx) for _, idx, _, _ in self.entries))

    def restore(self) -> None:
        """Put the removed weights back with their old values (OBD's put-back rule)."""
        for p, idx, old, had_mask in self.entries:
            xp = get_array_module(p.data)
            mask = p.mask.reshape(-1)
            mask[xp.asarray(idx)] = True
            p.data.reshape(-1)[xp.asarray(idx)] = xp.asarray(old, dtype=p.data.dtype)
            if not had_mask and bool(p.mask.all()):
                p.set_mask(None)


def _remove(params, flat_indices) -> Removal:
    """Mask ``flat_indices[i]`` of ``params[i]``; the shared mechanism of every pruner."""
    removal = Removal()
    for p, idx in zip(params, flat_indices):
        if len(idx) == 0:
            continue
        xp = get_array_module(p.data)
        had_mask = p.mask is not None
        mask = xp.ones(p.shape, dtype=bool) if p.mask is None else p.mask.copy()
        old = asnumpy(p.data.reshape(-1)[xp.asarray(idx)]).copy()
        mask.reshape(-1)[xp.asarray(idx)] = False
        p.set_mask(mask)
        removal.entries.append((p, np.asarray(idx), old, had_mask))
    return removal


def prune(model, n: int, scores) -> Removal:
    """Mask the ``n`` live weights of lowest score (a :func:`saliency` or
    :func:`magnitude_saliency` list; NaN entries are never chosen), ranked over the
    whole model. Returns the :class:`Removal` (``.restore()`` puts them back)."""
    params = model.parameters()
    n = check_int(n, "n", minimum=0)
    if len(scores) != len(params):
        raise ValueError(f"scores must hold one array per parameter ({len(params)}), "
                         f"got {len(scores)}")
    flat = []
    for p, s in zip(params, scores):
        s = np.asarray(asnumpy(s), dtype=np.float64)
        if s.shape != tuple(p.shape):
            raise ValueError(f"scores for parameter {p.name!r} must have shape {tuple(p.shape)}, "
                             f"got {s.shape}")
        s = s.reshape(-1).copy()
        s[_excluded(p, True).reshape(-1)] = np.nan
        flat.append(s)
    allv = np.concatenate(flat)
    live = ~np.isnan(allv)
    if n > int(live.sum()):
        raise ValueError(f"n={n} weights to prune, but the model has only {int(live.sum())} "
                         f"live weights that can be pruned")
    key = np.where(live, allv, np.inf)
    chosen = np.sort(np.argpartition(key, n - 1)[:n]) if n else np.zeros(0, dtype=np.int64)
    bounds = np.cumsum([0] + [len(s) for s in flat])
    per = [chosen[(chosen >= a) & (chosen < b)] - a for a, b in zip(bounds[:-1], bounds[1:])]
    return _remove(params, per)


def first_dense(model) -> Dense:
    """The first :class:`~neuronet.layers.Dense` layer of ``model``: where inputs enter."""
    for m in model.modules():
        if isinstance(m, Dense):
            return m
    raise TypeError(f"feature selection needs a Dense layer on the input; "
                    f"{type(model).__name__} has none")


def _w_index(model, layer):
    return next(i for i, p in enumerate(model.parameters()) if p is layer.W)


def feature_saliency(model, loss=None, X=None, y=None, scores=None, batch_size=1000):
    """OBD saliency of each input feature ``j``: ``S_j = Σ_h S_jh`` over the live
    outgoing weights of the first Dense layer (``(n_in,)``; NaN for a removed feature).
    Give ``scores`` (a :func:`saliency` list) or ``loss, X, y`` to compute them."""
    layer = first_dense(model)
    if scores is None:
        if loss is None or X is None or y is None:
            raise ValueError("feature_saliency needs scores= or all of loss, X and y")
        scores = saliency(model, loss, X, y, batch_size)
    s = np.asarray(scores[_w_index(model, layer)], dtype=np.float64)
    alive = ~np.isnan(s)
    return np.where(alive.any(axis=1), np.nansum(s, axis=1), np.nan)


def prune_features(model, features) -> Removal:
    """Remove input features (indices into the first Dense layer's inputs): mask their
    whole rows of ``W``. Returns the :class:`Removal`."""
    layer = first_dense(model)
    feats = np.unique(np.asarray(features, dtype=np.int64).reshape(-1))
    if feats.size and (feats.min() < 0 or feats.max() >= layer.n_in):
        raise ValueError(f"features must be indices in [0, {layer.n_in}), got values from "
                         f"{feats.min()} to {feats.max()}")
    cols = np.arange(layer.n_out)
    flat = (feats[:, None] * layer.n_out + cols[None, :]).reshape(-1)
    if layer.W.mask is not None:
        flat = flat[asnumpy(layer.W.mask).reshape(-1)[flat]]
    return _remove([layer.W], [flat])
