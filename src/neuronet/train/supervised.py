"""Supervised learning by backprop: the step of a network with a loss, and ``nt.fit``.

The step of one mini-batch ``B`` (the loop in :mod:`neuronet.train.loop` does the
rest: order, optimiser step, running ``Q``, callbacks, checkpoints)::

    L_B := loss(model(x_B), y_B)                    forward
    ∇   := ∂L_B/∂w                                  backward (BackProp), into Parameter.grad

The data are converted to the model's float dtype once, before training.
"""
from __future__ import annotations

import math

import numpy as np

from ..backend import asnumpy, get_array_module, get_default_dtype
from ..module import Module
from ..validation import as_float_array, check_int, check_nonempty, check_probability
from .history import History, TrainingDiverged  # noqa: F401 (re-exported)
from .loop import Loop, Step
from .metrics import METRICS, predict_classes

__all__ = ["fit", "SupervisedStep", "History", "TrainingDiverged", "predict", "evaluate"]


# ------------------------------------------------------------------ helpers
def _model_dtype(model):
    if not isinstance(model, Module):
        raise TypeError(f"model must be a neuronet Module, got {type(model).__name__}")
    params = model.parameters()
    return params[0].data.dtype if params else get_default_dtype(), \
        get_array_module(params[0].data) if params else np


def _prepare_targets(loss, y, n, name="y"):
    """Targets as the loss reads them (the loss owns its target handling)."""
    if isinstance(loss, type):
        raise TypeError(f"loss must be an instance, got the class {loss.__name__}; "
                        f"call it: {loss.__name__}()")
    if not hasattr(loss, "prepare_targets"):
        raise TypeError(f"loss must be a neuronet Loss (with prepare_targets, task, predict), "
                        f"got {type(loss).__name__}")
    return loss.prepare_targets(y, n, name)


def _prepare_inputs(X, dtype, xp, name="X"):
    if not hasattr(X, "dtype"):
        X = np.asarray(X)
    X = as_float_array(X, dtype, name)
    if X.ndim < 2:
        raise ValueError(f"{name} must be an array of objects (N, features...), got shape {X.shape}")
    check_nonempty(X, name)
    if not bool(get_array_module(X).isfinite(X).all()):
        raise ValueError(f"{name} contains NaN or infinity")
    return xp.ascontiguousarray(xp.asarray(X))


def predict(model: Module, X, batch_size: int = 1024):
    """Model outputs for ``X`` in evaluation mode, computed in chunks."""
    dtype, xp = _model_dtype(model)
    X = _prepare_inputs(X, dtype, xp)
    was_training = model.training
    model.eval()
    try:
        outs = [asnumpy(model.forward(X[i:i + batch_size])).copy() for i in range(0, len(X), batch_size)]
    finally:
        model.train(was_training)
    return np.concatenate(outs, axis=0)


def evaluate(model: Module, loss, X, y, metrics=("accuracy",), batch_size: int = 1024) -> dict:
    """``{"loss": mean loss, <metric>: value}`` on ``(X, y)`` in evaluation mode."""
    dtype, xp = _model_dtype(model)
    X = _prepare_inputs(X, dtype, xp)
    y = _prepare_targets(loss, y, len(X))
    return _evaluate(model, loss, X, y, list(metrics or []), loss.predict if loss.task(y) == "classification" else None,
                     batch_size)


def _evaluate(model, loss, X, y, metrics, predict_labels, batch_size):
    if metrics and predict_labels is None:  # metrics asked for on regression outputs: argmax / [a > ½]
        predict_labels = predict_classes
    if not metrics:
        predict_labels = None
    was_training = model.training
    model.eval()
    total, labels = 0.0, []
    try:
        for i in range(0, len(X), batch_size):
            out = model.forward(X[i:i + batch_size])
            yb = y[i:i + batch_size]
            total += loss.forward(out, yb) * len(yb)
            if predict_labels is not None:
                labels.append(predict_labels(out))
    finally:
        model.train(was_training)
    res = {"loss": total / len(X)}
    if metrics:
        pred = np.concatenate(labels)
        yt = asnumpy(y)
        for m in metrics:
            res[m] = METRICS[m](yt, pred)
    return res


# ------------------------------------------------------------------ the step
class SupervisedStep(Step):
    """A network, a loss and an optimiser: forward, loss, backward (the lecture's BackProp)."""

    def __init__(self, model, loss, optimizer, metrics=(), predict_labels=None,
                 eval_batch_size: int = 1024):
        if not isinstance(model, Module):
            raise TypeError(f"model must be a neuronet Module, got {type(model).__name__}")
        for name, obj in (("loss", loss), ("optimizer", optimizer)):
            if isinstance(obj, type):
                raise TypeError(f"{name} must be an instance, got the class {obj.__name__}; "
                                f"call it: {obj.__name__}(...)")
        if not hasattr(loss, "forward") or not hasattr(loss, "backward"):
            raise TypeError(f"loss must have forward() and backward(), got {type(loss).__name__}")
        if not hasattr(optimizer, "step") or not hasattr(optimizer, "zero_grad"):
            raise TypeError(f"optimizer must have step() and zero_grad(), got {type(optimizer).__name__}")
        self.model, self.loss, self.optimizer = model, loss, optimizer
        self.metrics, self.predict_labels = list(metrics), predict_labels
        self.eval_batch_size = check_int(eval_batch_size, "eval_batch_size", minimum=1)

    def on_train_begin(self, loop):
        self.model.train()

    def compute(self, batch):
        xb, yb = batch
        L = self.loss.forward(self.model.forward(xb), yb)
        if math.isfinite(L):  # a diverged loss stops the loop before any update
            self.model.backward(self.loss.backward())
        return {"loss": L}

    def evaluate(self, data):
        X, y = data
        res = _evaluate(self.model, self.loss, X, y, self.metrics, self.predict_labels,
                        self.eval_batch_size)
        self.model.train()
        return res


def _split(X, y, validation, validation_split, split_seed):
    """Hold out ``validation_split`` of the objects, drawn with their own fixed seed.

    Not the training RNG, so a resumed run holds out the same objects; random, so
    sorted data (classes in blocks) still give a representative validation set.
    """
    check_probability(validation_split, "validation_split")
    if validation is not None and validation_split:
        raise ValueError("give validation=(Xv, yv) or validation_split, not both")
    if not validation_split:
        return X, y, validation
    n_val = int(round(len(X) * validation_split))
    if n_val < 1 or n_val >= len(X):
        raise ValueError(f"validation_split={validation_split} leaves {len(X) - n_val} "
                         f"training and {n_val} validation objects of {len(X)}")
    xp = get_array_module(X)
    perm = np.random.default_rng(split_seed).permutation(len(X))
    val_idx, tr_idx = np.sort(perm[:n_val]), np.sort(perm[n_val:])
    return X[xp.asarray(tr_idx)], y[tr_idx], (X[xp.asarray(val_idx)], y[val_idx])


def _prepare(model, loss, X, y, validation, validation_split, split_seed, metrics):
    dtype, xp = _model_dtype(model)
    X = _prepare_inputs(X, dtype, xp)
    y = _prepare_targets(loss, y, len(X))
    X, y, validation = _split(X, y, validation, validation_split, split_seed)
    if validation is not None:
        if not isinstance(validation, (tuple, list)) or len(validation) != 2:
            raise TypeError("validation must be a pair (X_val, y_val)")
        Xv = _prepare_inputs(validation[0], dtype, xp, "X_val")
        validation = (Xv, _prepare_targets(loss, validation[1], len(Xv), "y_val"))
    task = loss.task(y)
    metrics = (["accuracy"] if task == "classification" else []) if metrics == "auto" \
        else list(metrics or [])
    for m in metrics:
        if m not in METRICS:
            raise ValueError(f"unknown metric {m!r}; known: {sorted(METRICS)}")
    return X, xp.asarray(y), validation, metrics, loss.predict if task == "classification" else None


def fit(model, loss, optimizer, X, y, epochs=10, batch_size=32, validation=None,
        validation_split=0.0, shuffle=True, callbacks=None, seed=None, rng=None,
        resume_from=None, smoothing=0.05, metrics="auto", clip_grad_norm=None,
        progress=False, record_q=False, eval_batch_size=1024, split_seed=0, comm=None) -> History:
    """Train ``model`` on ``(X, y)`` by backprop on the one loop; returns the :class:`History`.

    * ``batch_size=1``: the lecture's stochastic gradient, one object at a time in
      random order; ``smoothing`` is ``λ`` of ``Q := (1 − λ)Q + λ L_i`` (recorded per
      epoch as ``q``, per batch in ``history.q_trace`` with ``record_q=True``).
    * ``epochs`` is the epoch to train up to: with ``resume_from`` (a checkpoint
      from :class:`~neuronet.train.callbacks.ModelCheckpoint` or
      ``Loop.save_checkpoint``) model weights, optimiser state, RNG state,
      epoch counter, history and callback states are restored and training
      continues, bit-identical to an uninterrupted run.
    * ``validation=(Xv, yv)`` or ``validation_split`` (that fraction of the objects,
      drawn at random with ``split_seed``, the same on every run and resume) gives
      ``val_loss`` and ``val_<metric>`` per epoch; ``metrics='auto'`` is accuracy for
      classification losses and integer labels.
    * A NaN or infinite loss raises :class:`TrainingDiverged` naming epoch and batch.
    * ``progress=True`` adds a tqdm :class:`~neuronet.train.callbacks.ProgressBar`.
    * ``comm``: data-parallel over MPI ranks (see :class:`~neuronet.train.loop.Loop`).

    ``history.trainer`` is the :class:`~neuronet.train.loop.Loop` that ran.
    """
    X, y, validation, metrics, predict_labels = _prepare(
        model, loss, X, y, validation, validation_split, split_seed, metrics)
    step = SupervisedStep(model, loss, optimizer, metrics, predict_labels, eval_batch_size)
    loop = Loop(step, epochs=epochs, batch_size=batch_size, shuffle=shuffle, seed=seed, rng=rng,
                callbacks=callbacks, progress=progress, validation=validation,
                resume_from=resume_from, smoothing=smoothing, clip_grad_norm=clip_grad_norm,
                record_q=record_q, comm=comm)
    history = loop.run(X, y)
    history.trainer = loop
    return history
