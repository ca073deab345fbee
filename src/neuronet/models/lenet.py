"""LeNet-5 (LeCun, Bottou, Bengio, Haffner 1998), MISSION D3.

    input 32×32 (a 28×28 MNIST digit padded by 2)
    C1  6@28×28   5×5 convolution                      156 parameters
    S2  6@14×14   2×2 subsampling (a·avg + b per map)    12
    C3 16@10×10   5×5 convolution, partial table       1,516  (60 kernels = 1,500 weights + 16 biases)
    S4 16@5×5     2×2 subsampling                        32
    C5 120@1×1    5×5 convolution (full)              48,120
    F6 84         dense                               10,164
    output 10     dense (the paper's fixed RBF units are replaced by a trained layer)   850

Without the output layer this is the paper's 60,000 trainable parameters
exactly; with the trained 84→10 output layer LeNet-5 has **60,850**. Every
C and F layer is followed by LeCun's scaled tanh ``1.7159·tanh(2a/3)``.
"""
from __future__ import annotations

import numpy as np

from ..backend import get_array_module
from ..layers.containers import Sequential
from ..layers.conv import Conv2d, ScaledTanh
from ..layers.flatten import Flatten
from ..layers.dense import Dense
from ..layers.pool import AvgPool2d, MaxPool2d, Subsampling
from ..random import make_rng
from ..validation import check_int

__all__ = ["LeNet5", "LENET5_C3_TABLE", "lenet5_c3_table"]


def lenet5_c3_table() -> np.ndarray:
    """LeCun 1998, Table I: which S2 maps (columns) feed each C3 map (rows), ``(16, 6)``.

    Maps 0–5 see 3 contiguous S2 maps, 6–11 four contiguous, 12–14 four
    non-contiguous, 15 all six: 60 connections.
    """
    rows = [[(o + k) % 6 for k in range(3)] for o in range(6)]
    rows += [[(o + k) % 6 for k in range(4)] for o in range(6)]
    rows += [[0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5], list(range(6))]
    table = np.zeros((16, 6), dtype=bool)
    for o, inputs in enumerate(rows):
        table[o, inputs] = True
    return table


LENET5_C3_TABLE = lenet5_c3_table()

_POOLS = ("subsample", "max", "avg")


class LeNet5(Sequential):
    """LeNet-5 as a :class:`~neuronet.Sequential` of the layers above.

    ``table``: ``'lecun'`` (the 1998 partial S2→C3 table, default) or ``'full'``
    (every C3 map sees all six S2 maps). ``pooling``: ``'subsample'``
    (trainable, as in the paper), ``'max'`` or ``'avg'``. ``softmax=True``
    appends a softmax so the net outputs probabilities (train with logits and
    ``nt.SoftmaxCrossEntropy``, the default ``softmax=False``).

    Input: ``(N, 1, 32, 32)``; ``(N, 1, 28, 28)``, ``(N, 28, 28)``, ``(N, 784)`` and
    ``(N, 1024)`` are reshaped, and 28×28 digits are padded by 2 with zeros (the
    background when pixels are scaled to [0, 1]), as LeCun padded MNIST.

    ``augment``: ``None``, or a dict of :class:`~neuronet.data.augment.RandomAffine`
    arguments (``max_shift``, ``max_rotation``, ``max_scale``, ``elastic_alpha``,
    ``elastic_sigma``): a first layer that distorts each (padded) training batch
    and is the identity in eval mode (it has no parameters).

    ``input_grad``: C1 computes ``∂E/∂x`` (and the curvature ``∂²E/∂x²``) for the
    input image only when True (e.g. for input saliency); training needs neither,
    so by default ``backward`` returns ``None`` and skips that col2im.
    """

    def __init__(self, table="lecun", pooling="subsample", softmax=False, n_classes=10,
                 augment=None, input_grad=False, rng=None, seed=None, dtype=None):
        if table not in ("lecun", "full"):
            raise ValueError(f"table must be 'lecun' or 'full', got {table!r}")
        if pooling not in _POOLS:
            raise ValueError(f"pooling must be one of {_POOLS}, got {pooling!r}")
        n_classes = check_int(n_classes, "n_classes", minimum=2)
        gen = make_rng(rng, seed)
        c3_table = LENET5_C3_TABLE if table == "lecun" else None
        layers = [] if augment is None else [_augmenter(augment, gen)]
        layers += [
            Conv2d(1, 6, 5, rng=gen, dtype=dtype, input_grad=input_grad), ScaledTanh(),
            _pool(pooling, 6, dtype),
            Conv2d(6, 16, 5, connections=c3_table, rng=gen, dtype=dtype), ScaledTanh(),
            _pool(pooling, 16, dtype),
            Conv2d(16, 120, 5, rng=gen, dtype=dtype), ScaledTanh(),
            Flatten(),
            Dense(120, 84, rng=gen, dtype=dtype), ScaledTanh(),
            Dense(84, n_classes, rng=gen, dtype=dtype),
        ]
        if softmax:
            from ..layers.competitive import Softmax
            layers.append(Softmax())
        super().__init__(*layers)

    def forward(self, x):
        return super().forward(_as_lenet_input(x))


def _augmenter(augment, gen):
    from ..data.augment import RandomAffine
    if augment is True:
        augment = {}
    if not isinstance(augment, dict):
        raise TypeError(f"augment must be None, True or a dict of RandomAffine arguments, "
                        f"got {type(augment).__name__}")
    return RandomAffine(**augment, rng=np.random.default_rng(gen.integers(2 ** 63)))


def _pool(kind, channels, dtype):
    if kind == "subsample":
        return Subsampling(channels, 2, dtype=dtype)
    return MaxPool2d(2) if kind == "max" else AvgPool2d(2)


def _as_lenet_input(x):
    """Digits as ``(N, 1, 32, 32)``: reshape flat or channel-less input, pad 28×28 by 2."""
    xp = get_array_module(x)
    x = xp.asarray(x)
    if x.ndim == 2 and x.shape[1] in (784, 1024):
        side = int(round(x.shape[1] ** 0.5))
        x = x.reshape(-1, 1, side, side)
    elif x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4 or x.shape[1] != 1 or x.shape[2:] not in ((28, 28), (32, 32)):
        raise ValueError("LeNet5 input must be (N, 1, 32, 32), or 28×28 digits as (N, 1, 28, 28), "
                         f"(N, 28, 28) or (N, 784); got shape {tuple(x.shape)}")
    if x.shape[2] == 28:
        x = xp.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)))
    return x
