"""The training loop of the lectures: stochastic gradient over objects or mini-batches.

One epoch visits every training object once, in a fresh random order::

    for each mini-batch B (|B| = batch_size, |B| = 1 is the lecture's SG):
        L_B := loss(model(x_B), y_B)                    forward
        w   := w − η ∇L_B                               backward + optimiser step
        Q   := (1 − λ) Q + λ L_B                        running estimate (λ = smoothing)

``Q`` starts at the first batch's loss. After each epoch the mean training loss,
the validation loss and metrics, the learning rate and the time are recorded in a
:class:`History`.  The data are converted to the model's float dtype once;
every batch is gathered by index into a preallocated buffer (``np.take(out=)``),
so the data pipeline costs one permutation per epoch plus one copy per batch.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..backend import asnumpy, get_array_module, get_default_dtype
from ..io import restore, save
from ..module import Module
from ..random import make_rng
from ..validation import as_float_array, check_int, check_positive, check_probability
from .callbacks import Callback, ProgressBar
from .metrics import METRICS, predict_classes

__all__ = ["fit", "Trainer", "History", "TrainingDiverged", "predict", "evaluate"]


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite; ``epoch`` and ``batch`` say where (1-based)."""

    def __init__(self, epoch: int, batch: int, loss: float, lr=None):
        self.epoch, self.batch, self.loss = epoch, batch, loss
        lr_txt = f" (learning rate {lr:g})" if isinstance(lr, (int, float)) else ""
        super().__init__(f"training diverged: loss is {loss} at epoch {epoch}, batch {batch}"
                         f"{lr_txt}; weights of this step were not applied, the last checkpoint "
                         "is intact. Lower the learning rate or clip the gradients.")


@dataclass
class History:
    """Per-epoch records: ``epoch``, ``loss`` (mean training loss), ``q`` (running Q at
    the end of the epoch), ``val_loss`` and ``val_<metric>``, ``lr``, ``time`` (s).

    ``history["val_accuracy"]`` gives one column as a list; ``q_trace`` holds the
    running ``Q`` after every batch when ``fit(record_q=True)``.
    """
    records: list = field(default_factory=list)
    q_trace: list = field(default_factory=list)

    def __getitem__(self, key):
        if not any(key in r for r in self.records):
            raise KeyError(f"no {key!r} in history; keys: {self.keys()}")
        return [r.get(key) for r in self.records]

    def keys(self):
        out = []
        for r in self.records:
            out += [k for k in r if k not in out]
        return out

    def __len__(self):
        return len(self.records)

    @property
    def last(self) -> dict:
        return self.records[-1] if self.records else {}

    def to_dict(self) -> dict:
        return {k: self[k] for k in self.keys()}


# ------------------------------------------------------------------ helpers
def _model_dtype(model):
    params = model.parameters()
    return params[0].data.dtype if params else get_default_dtype(), \
        get_array_module(params[0].data) if params else np


_CLASSIFICATION_LOSSES = {"SoftmaxCrossEntropy", "BinaryCrossEntropy", "MarginLoss"}


def _task(loss, y) -> str:
    name = type(loss).__name__
    if name in _CLASSIFICATION_LOSSES:
        return "classification"
    if y.dtype.kind in "iub" and y.ndim == 1:  # MSE on class labels (one-hot regression)
        return "classification"
    return "regression"


def _prepare_targets(loss, y, n, name="y"):
    """Targets as an array: integer labels stay integers, everything else float."""
    y = np.asarray(y) if not hasattr(y, "dtype") else y
    if y.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be numeric, got dtype {y.dtype}")
    if y.ndim == 0:
        raise ValueError(f"{name} must hold one target per object, got a scalar")
    if len(y) != n:
        raise ValueError(f"X and {name} must have the same number of samples, "
                         f"got X: {n}, {name}: {len(y)}")
    if y.dtype.kind == "f" and not bool(np.isfinite(asnumpy(y)).all()):
        raise ValueError(f"{name} contains NaN or infinity")
    if type(loss).__name__ == "SoftmaxCrossEntropy" and y.ndim == 1:
        yn = asnumpy(y)
        if yn.dtype.kind == "f":
            if not np.array_equal(yn, np.round(yn)):
                bad = yn[yn != np.round(yn)][:3]
                raise ValueError(f"{name} holds class labels for SoftmaxCrossEntropy; they must be "
                                 f"integers, got non-integer values such as {bad.tolist()}")
            y = y.astype(np.int64)
        if len(yn) and yn.min() < 0:
            raise ValueError(f"class labels in {name} must be >= 0, got {yn.min()}")
    if y.dtype.kind in "ub":
        y = y.astype(np.int64)
    return y


def _prepare_inputs(X, dtype, xp, name="X"):
    if not hasattr(X, "dtype"):
        X = np.asarray(X)
    X = as_float_array(X, dtype, name)
    if X.ndim < 2:
        raise ValueError(f"{name} must be an array of objects (N, features...), got shape {X.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"{name} is empty: no training objects (shape {X.shape})")
    if not bool(get_array_module(X).isfinite(X).all()):
        raise ValueError(f"{name} contains NaN or infinity")
    return xp.ascontiguousarray(xp.asarray(X))


def _predict_fn(loss, task):
    """Outputs -> class labels, matching how the loss reads its outputs."""
    if task != "classification":
        return None
    name = type(loss).__name__
    if name == "MarginLoss":
        return lambda out: np.where(asnumpy(out).reshape(len(out), -1)[:, 0] > 0, 1, -1)
    if name == "BinaryCrossEntropy" and getattr(loss, "from_logits", False):
        return lambda out: predict_classes(out, threshold=0.0)
    return predict_classes


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
    return _evaluate(model, loss, X, y, list(metrics or []), _predict_fn(loss, _task(loss, y)),
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


# ------------------------------------------------------------------ trainer
class Trainer:
    """State of one training run; :func:`fit` builds and runs it.

    Callbacks see the trainer: ``model``, ``optimizer``, ``loss``, ``epoch``
    (completed epochs), ``q`` (running Q), ``history``, ``rng``,
    ``stop_training`` (set True to stop after the epoch), ``save_checkpoint(path)``.
    """

    def __init__(self, model, loss, optimizer, *, batch_size=32, shuffle=True, smoothing=0.05,
                 metrics="auto", rng=None, seed=None, clip_grad_norm=None, record_q=False,
                 eval_batch_size=1024):
        if not isinstance(model, Module):
            raise TypeError(f"model must be a neuronet Module, got {type(model).__name__}")
        if not hasattr(loss, "forward") or not hasattr(loss, "backward"):
            raise TypeError(f"loss must have forward() and backward(), got {type(loss).__name__}")
        if not hasattr(optimizer, "step"):
            raise TypeError(f"optimizer must have step() and zero_grad(), got {type(optimizer).__name__}")
        self.model, self.loss, self.optimizer = model, loss, optimizer
        self.batch_size = check_int(batch_size, "batch_size", minimum=1)
        self.shuffle = bool(shuffle)
        self.smoothing = check_probability(smoothing, "smoothing", closed_right=True)
        if self.smoothing == 0:
            raise ValueError("smoothing λ must be in (0, 1], got 0")
        self.metrics = metrics
        self.rng = make_rng(rng, seed)
        self.clip_grad_norm = None if clip_grad_norm is None else check_positive(clip_grad_norm,
                                                                                 "clip_grad_norm")
        self.record_q = bool(record_q)
        self.eval_batch_size = check_int(eval_batch_size, "eval_batch_size", minimum=1)
        self.history = History()
        self.epoch = 0
        self.q = None
        self.stop_training = False
        self.callbacks = []

    # ---------------------------------------------------------- checkpoints
    def state(self) -> dict:
        """Everything besides model, optimiser and RNG that an exact resume needs."""
        return {"epoch": self.epoch, "q": self.q, "lr": getattr(self.optimizer, "lr", None),
                "history": self.history.records, "q_trace": list(self.history.q_trace),
                "callbacks": [c.state_dict() for c in self.callbacks]}

    def save_checkpoint(self, path, extra: dict | None = None):
        """Atomically write model, optimiser state, RNG state, epoch and history to ``path``."""
        meta = {"trainer": self.state()}
        if extra:
            meta.update(extra)
        return save(path, self.model, self.optimizer, epoch=self.epoch, rng=self.rng, extra=meta)

    def load_checkpoint(self, path):
        """Restore a checkpoint written by :meth:`save_checkpoint` into this trainer."""
        ck = restore(path, self.model, self.optimizer)
        if ck.rng_state is not None:
            ck.restore_rng(self.rng)
        st = (ck.extra or {}).get("trainer", {})
        self.epoch = int(ck.epoch or st.get("epoch", 0))
        self.q = st.get("q")
        if st.get("lr") is not None and hasattr(self.optimizer, "lr"):
            self.optimizer.lr = st["lr"]
        self.history = History(list(st.get("history", [])), list(st.get("q_trace", [])))
        self._callback_states = st.get("callbacks", [])
        return ck

    # ---------------------------------------------------------------- run
    def run(self, X, y, epochs, validation=None, validation_split=0.0, callbacks=None,
            resume_from=None, progress=False, split_seed=0):
        epochs = check_int(epochs, "epochs", minimum=1)
        dtype, xp = _model_dtype(self.model)
        X = _prepare_inputs(X, dtype, xp)
        y = _prepare_targets(self.loss, y, len(X))
        check_probability(validation_split, "validation_split")
        if validation is not None and validation_split:
            raise ValueError("give validation=(Xv, yv) or validation_split, not both")
        if validation_split:
            # a random subset drawn with its own fixed seed: not the training RNG, so a
            # resumed run holds out the same objects; random, so sorted data (classes in
            # blocks) still give a representative validation set
            n_val = int(round(len(X) * validation_split))
            if n_val < 1 or n_val >= len(X):
                raise ValueError(f"validation_split={validation_split} leaves {len(X) - n_val} "
                                 f"training and {n_val} validation objects of {len(X)}")
            perm = np.random.default_rng(split_seed).permutation(len(X))
            val_idx, tr_idx = np.sort(perm[:n_val]), np.sort(perm[n_val:])
            validation = (X[xp.asarray(val_idx)], y[val_idx])
            X, y = X[xp.asarray(tr_idx)], y[tr_idx]
        if validation is not None:
            if not isinstance(validation, (tuple, list)) or len(validation) != 2:
                raise TypeError("validation must be a pair (X_val, y_val)")
            Xv = _prepare_inputs(validation[0], dtype, xp, "X_val")
            validation = (Xv, _prepare_targets(self.loss, validation[1], len(Xv), "y_val"))
        self._n_train = len(X)
        task = _task(self.loss, y)
        metrics = (["accuracy"] if task == "classification" else []) if self.metrics == "auto" \
            else list(self.metrics or [])
        for m in metrics:
            if m not in METRICS:
                raise ValueError(f"unknown metric {m!r}; known: {sorted(METRICS)}")
        self._metrics, self._predict = metrics, _predict_fn(self.loss, task)
        y = xp.asarray(y)

        self.callbacks = list(callbacks or [])
        for c in self.callbacks:
            if not isinstance(c, Callback):
                raise TypeError(f"callbacks must be neuronet.train.Callback objects, got {type(c).__name__}")
        if progress and not any(isinstance(c, ProgressBar) for c in self.callbacks):
            self.callbacks.append(ProgressBar())
        self._callback_states = []
        if resume_from is not None:
            self.load_checkpoint(resume_from)
            for c, s in zip(self.callbacks, self._callback_states):
                c.load_state_dict(s)
        self.stop_training = False
        for c in self.callbacks:
            c.on_train_begin(self)
        try:
            while self.epoch < epochs and not self.stop_training:
                self._run_epoch(X, y, validation, epochs)
        finally:
            for c in self.callbacks:
                c.on_train_end(self)
        return self.history

    def _run_epoch(self, X, y, validation, epochs):
        xp = get_array_module(X)
        model, loss, opt = self.model, self.loss, self.optimizer
        n, bs = len(X), self.batch_size
        n_batches = math.ceil(n / bs)
        epoch = self.epoch + 1
        for c in self.callbacks:
            c.on_epoch_begin(self, epoch)
        # only callbacks that override on_batch_end are called per batch (speed)
        batch_cbs = [c for c in self.callbacks if type(c).on_batch_end is not Callback.on_batch_end]
        # one permutation per epoch; batches are gathered into preallocated buffers
        order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        order = xp.asarray(order)
        xbuf = xp.empty((min(bs, n),) + X.shape[1:], dtype=X.dtype)
        ybuf = xp.empty((min(bs, n),) + y.shape[1:], dtype=y.dtype)
        lam, q, total = self.smoothing, self.q, 0.0
        clip = self.clip_grad_norm
        params = model.parameters() if clip else None
        model.train()
        t0 = time.perf_counter()
        for b in range(n_batches):
            idx = order[b * bs:(b + 1) * bs]
            m = len(idx)
            xb, yb = xbuf[:m], ybuf[:m]
            xp.take(X, idx, axis=0, out=xb)
            xp.take(y, idx, axis=0, out=yb)
            out = model.forward(xb)
            L = loss.forward(out, yb)
            if not math.isfinite(L):
                raise TrainingDiverged(epoch, b + 1, L, getattr(opt, "lr", None))
            opt.zero_grad()
            model.backward(loss.backward())
            if clip:
                from ..optim import clip_grad_norm
                clip_grad_norm(params, clip)
            opt.step()
            q = L if q is None else (1.0 - lam) * q + lam * L
            total += L * m
            if self.record_q:
                self.history.q_trace.append(q)
            if batch_cbs:
                self.q = q
                for c in batch_cbs:
                    c.on_batch_end(self, b + 1, L)
        self.q = q
        rec = {"epoch": epoch, "loss": total / n, "q": q, "lr": getattr(opt, "lr", None),
               "time": time.perf_counter() - t0}
        if validation is not None:
            res = _evaluate(model, loss, validation[0], validation[1], self._metrics,
                            self._predict, self.eval_batch_size)
            rec.update({"val_" + k: v for k, v in res.items()})
        self.epoch = epoch
        self.history.records.append(rec)
        for c in self.callbacks:
            c.on_epoch_end(self, epoch, rec)


def fit(model, loss, optimizer, X, y, epochs=10, batch_size=32, validation=None,
        validation_split=0.0, shuffle=True, callbacks=None, seed=None, rng=None,
        resume_from=None, smoothing=0.05, metrics="auto", clip_grad_norm=None,
        progress=False, record_q=False, eval_batch_size=1024, split_seed=0) -> History:
    """Train ``model`` on ``(X, y)``; returns the :class:`History`.

    * ``batch_size=1``: the lecture's stochastic gradient, one object at a time in
      random order; ``smoothing`` is ``λ`` of ``Q := (1 − λ)Q + λ L_i`` (recorded per
      epoch as ``q``, per batch in ``history.q_trace`` with ``record_q=True``).
    * ``epochs`` is the epoch to train up to: with ``resume_from`` (a checkpoint
      from :class:`~neuronet.train.callbacks.ModelCheckpoint` or
      ``Trainer.save_checkpoint``) model weights, optimiser state, RNG state,
      epoch counter, history and callback states are restored and training
      continues, bit-identical to an uninterrupted run.
    * ``validation=(Xv, yv)`` or ``validation_split`` (that fraction of the objects,
      drawn at random with ``split_seed``, the same on every run and resume) gives ``val_loss`` and ``val_<metric>`` per epoch; ``metrics='auto'`` is
      accuracy for classification losses and integer labels.
    * A NaN or infinite loss raises :class:`TrainingDiverged` naming epoch and batch.
    * ``progress=True`` adds a tqdm :class:`~neuronet.train.callbacks.ProgressBar`.
    """
    trainer = Trainer(model, loss, optimizer, batch_size=batch_size, shuffle=shuffle,
                      smoothing=smoothing, metrics=metrics, rng=rng, seed=seed,
                      clip_grad_norm=clip_grad_norm, record_q=record_q,
                      eval_batch_size=eval_batch_size)
    history = trainer.run(X, y, epochs, validation=validation, validation_split=validation_split,
                          callbacks=callbacks, resume_from=resume_from, progress=progress,
                          split_seed=split_seed)
    history.trainer = trainer
    return history
