"""MNIST and Fashion-MNIST: the IDX files of the data-set registry as arrays."""
from __future__ import annotations

import numpy as np

from .download import _ensure
from .idx import IDXError, read_idx
from .registry import IDX_DATASETS, _dataset

__all__ = ["load_mnist", "load_fashion_mnist", "load_dataset", "to_float"]


def load_dataset(name: str, split: str = "train", download: bool = True):
    """``(images uint8 (N, 28, 28), labels uint8 (N,))`` of ``split`` ('train' or 'test')."""
    ds = _dataset(name)
    if ds.name not in IDX_DATASETS:
        raise ValueError(f"load_dataset reads the IDX image sets {', '.join(IDX_DATASETS)}, got "
                         f"{name!r} (load_tinyshakespeare() and load_tu('MUTAG') read the others)")
    if split not in ds.files:
        raise ValueError(f"split must be one of {sorted(ds.files)}, got {split!r}")
    fi, fl = ds.files[split]
    paths = _ensure(ds, [fi, fl], download)
    pi, pl = paths[fi.name], paths[fl.name]
    images, labels = read_idx(pi), read_idx(pl)
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise IDXError(f"{pi} / {pl}: expected images (N, 28, 28) and labels (N,), got "
                       f"{images.shape} and {labels.shape}")
    return images, labels


def load_mnist(split: str = "train", download: bool = True):
    """MNIST digits: ``(images uint8 (N, 28, 28), labels uint8 (N,))``, N = 60000 or 10000."""
    return load_dataset("mnist", split, download)


def load_fashion_mnist(split: str = "train", download: bool = True):
    """Fashion-MNIST (Zalando): same shapes and types as :func:`load_mnist`."""
    return load_dataset("fashion-mnist", split, download)


def to_float(images, flatten: bool = False, dtype=np.float32):
    """``x = pixel / 255`` in [0, 1]; ``flatten`` gives ``(N, 784)`` for an MLP."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise TypeError(f"to_float expects uint8 pixels, got {images.dtype}")
    x = images.astype(dtype)
    x *= np.dtype(dtype).type(1.0 / 255.0)
    return x.reshape(len(x), -1) if flatten else x
