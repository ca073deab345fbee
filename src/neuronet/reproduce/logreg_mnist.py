"""Multiclass logistic regression on MNIST, the deeplearning.net tutorial's setting.

``p(y = k | x) = softmax(W x + b)_k``, trained by minibatch SGD on the negative
log-likelihood: 50 000 training images, the other 10 000 of MNIST's training set
for early stopping, the test error of the best validation epoch.
"""
from __future__ import annotations

import neuronet as nt

from .common import error_pct, mnist, train
from .registry import Reproduction, register


def run(ctx) -> dict:
    X, y, Xte, yte = mnist(ctx)
    n_val = len(X) // 6                          # 10 000 of 60 000, as in the tutorial
    Xtr, ytr, Xva, yva = X[:-n_val], y[:-n_val], X[-n_val:], y[-n_val:]
    epochs = 2 if ctx.quick else 100
    model = nt.models.MLP([784, 10], init="glorot", seed=ctx.seed)  # one Dense layer: logistic regression
    opt = nt.optim.SGD(model.parameters(), lr=0.13)
    stop = nt.EarlyStopping(monitor="val_accuracy", patience=10, restore_best=True)
    hist = train(ctx, "logreg", model, opt, Xtr, ytr, epochs=epochs, batch_size=600,
                 callbacks=[stop], validation=(Xva, yva))
    ctx.log(f"best validation epoch {stop.best_epoch} of {len(hist.records)}")
    return {"test_error_pct": error_pct(model, Xte, yte),
            "validation_error_pct": 100.0 * (1.0 - stop.best), "best_epoch": stop.best_epoch,
            "epochs_run": len(hist.records)}


register(Reproduction(
    name="logreg-mnist",
    title="MNIST, multiclass logistic regression (softmax of one linear layer)",
    published={"test_error_pct": 7.489},
    source="deeplearning.net tutorial 'Classifying MNIST digits using Logistic Regression' "
           "(Theano, 2010s): 7.489 % test error",
    recipe="Dense 784→10 + softmax CE; SGD η = 0.13, batch 600; 50k train / 10k validation; "
           "early stopping on validation accuracy (patience 10 epochs, ≤ 100 epochs)",
    differences="the tutorial's patience rule counts minibatches (patience 5000, ×2 on improvement) "
                "and starts from zero weights; ours counts epochs and starts from Glorot weights",
    target={"test_error_pct": 8.0}, minutes=1, run=run))
