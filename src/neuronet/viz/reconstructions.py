"""Pictures of deep autoencoders and belief nets (Hinton & Salakhutdinov 2006, Figs. 2
and 3; greedy-layer filters).

* :func:`plot_reconstruction_rows`: test images in the top row, each method's
  reconstructions in a row below (their Fig. 2);
* :func:`plot_codes_2d`: 2-D codes coloured by class, one panel per method (their Fig. 3);
* :func:`plot_layer_filters`: each layer's filters in pixel space, the columns of
  ``W₁W₂…W_l`` (a linear view of what unit ``j`` of layer ``l`` responds to).

matplotlib is imported inside the functions (optional extra ``neuronet[viz]``).
Each returns the ``Figure`` and, with ``path``, writes it there.
"""
from __future__ import annotations

import numpy as np

from .images import _finish, _plt, tile_images

__all__ = ["plot_reconstruction_rows", "plot_codes_2d", "plot_layer_filters"]


def plot_reconstruction_rows(X, reconstructions: dict, image_shape=(28, 28), n: int = 10, path=None,
                             title: str | None = "test images and their reconstructions"):
    """Row 1: the first ``n`` rows of ``X``; then one row per ``name → R`` of
    ``reconstructions`` (same shape as ``X``), labelled with the name. Values are
    clipped to ``[0, 1]`` for display only."""
    X = np.asarray(X)[:n]
    rows = {"data": X}
    for name, R in reconstructions.items():
        R = np.asarray(R)[:n]
        if R.shape != X.shape:
            raise ValueError(f"reconstructions[{name!r}] must have shape {X.shape}, got {R.shape}")
        rows[name] = R
    plt = _plt()
    fig, axes = plt.subplots(len(rows), 1, figsize=(0.8 * len(X) + 1.2, 0.9 * len(rows) + (0.4 if title else 0)))
    for ax, (name, R) in zip(np.atleast_1d(axes), rows.items()):
        ax.imshow(tile_images(np.clip(R, 0, 1), image_shape, n_cols=len(X), normalize=None),
                  cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(name, rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title)
    return _finish(fig, path)


def plot_codes_2d(codes: dict, labels, path=None, title: str | None = "two-dimensional codes",
                  max_points: int = 5000):
    """One scatter panel per ``name → Z`` (``(N, 2)`` codes), points coloured by ``labels``
    (the first ``max_points``)."""
    labels = np.asarray(labels)[:max_points]
    plt = _plt()
    fig, axes = plt.subplots(1, len(codes), figsize=(5 * len(codes), 5), squeeze=False)
    for ax, (name, Z) in zip(axes[0], codes.items()):
        Z = np.asarray(Z)[:max_points]
        if Z.ndim != 2 or Z.shape[1] != 2 or len(Z) != len(labels):
            raise ValueError(f"codes[{name!r}] must have shape ({len(labels)}, 2), got {Z.shape}")
        sc = ax.scatter(Z[:, 0], Z[:, 1], c=labels, cmap="tab10", s=2, vmin=-0.5, vmax=9.5)
        ax.set_title(name)
        ax.set_xticks([])
        ax.set_yticks([])
    handles, names = sc.legend_elements()
    axes[0][-1].legend(handles, names, title="class", loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    if title:
        fig.suptitle(title)
    return _finish(fig, path)


def plot_layer_filters(weights, image_shape=(28, 28), n: int = 36, path=None,
                       title: str | None = "filters of each greedy layer"):
    """``weights``: the layers' ``W`` matrices (or a DBN / a list of RBMs or Dense layers),
    bottom first. Panel ``l`` shows the first ``n`` columns of ``W₁…W_l`` as images."""
    if hasattr(weights, "rbms"):
        weights = weights.rbms
    mats = [np.asarray(w.W.data if hasattr(w, "W") else w, dtype=np.float64) for w in weights]
    if mats[0].shape[0] != image_shape[0] * image_shape[1]:
        raise ValueError(f"the first W must have {image_shape[0] * image_shape[1]} rows for images of "
                         f"shape {tuple(image_shape)}, got {mats[0].shape}")
    plt = _plt()
    fig, axes = plt.subplots(1, len(mats), figsize=(4 * len(mats), 4.4), squeeze=False)
    product = np.eye(mats[0].shape[0])
    for layer, (ax, W) in enumerate(zip(axes[0], mats), start=1):
        product = product @ W[:product.shape[1]]  # a label block of a top RBM is left out
        ax.imshow(tile_images(product[:, :n].T, image_shape), cmap="gray", interpolation="nearest")
        ax.set_title(f"layer {layer} ({W.shape[1]} units)")
        ax.set_axis_off()
    if title:
        fig.suptitle(title)
    return _finish(fig, path)
