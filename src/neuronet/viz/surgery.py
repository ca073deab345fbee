"""Pictures of network surgery: test error against the fraction of weights removed (OBD
beside magnitude pruning, the OBD paper's figure), the pixels OBD feature selection
keeps, and a growing hidden layer's size and loss over time."""
from __future__ import annotations

import numpy as np

from .images import _finish, _plt

__all__ = ["plot_pruning_curves", "plot_kept_pixels", "plot_growth"]

_STYLE = {"obd": ("C0", "OBD"), "magnitude": ("C3", "magnitude")}


def plot_pruning_curves(curves: dict, path=None):
    """One panel per net: ``curves[net] = {"retrain": {method: [{"removed_fraction",
    "test_error"}, ...]}, "no_retrain": {method: [errors]}, "no_retrain_fractions": [...]}``;
    solid lines with retraining, dashed without."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(curves), figsize=(5.2 * len(curves), 3.8), squeeze=False)
    for ax, (net, c) in zip(axes[0], curves.items()):
        for method, (color, label) in _STYLE.items():
            r = c["retrain"][method]
            ax.plot([100 * x["removed_fraction"] for x in r], [x["test_error"] for x in r], "o-",
                    color=color, label=f"{label}, retrained")
            ax.plot([100 * f for f in c["no_retrain_fractions"]], c["no_retrain"][method], "--",
                    color=color, alpha=0.7, label=f"{label}, no retraining")
        ax.set_yscale("log")
        ax.set_xlabel("weights removed (%)")
        ax.set_ylabel("test error (%)")
        ax.set_title(net)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    _finish(fig, path)
    if path is not None:
        plt.close(fig)
    return fig


def plot_kept_pixels(kept, image_shape=(28, 28), mean_image=None, path=None, title=None):
    """The input pixels OBD feature selection kept (white), over the mean digit if given."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(3.6, 3.8))
    img = np.asarray(kept, dtype=float).reshape(image_shape)
    if mean_image is not None:
        ax.imshow(np.asarray(mean_image).reshape(image_shape), cmap="gray", alpha=0.5)
    ax.imshow(np.ma.masked_where(img == 0, img), cmap="autumn", alpha=0.45)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title or f"{int(img.sum())} pixels kept")
    _finish(fig, path)
    if path is not None:
        plt.close(fig)
    return fig


def plot_growth(runs: dict, path=None):
    """Per data set, the hidden layer's width and the training loss per epoch:
    ``runs[name] = [{"epoch", "width", "loss"}, ...]``."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(runs), figsize=(5.2 * len(runs), 3.6), squeeze=False)
    for ax, (name, rows) in zip(axes[0], runs.items()):
        ep = [r["epoch"] for r in rows]
        ax.plot(ep, [r["loss"] for r in rows], "C0-", label="training loss")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss", color="C0")
        ax.set_yscale("log")
        ax2 = ax.twinx()
        ax2.step(ep, [r["width"] for r in rows], "C1-", where="post", label="hidden neurons")
        ax2.set_ylabel("hidden neurons", color="C1")
        ax.set_title(name)
        ax.grid(alpha=0.3)
    _finish(fig, path)
    if path is not None:
        plt.close(fig)
    return fig
