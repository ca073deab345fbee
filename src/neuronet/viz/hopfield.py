"""Hopfield pictures: recall side by side, energy per sweep, the capacity curve (issue 6).

matplotlib is imported inside each function (an optional extra). Every function
returns the ``Figure``; ``path`` saves it too.
"""
from __future__ import annotations

import numpy as np

__all__ = ["plot_hopfield_recall", "plot_hopfield_energy", "plot_hopfield_capacity"]


def _finish(fig, path):
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def plot_hopfield_recall(rows, shape, labels=None, path=None, cell: float = 1.2):
    """A grid of ±1 (or {0,1}) patterns: one row per entry of ``rows`` (e.g.
    stored patterns, noisy probes, recalls), columns the patterns, each reshaped to ``shape``."""
    import matplotlib.pyplot as plt

    rows = [np.atleast_2d(np.asarray(r)) for r in rows]
    n_cols = max(len(r) for r in rows)
    fig, axes = plt.subplots(len(rows), n_cols, figsize=(cell * n_cols, cell * len(rows)), squeeze=False)
    for i, r in enumerate(rows):
        for j in range(n_cols):
            ax = axes[i, j]
            ax.set_xticks([])
            ax.set_yticks([])
            if j < len(r):
                ax.imshow(r[j].reshape(shape), cmap="gray_r", vmin=min(r.min(), 0), vmax=1,
                          interpolation="nearest")
            else:
                ax.axis("off")
        if labels is not None:
            axes[i, 0].set_ylabel(labels[i], fontsize=8)
    return _finish(fig, path)


def plot_hopfield_energy(energies, labels=None, path=None, ax=None):
    """Energy ``E = −½ sᵀWs + θᵀs`` after each sweep (``RecallResult.energies``: (sweeps+1, B))."""
    import matplotlib.pyplot as plt

    E = np.asarray(energies)
    E = E[:, None] if E.ndim == 1 else E
    fig = ax.figure if ax is not None else plt.figure(figsize=(4.5, 3.2))
    ax = ax or fig.add_subplot(111)
    for b in range(E.shape[1]):
        ax.plot(np.arange(E.shape[0]), E[:, b], marker="o", ms=3,
                label=None if labels is None else labels[b])
    ax.set_xlabel("sweep (0 = probe)")
    ax.set_ylabel("energy E")
    ax.set_title("asynchronous recall: energy never rises")
    if labels is not None:
        ax.legend(fontsize=7)
    return _finish(fig, path)


def plot_hopfield_capacity(result, path=None, lecture: float = 0.15, theory: float = 0.138):
    """The capacity curve from :func:`hopfield_capacity`: one-step bit-error rate beside
    ``Φ(−1/√α)`` (left), fraction of noisy probes recalled exactly / retrieved (m ≥ 0.9)
    (right), with the lecture's 0.15 and the theory's 0.138 marked."""
    import matplotlib.pyplot as plt

    a = np.asarray(result.loads)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    grid = np.linspace(a.min(), a.max(), 200)
    from ..energy.capacity import theoretical_bit_error

    ax1.plot(grid, theoretical_bit_error(grid), "k-", lw=1, label="theory Φ(−1/√α)")
    ax1.errorbar(a, result.bit_error, yerr=2 * np.nan_to_num(result.bit_error_se), fmt="o", ms=4,
                 label="measured (±2 s.e.)")
    ax1.set_xlabel("load α = P/N")
    ax1.set_ylabel("bits flipped in one step")
    ax1.legend(fontsize=8)
    ax2.plot(a, result.recall_exact, "o-", ms=4, label="recalled exactly")
    ax2.plot(a, result.recall_overlap, "s-", ms=4, label="retrieved (overlap ≥ 0.9)")
    ax2.plot(a, result.overlap, "^--", ms=4, label="mean final overlap m")
    for x, style, name in ((lecture, ":", f"lecture {lecture}·N"), (theory, "--", f"theory {theory}·N")):
        ax2.axvline(x, color="gray", ls=style, lw=1, label=name)
    ax2.set_xlabel("load α = P/N")
    ax2.set_ylabel("fraction of noisy probes / overlap")
    ax2.set_ylim(-0.02, 1.02)
    ax2.legend(fontsize=7)
    return _finish(fig, path)
