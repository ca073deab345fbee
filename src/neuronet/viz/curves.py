"""Training curves: loss and validation metrics per epoch (MISSION E4, F3)."""
from __future__ import annotations

from pathlib import Path

__all__ = ["plot_history"]


def plot_history(history, path=None, title: str | None = None):
    """Plot ``loss`` (and ``val_loss``) and every ``val_<metric>`` per epoch.

    ``history`` is a :class:`~neuronet.train.History` or a dict of lists. With
    ``path`` the figure is written there (PNG by the suffix) and closed; the
    figure is returned otherwise.  Needs matplotlib (``neuronet[viz]``).
    """
    try:
        import matplotlib
        if path is not None:
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("plot_history needs matplotlib: pip install 'neuronet[viz]'") from None
    h = history.to_dict() if hasattr(history, "to_dict") else dict(history)
    if not h.get("loss"):
        raise ValueError("history has no 'loss' values to plot")
    epochs = h.get("epoch") or list(range(1, len(h["loss"]) + 1))
    metrics = [k for k in h if k.startswith("val_") and k != "val_loss"]
    fig, axes = plt.subplots(1, 1 + bool(metrics), figsize=(5 + 4 * bool(metrics), 3.6), squeeze=False)
    ax = axes[0, 0]
    ax.plot(epochs, h["loss"], "o-", label="training loss")
    if h.get("val_loss"):
        ax.plot(epochs, h["val_loss"], "s-", label="validation loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend()
    ax.grid(alpha=0.3)
    if metrics:
        ax = axes[0, 1]
        for k in metrics:
            ax.plot(epochs, h[k], "o-", label=k.replace("val_", "validation "))
        ax.set_xlabel("epoch")
        ax.legend()
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if path is None:
        return fig
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
