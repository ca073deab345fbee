"""Pictures of RBMs and other image models (MISSION E4): filters, reconstructions,
samples, training curves.

matplotlib is imported inside the plotting functions (optional extra
``neuronet[viz]``); :func:`tile_images` is plain NumPy. Every plotting function
returns the ``Figure``; with ``path`` it is also written there (folders created).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["tile_images", "plot_filters", "plot_reconstructions", "plot_samples", "plot_rbm_history"]


def tile_images(images, image_shape, n_cols: int | None = None, pad: int = 1, normalize: str = "each"):
    """Rows of ``images`` (``(N, H·W)`` or ``(N, H, W)``) as one ``(rows·(H+pad), cols·(W+pad))`` mosaic.

    ``normalize``: ``'each'`` scales every tile to [0, 1] (filters: only the
    pattern matters), ``'global'`` one scale for all, ``None`` leaves values.
    Gaps between tiles are left at the mosaic's background value 0.
    """
    h, w = image_shape
    imgs = np.asarray(images, dtype=np.float64).reshape(-1, h, w)
    if normalize == "each":
        lo = imgs.min(axis=(1, 2), keepdims=True)
        span = imgs.max(axis=(1, 2), keepdims=True) - lo
        imgs = (imgs - lo) / np.where(span > 0, span, 1)
    elif normalize == "global":
        lo, span = imgs.min(), imgs.max() - imgs.min()
        imgs = (imgs - lo) / (span if span > 0 else 1)
    elif normalize is not None:
        raise ValueError(f"normalize must be 'each', 'global' or None, got {normalize!r}")
    n = len(imgs)
    n_cols = n_cols or int(np.ceil(np.sqrt(n)))
    n_rows = int(np.ceil(n / n_cols))
    out = np.zeros((n_rows * (h + pad) - pad, n_cols * (w + pad) - pad))
    for k, im in enumerate(imgs):
        r, c = divmod(k, n_cols)
        out[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = im
    return out


def _plt():
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("pictures need matplotlib: pip install 'neuronet[viz]'") from None
    return plt


def _finish(fig, path):
    fig.tight_layout()
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)
    return fig


def _mosaic_figure(mosaic, title, path, cmap="gray", inches: float = 6.0):
    plt = _plt()
    ratio = mosaic.shape[0] / mosaic.shape[1]
    fig, ax = plt.subplots(figsize=(inches, inches * ratio + (0.4 if title else 0)))
    ax.imshow(mosaic, cmap=cmap, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return _finish(fig, path)


def plot_filters(W, image_shape=(28, 28), n: int = 100, n_cols: int | None = None, path=None,
                 title: str | None = "RBM filters"):
    """The first ``n`` receptive fields: column ``j`` of ``W (n_visible, n_hidden)``
    (or an ``RBM``/``Dense`` with a ``W`` parameter) as an image, each scaled to its own range."""
    if hasattr(W, "W"):
        W = W.W.data
    W = np.asarray(W)
    if W.shape[0] != image_shape[0] * image_shape[1]:
        raise ValueError(f"W must have {image_shape[0] * image_shape[1]} rows for images of shape "
                         f"{tuple(image_shape)}, got W of shape {W.shape}")
    return _mosaic_figure(tile_images(W[:, :n].T, image_shape, n_cols), title, path)


def plot_reconstructions(X, R, image_shape=(28, 28), n: int = 10, path=None,
                         title: str | None = "data (top) and reconstructions (bottom)"):
    """Data rows above their reconstructions: ``n`` columns, two rows."""
    X, R = np.asarray(X)[:n], np.asarray(R)[:n]
    if X.shape != R.shape:
        raise ValueError(f"data and reconstructions must have the same shape, got {X.shape} and {R.shape}")
    return _mosaic_figure(tile_images(np.concatenate([X, R]), image_shape, n_cols=len(X), normalize=None),
                          title, path, inches=1.0 * len(X))


def plot_samples(samples, image_shape=(28, 28), n_cols: int | None = None, path=None,
                 title: str | None = "samples from the model"):
    """Model samples (or their means) as an image grid, values kept in [0, 1]."""
    return _mosaic_figure(tile_images(np.clip(np.asarray(samples), 0, 1), image_shape, n_cols, normalize=None),
                          title, path)


def plot_rbm_history(history, path=None, title: str | None = "RBM training"):
    """Reconstruction error per epoch (training and validation) and the free-energy gap.

    Uses :func:`neuronet.viz.plot_history` with the reconstruction error as the
    loss; ``history`` is the dict returned by ``RBM.fit``.
    """
    from .curves import plot_history

    h = dict(history)
    if not h.get("recon_error"):
        raise ValueError("history has no 'recon_error' values to plot")
    curves = {"epoch": list(h.get("epoch") or range(1, len(h["recon_error"]) + 1)),
              "loss": list(h["recon_error"])}
    if h.get("val_recon_error"):
        curves["val_loss"] = list(h["val_recon_error"])
    if h.get("free_energy_gap"):
        curves["val_free_energy_gap"] = list(h["free_energy_gap"])
    fig = plot_history(curves, path=None, title=title)
    fig.axes[0].set_ylabel("reconstruction error ‖x − x̂‖²")
    return _finish(fig, path)
