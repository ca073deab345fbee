"""Shared test fixtures."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

_SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder of real data sets: ``$NEURONET_DATA``, else ``../shared/datasets``."""
    env = os.environ.get("NEURONET_DATA")
    path = Path(env) if env else _SHARED
    if not path.is_dir():
        pytest.fail(f"real data sets are needed: set NEURONET_DATA (looked in {path})")
    return path


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


# ------------------------------------------------------------------ helpers (``from conftest import ...``)
def randomise_float64(module, seed: int = 1):
    """``module`` cast to float64 with every parameter (biases, peepholes included) set to
    ``0.5·N(0, 1)`` draws from ``seed``; returns the module."""
    r = np.random.default_rng(seed)
    module.astype(np.float64)
    for p in module.parameters():
        p.data[...] = 0.5 * r.standard_normal(p.shape)
    return module


def shifted_values(f, a, i, h: float):
    """``(f(), f())`` with ``a[i]`` raised by ``h``, then lowered by ``h``; ``a[i]`` is restored
    after. ``f()`` must read ``a``: the two values of a central difference."""
    old = a[i]
    a[i] = old + h
    fp = f()
    a[i] = old - h
    fm = f()
    a[i] = old
    return fp, fm


def hessian_diagonal(f, arrays):
    """``diag ∂²f/∂z²`` by ``torch.autograd.functional.hessian`` over the concatenation of
    the NumPy ``arrays`` (``f`` takes one torch tensor per array), split back into their
    shapes."""
    import torch
    flat = torch.cat([torch.tensor(a).reshape(-1) for a in arrays])
    sizes = [int(np.prod(a.shape)) for a in arrays]
    cuts = np.cumsum([0] + sizes)

    def g(z):
        return f(*(z[a:b].reshape(arr.shape) for a, b, arr in zip(cuts[:-1], cuts[1:], arrays)))
    d = torch.diagonal(torch.autograd.functional.hessian(g, flat)).numpy()
    return [d[a:b].reshape(arr.shape) for a, b, arr in zip(cuts[:-1], cuts[1:], arrays)]


def second_diff(f, a, h=1e-3):
    """``∂²f/∂a_i²`` by central second differences (exact for f quadratic in a)."""
    g = np.zeros_like(a)
    f0 = f()
    it = np.nditer(a, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        fp, fm = shifted_values(f, a, i, h)
        g[i] = (fp - 2 * f0 + fm) / h ** 2
    return g


def pretrained_vs_random(pretrained, Xtr, ytr, Xte, yte, widths, epochs: int = 3):
    """Test accuracies ``{"pretrained", "random"}`` of the net ``pretrained`` (a Sequential
    with its output layer) and of the same sigmoid architecture (``widths``, input first)
    from Glorot initialisation, both fine-tuned alike: SGD momentum 0.9, lr 0.05,
    batch 20, ``epochs`` epochs."""
    import neuronet as nt

    layers = []
    for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
        layers += [nt.Dense(n_in, n_out, seed=1 + i)] + ([nt.Sigmoid()] if i < len(widths) - 2 else [])
    accuracies = {}
    for name, net in (("pretrained", pretrained), ("random", nt.Sequential(*layers))):
        nt.fit(net, nt.SoftmaxCrossEntropy(), nt.optim.Momentum(net.parameters(), lr=0.05, momentum=0.9),
               Xtr, ytr, epochs=epochs, batch_size=20, seed=0)
        accuracies[name] = float((net(Xte).argmax(1) == yte).mean())
    return accuracies
