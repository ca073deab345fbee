"""dbm-dropout: the dbm-mnist DBM fine-tuned with dropout (the lecture's table, last row:
DBM + dropout fine-tuning, 79 errors; Srivastava et al. 2014, Table 2: 0.79 %).

Dropout 0.5 after every hidden layer of the fine-tuning net and 0.2 on its input
``[v, q(h²)]``; otherwise the recipe of dbm-mnist.
"""
from __future__ import annotations

from .dbm_mnist import FULL, finetune, mnist, scale, train_dbm
from .registry import Reproduction, register


def run(ctx) -> dict:
    s = scale(ctx)
    data = mnist(ctx, s)
    d = train_dbm(ctx, data[0][:s["n_dbm"]], data[1][:s["n_dbm"]], s)
    err, errors, _ = finetune(ctx, d, data, s, dropout=0.5, input_dropout=0.2)
    ctx.log(f"fine-tuned with dropout: {errors} test errors ({err:.2f} %); dbm-mnist's record has the same "
            f"DBM (same seed) fine-tuned without dropout")
    return {"test_error_pct": round(err, 3), "test_errors": errors}


register(Reproduction(
    name="dbm-dropout", title="DBM 784-500-1000 on MNIST, dropout fine-tuning (Srivastava et al. 2014)",
    published={"test_error_pct": 0.79}, source="Srivastava et al. 2014, JMLR, Table 2 (the lecture's table: 79 errors)",
    recipe="the dbm-mnist DBM (same seed); its fine-tuning net on [v, q(h2)] with dropout 0.5 on the hidden "
           f"layers and 0.2 on the input, Adam 1e-3 ×{FULL['lr_decay']:g}/epoch, {FULL['finetune_epochs']} epochs "
           "on 60,000 images (dbm-mnist: the same without dropout)",
    differences="paper: the fully trained DBM and a long dropout run (thousands of epochs, max-norm); "
                f"here ~15 min on one CPU core: {FULL['finetune_epochs']} epochs are few for dropout to pay off",
    target={}, minutes=15, run=run))
