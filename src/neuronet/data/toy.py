"""Small data sets for the lecture's first examples and for fast tests.

* the logic tables AND, OR, NOT, XOR over ``{0, 1}``;
* the "flower" planar set: two classes of 2-D points on the petals of a rose
  curve ``r = a·sin(k·t)``, not linearly separable;
* scikit-learn's 8×8 handwritten digits (optional extra ``neuronet[sklearn]``),
  a small real data set that works offline.
"""
from __future__ import annotations

import numpy as np

from ..random import make_rng
from ..validation import check_int, check_positive

__all__ = ["logic_table", "LOGIC_FUNCTIONS", "make_flower", "load_digits"]

LOGIC_FUNCTIONS = {
    "and": lambda a, b: a & b,
    "or": lambda a, b: a | b,
    "xor": lambda a, b: a ^ b,
    "not": None,
}


def logic_table(name: str):
    """Truth table of a logic function: ``(X float (n, d), y int (n,))``.

    ``and``, ``or``, ``xor`` take two inputs ``x1, x2`` (4 rows); ``not`` takes one
    (2 rows).  Rows are in the order 00, 01, 10, 11.
    """
    key = str(name).lower()
    if key not in LOGIC_FUNCTIONS:
        raise ValueError(f"logic function must be one of {sorted(LOGIC_FUNCTIONS)}, got {name!r}")
    if key == "not":
        x = np.array([[0], [1]])
        return x.astype(np.float64), 1 - x[:, 0]
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    return x.astype(np.float64), LOGIC_FUNCTIONS[key](x[:, 0], x[:, 1])


def make_flower(n: int = 400, noise: float = 0.2, petals: int = 4, radius: float = 4.0,
                rng=None, seed=None, dtype=np.float64):
    """The "flower" planar set: ``(X (n, 2), y int (n,))``, two classes of ``n/2`` points.

    Class ``j`` takes angles ``t ∈ [3.12·j, 3.12·(j+1)]`` (plus noise) and radius
    ``r = radius·sin(petals·t)`` (plus noise); the point is ``(r sin t, r cos t)``.
    The petals of the two classes interleave, so no line separates them.
    """
    n = check_int(n, "n", minimum=2)
    check_positive(noise, "noise", allow_zero=True)
    petals = check_int(petals, "petals", minimum=1)
    rng = make_rng(rng, seed)
    half = n // 2
    X = np.empty((2 * half, 2), dtype=dtype)
    y = np.repeat(np.arange(2), half)
    for j in range(2):
        t = np.linspace(j * 3.12, (j + 1) * 3.12, half) + rng.standard_normal(half) * noise
        r = radius * np.sin(petals * t) + rng.standard_normal(half) * noise
        X[j * half:(j + 1) * half] = np.c_[r * np.sin(t), r * np.cos(t)]
    return X, y


def load_digits(split: str | None = None, test_fraction: float = 0.25, seed: int = 0,
                dtype=np.float32):
    """scikit-learn's 8×8 digits (1797 images, 10 classes), pixels scaled to [0, 1].

    ``split=None`` returns ``(X (1797, 64), y)``; ``'train'``/``'test'`` return a
    fixed stratified split (``test_fraction``, ``seed``).  Needs scikit-learn
    (``pip install neuronet[sklearn]``); it ships the data, so this works offline.
    """
    try:
        from sklearn.datasets import load_digits as _load
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("load_digits needs scikit-learn: pip install 'neuronet[sklearn]'") from None
    d = _load()
    X = (d.data / 16.0).astype(dtype)
    y = d.target.astype(np.int64)
    if split is None:
        return X, y
    if split not in ("train", "test"):
        raise ValueError(f"split must be None, 'train' or 'test', got {split!r}")
    rng = np.random.default_rng(seed)
    test = np.zeros(len(y), dtype=bool)
    for c in np.unique(y):  # stratified: the same share of every class
        idx = rng.permutation(np.flatnonzero(y == c))
        test[idx[:int(round(len(idx) * test_fraction))]] = True
    mask = test if split == "test" else ~test
    return X[mask], y[mask]
