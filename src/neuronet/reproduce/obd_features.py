"""obd-features: OBD feature selection on MNIST pixels (the lecture's use of OBD to rank
input features: ``S_j = Σ_h S_jh`` over each pixel's outgoing weights).

An MLP 784-100-10 is trained; then rounds of removing the 10 % least salient of the
remaining pixels and retraining one epoch, until the validation error rises more than
0.5 percentage point above the unpruned net's: then the last removed pixels are put
back. We report the pixels kept and the test error with them, and draw them.
"""
from __future__ import annotations

import numpy as np

from .common import error_pct, train
from .obd_mnist import mnist_subsets
from .registry import Reproduction, register

SCALES = {"full": dict(n=(12000, 3000, 10000), epochs=4, rounds=40),
          "quick": dict(n=(300, 100, 100), epochs=1, rounds=2)}


def run(ctx) -> dict:
    from ..losses import SoftmaxCrossEntropy
    from ..models import MLP
    from ..optim import Adam
    from ..surgery import OBDPruner, first_dense
    from ..viz.surgery import plot_kept_pixels
    scale = SCALES["quick" if ctx.quick else "full"]
    data, val, test = mnist_subsets(*scale["n"], seed=ctx.seed)
    loss = SoftmaxCrossEntropy()
    model = MLP([784, 100, 10], activation="tanh", seed=ctx.seed)
    opt = Adam(model, lr=1e-3)
    train(ctx, "mlp", model, opt, *data, epochs=scale["epochs"], batch_size=64, validation=val)
    before = error_pct(model, *test)
    n_sal = min(len(data[0]), 3000)
    pruner = OBDPruner(loss, data[0][:n_sal], data[1][:n_sal], unit="features", fraction=0.1,
                       monitor="val_accuracy", tolerance=0.005, max_rounds=scale["rounds"])
    train(ctx, "features", model, opt, *data, epochs=scale["rounds"] + 1, batch_size=64,
          validation=val, callbacks=[pruner])
    W = first_dense(model).W
    kept = np.ones(784, bool) if W.mask is None else np.asarray(W.mask).any(axis=1)
    after = error_pct(model, *test)
    plot_kept_pixels(kept, mean_image=data[0].mean(axis=0), path=ctx.picture("obd_features.png"),
                     title=f"OBD keeps {int(kept.sum())} of 784 pixels")
    ctx.log(f"{int(kept.sum())} pixels kept; test error {before:.2f} % with all, "
            f"{after:.2f} % with the kept ones")
    return {"pixels_kept": int(kept.sum()),
            "test_error_pct_all_pixels": round(before, 2),
            "test_error_pct_kept_pixels": round(after, 2),
            "rounds": len(pruner.rounds) - 1, "put_back": pruner.put_back,
            "per_round": [{"round": r["round"], "pixels_removed": r["removed"] // 100,
                           "val_error_pct": round(100 * (1 - r["val_accuracy"]), 2)}
                          for r in pruner.rounds]}


register(Reproduction(
    name="obd-features",
    title="OBD feature selection: the MNIST pixels an MLP 784-100-10 needs",
    published={},
    source="lecture 3 (OBD applied to input features); no published number",
    recipe="MLP 784-100-10 (tanh, Adam 1e-3, 4 epochs); rounds: drop the 10 % least salient "
           "remaining pixels (S_j = Σ_h S_jh), retrain one epoch; stop and put the last pixels "
           "back when the validation error rises > 0.5 pp",
    differences="scaled: 12 000 training, 3 000 validation images, first 10 000 test images",
    target={}, minutes=1, run=run))
