"""What several reproductions share: MNIST as the papers used it, the error rate,
supervised training with the run's checkpoints and progress bar."""
from __future__ import annotations

import numpy as np

import neuronet as nt

__all__ = ["mnist", "error_pct", "train"]


def mnist(ctx, n_train: int | None = None, n_test: int | None = None, quick_train: int = 1000,
          quick_test: int = 500):
    """``(X_train, y_train, X_test, y_test)``: pixels / 255 as float32 rows of 784, integer
    labels; the first ``n_train`` / ``n_test`` objects (the first ``quick_*`` under --quick)."""
    if ctx.quick:
        n_train, n_test = quick_train, quick_test
    (xi, yi), (xt, yt) = nt.data.load_mnist("train"), nt.data.load_mnist("test")
    xi, yi, xt, yt = xi[:n_train], yi[:n_train], xt[:n_test], yt[:n_test]
    return (nt.data.to_float(xi, flatten=True), yi.astype(np.int64),
            nt.data.to_float(xt, flatten=True), yt.astype(np.int64))


def error_pct(model, X, y) -> float:
    """Test error in per cent: ``100 · (1 − accuracy)`` of ``argmax model(x)``."""
    res = nt.evaluate(model, nt.SoftmaxCrossEntropy(), X, y)
    return 100.0 * (1.0 - res["accuracy"])


def train(ctx, stage: str, model, optimizer, X, y, epochs: int, batch_size: int, callbacks=(),
          **kwargs):
    """``nt.fit`` with softmax cross-entropy, the run's seed, a checkpoint of ``stage``
    every epoch (resumed under --resume) and the progress bar; returns the History."""
    kw = ctx.loop_kwargs(stage)
    kw["callbacks"] = list(callbacks) + kw["callbacks"]
    ctx.config.setdefault("stages", {})[stage] = {
        "model": repr(model), "optimizer": repr(optimizer), "epochs": epochs,
        "batch_size": batch_size, "n_train": len(X)}
    return nt.fit(model, nt.SoftmaxCrossEntropy(), optimizer, X, y, epochs=epochs,
                  batch_size=batch_size, seed=ctx.seed, **kw, **kwargs)
