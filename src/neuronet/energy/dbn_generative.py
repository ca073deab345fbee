"""The generative deep belief net of Hinton, Osindero & Teh (2006): a top RBM joined to
softmax label units, classification by free energy, up-down fine-tuning, and
sampling a chosen class.

With ``x^{L−1}`` the up-pass of ``x`` below the top RBM and ``e_y`` the one-hot label,
the top RBM's joint ``P(x^{L−1}, y) ∝ exp(−F([x^{L−1}, e_y]))`` gives::

    P(y | x) = exp(−F([x^{L−1}, e_y])) / Σ_c exp(−F([x^{L−1}, e_c]))

The up-down algorithm (contrastive wake-sleep, their appendix B) unties the
recognition weights ``R_l`` (up, the RBMs' ``W, b``) from the generative weights
``G_l`` (down, started at ``W_lᵀ, a_l``) below the top RBM. Per mini-batch:

* wake: sample states up, ``h_{l+1} ~ σ(h_l R_l + r_l)`` from ``h_0 = x``;
* top: CD-k of the top RBM started at ``[h_{L−1}, e_y]`` (sampled visible states);
* sleep: from the chain's last ``h̃_{L−1}`` sample down, ``h̃_l ~ σ(h̃_{l+1} G_l + g_l)``,
  ``h̃_0`` the probabilities;
* updates (gradients of the delta rule's loss, written into ``p.grad``)::

      ΔG_l ∝ h_{l+1}ᵀ (h_l − σ(h_{l+1} G_l + g_l))      (generative, on wake states)
      ΔR_l ∝ h̃_lᵀ (h̃_{l+1} − σ(h̃_l R_l + r_l))          (recognition, on sleep states)
"""
from __future__ import annotations

import numpy as np

from .. import validation as V
from ..backend import get_array_module
from ..random import make_rng
from .monitors import classify_by_free_energy

__all__ = ["predict_proba", "sample"]


def _need_labels(dbn, what):
    if not dbn.n_labels:
        raise ValueError(f"{what} needs label units: build the DBN with n_labels=K (K classes)")


def predict_proba(dbn, X, batch_size: int = 4096):
    """``P(y | x)`` for every row of ``X``, shape ``(N, n_labels)`` (see the module)."""
    _need_labels(dbn, "predict_proba")
    top, K = dbn.rbms[-1], dbn.n_labels
    feats = dbn._up(dbn._check_X(X), dbn.feature_rbms, batch_size)
    xp = get_array_module(feats)
    out = [xp.exp(classify_by_free_energy(top, feats[i:i + batch_size], K, return_scores=True)[1])
           for i in range(0, len(feats), batch_size)]
    return xp.concatenate(out) if out else xp.zeros((0, K))


def _down(dbn, x):
    """Top-down means from the top RBM's visible layer to the data: ``σ(x G_l + g_l)``."""
    if dbn.generative:
        for r, dense in zip(reversed(dbn.rbms[:-1]), reversed(dbn.generative)):
            x = r.visible.mean(dense.forward(x))
        return x
    for r in reversed(dbn.rbms[:-1]):
        x = r.mean_visible(x)
    return x


def _labels_for(dbn, label, n):
    if label is None:
        return None
    _need_labels(dbn, "sampling with a label")
    y = np.broadcast_to(np.asarray(label), (n,))
    if y.dtype.kind not in "iu" or y.min() < 0 or y.max() >= dbn.n_labels:
        raise ValueError(f"label must be an integer class (or {n} of them) in 0..{dbn.n_labels - 1}, "
                         f"got {label!r}")
    xp = get_array_module(dbn.rbms[-1].W.data)  # the one-hot rows on the model's device
    return xp.asarray(np.eye(dbn.n_labels, dtype=dbn.rbms[-1].dtype)[y])


def sample(dbn, n: int, label=None, steps: int = 1000, rng=None, seed=None):
    """``n`` samples of the data layer: ``steps`` Gibbs steps in the top RBM (its label
    units clamped to ``label`` when given), then one top-down pass of means.
    Returns the data layer's probabilities, ``(n, sizes[0])``."""
    V.check_int(n, "n", minimum=1)
    V.check_int(steps, "steps", minimum=1)
    rng = dbn._rng if rng is None and seed is None else make_rng(rng, seed)
    top = dbn.rbms[-1]
    onehot = _labels_for(dbn, label, n)
    v = top.visible.sample(top.visible.mean(get_array_module(top.a.data).tile(top.a.data, (n, 1))), rng)
    if onehot is not None:
        v[:, -dbn.n_labels:] = onehot
    for _ in range(steps):
        mean = top.mean_visible(top.sample_hidden(v, rng))
        v = top.visible.sample(mean, rng)
        if onehot is not None:
            v[:, -dbn.n_labels:] = onehot
    width = top.n_visible - dbn.n_labels
    if len(dbn.rbms) == 1:  # the top RBM's visible layer is the data
        return mean[:, :width]
    return _down(dbn, v[:, :width])
