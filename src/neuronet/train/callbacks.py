"""Callbacks of the training loop: early stopping, learning-rate schedules,
checkpoints and a progress bar (MISSION B5, F3).

A callback overrides any of ``on_train_begin(trainer)``, ``on_epoch_begin(trainer,
epoch)``, ``on_batch_end(trainer, batch, loss)``, ``on_epoch_end(trainer, epoch,
logs)``, ``on_train_end(trainer)``; ``state_dict``/``load_state_dict`` carry what
it needs across a resume.  Epochs are numbered from 1.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..registry import REGISTRIES, Registered
from ..validation import check_int, check_positive, check_real, check_template

__all__ = ["CALLBACKS", "Callback", "EarlyStopping", "StopAtTarget", "LRSchedule", "StepLR", "ExponentialLR", "InverseTimeLR",
           "ModelCheckpoint", "ProgressBar"]


class Callback(Registered, kind="callback"):
    """Base class: every hook does nothing. Subclasses are registered by class name
    (a config's ``[training.schedule]`` or ``callbacks`` may name them)."""

    def on_train_begin(self, trainer):
        pass

    def on_epoch_begin(self, trainer, epoch: int):
        pass

    def on_batch_end(self, trainer, batch: int, loss: float):
        pass

    def on_epoch_end(self, trainer, epoch: int, logs: dict):
        pass

    def on_train_end(self, trainer):
        pass

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


def _mode(monitor: str, mode: str) -> str:
    if mode == "auto":
        return "max" if any(k in monitor for k in ("acc", "accuracy")) else "min"
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min', 'max' or 'auto', got {mode!r}")
    return mode


def _monitored(who: str, monitor: str, trainer, logs):
    """The value of ``monitor`` in this epoch's logs, or None for an epoch that ran no
    validation although the run has validation data (a family that validates every
    few epochs, such as ``fit_stream``); any other absence is a configuration error."""
    value = logs.get(monitor)
    if value is not None:
        return float(value)
    if monitor.startswith("val_") and getattr(trainer, "validation", None) is not None:
        return None
    raise ValueError(f"{who} monitors {monitor!r}, but the epoch logs only have {sorted(logs)} "
                     f"(give validation data for val_* metrics)")


class EarlyStopping(Callback):
    """Stop when ``monitor`` (default ``val_loss``) has not improved by ``min_delta`` for
    ``patience`` epochs: the cross-validation curve's minimum.  With ``restore_best``
    the weights of the best epoch are put back when training ends.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 mode: str = "auto", restore_best: bool = True):
        self.monitor = monitor
        self.patience = check_int(patience, "patience", minimum=0)
        self.min_delta = check_positive(min_delta, "min_delta", allow_zero=True)
        self.mode = _mode(monitor, mode)
        self.restore_best = bool(restore_best)
        self.best, self.best_epoch, self.wait, self.best_state = None, None, 0, None
        self.stopped_epoch = None

    def _better(self, value) -> bool:
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, trainer, epoch, logs):
        value = _monitored("EarlyStopping", self.monitor, trainer, logs)
        if value is None:
            return
        if self._better(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                self.best_state = trainer.model.state_dict()
        else:
            self.wait += 1
            if self.wait >= self.patience:
                trainer.stop_training = True
                self.stopped_epoch = epoch

    def on_train_end(self, trainer):
        if self.restore_best and self.best_state is not None:
            trainer.model.load_state_dict(self.best_state)

    def state_dict(self):
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait,
                "best_state": dict(self.best_state) if self.best_state is not None else None}

    def load_state_dict(self, state):
        self.best, self.best_epoch, self.wait = state["best"], state["best_epoch"], state["wait"]
        self.best_state = state.get("best_state")


class StopAtTarget(Callback):
    """Stop once ``monitor`` reaches ``target`` (e.g. ``val_accuracy`` 1.0: zero errors),
    the lecture's "repeat until Q stabilises" with an explicit goal."""

    def __init__(self, monitor: str, target: float, mode: str = "auto"):
        self.monitor, self.target = monitor, check_real(target, "target")
        self.mode = _mode(monitor, mode)
        self.reached_epoch = None

    def on_epoch_end(self, trainer, epoch, logs):
        v = _monitored("StopAtTarget", self.monitor, trainer, logs)
        if v is None:
            return
        if (v >= self.target) if self.mode == "max" else (v <= self.target):
            self.reached_epoch = epoch
            trainer.stop_training = True


class LRSchedule(Callback):
    """Set ``optimizer.lr = η_t`` at the start of each epoch ``t`` (0-based count of
    finished epochs) from ``η_0`` (the optimiser's learning rate when training
    first starts, kept across a resume)."""

    def __init__(self):
        self.initial_lr = None

    def rate(self, lr0: float, t: int) -> float:
        raise NotImplementedError

    def on_train_begin(self, trainer):
        if self.initial_lr is None:
            self.initial_lr = float(trainer.optimizer.lr)

    def on_epoch_begin(self, trainer, epoch):
        trainer.optimizer.lr = self.rate(self.initial_lr, epoch - 1)

    def state_dict(self):
        return {"initial_lr": self.initial_lr}

    def load_state_dict(self, state):
        self.initial_lr = state.get("initial_lr")


class StepLR(LRSchedule):
    """``η_t = η_0 · γ^⌊t / step⌋``: multiply by ``gamma`` every ``step`` epochs."""

    def __init__(self, step: int, gamma: float = 0.1):
        super().__init__()
        self.step = check_int(step, "step", minimum=1)
        self.gamma = check_positive(gamma, "gamma")

    def rate(self, lr0, t):
        return lr0 * self.gamma ** (t // self.step)


class ExponentialLR(LRSchedule):
    """``η_t = η_0 · γ^t``."""

    def __init__(self, gamma: float):
        super().__init__()
        self.gamma = check_positive(gamma, "gamma")

    def rate(self, lr0, t):
        return lr0 * self.gamma ** t


class InverseTimeLR(LRSchedule):
    """``η_t = η_0 / (1 + decay · t)``: the ``1/t`` rate of stochastic approximation
    (Robbins–Monro: ``Σ η_t = ∞``, ``Σ η_t² < ∞``)."""

    def __init__(self, decay: float = 1.0):
        super().__init__()
        self.decay = check_positive(decay, "decay")

    def rate(self, lr0, t):
        return lr0 / (1.0 + self.decay * t)


class ModelCheckpoint(Callback):
    """Write a checkpoint every ``every`` epochs (and at the end of training) to ``path``.

    ``path`` may contain ``{epoch}``.  With ``save_best_only`` it is written only when
    ``monitor`` improves.  Writes are atomic (temporary name, then rename), so a crash
    or a :class:`~neuronet.train.TrainingDiverged` leaves the last good file intact.
    The checkpoint resumes training exactly: ``fit(..., resume_from=path)``.
    """

    def __init__(self, path, every: int = 1, save_best_only: bool = False,
                 monitor: str = "val_loss", mode: str = "auto", extra: dict | None = None):
        self.path = check_template(str(path), "path", epoch=1)  # now, not after the first epoch
        self.extra = extra  # stored in every checkpoint (e.g. the training config)
        self.every = check_int(every, "every", minimum=1)
        self.save_best_only = bool(save_best_only)
        self.monitor = monitor
        self.mode = _mode(monitor, mode)
        self.best = None
        self.saved = []  # paths written, in order

    def _path(self, epoch):
        return Path(self.path.format(epoch=epoch))

    def on_epoch_end(self, trainer, epoch, logs):
        if self.save_best_only:
            value = _monitored("ModelCheckpoint", self.monitor, trainer, logs)
            if value is None:
                return
            if self.best is not None and (value >= self.best if self.mode == "min" else value <= self.best):
                return
            self.best = float(value)
        elif epoch % self.every:
            return
        self.saved.append(trainer.save_checkpoint(self._path(epoch), self.extra))

    def on_train_end(self, trainer):
        # the final state too, so an interrupted periodic schedule can still resume from the end;
        # never after a failure (divergence, Ctrl-C): that would overwrite the last good file
        if getattr(trainer, "failed", None) is not None:
            return
        if not self.save_best_only and trainer.epoch % self.every and trainer.epoch > 0:
            self.saved.append(trainer.save_checkpoint(self._path(trainer.epoch), self.extra))

    def state_dict(self):
        return {"best": self.best}

    def load_state_dict(self, state):
        self.best = state.get("best")


class ProgressBar(Callback):
    """A tqdm bar over the batches of each epoch showing the running ``Q`` and the last
    validation result (refreshed at most every ``interval`` seconds: cheap per batch)."""

    def __init__(self, interval: float = 0.2, file=None, leave: bool = True):
        self.interval = check_positive(interval, "interval", allow_zero=True)
        self.file = file
        self.leave = leave
        self._bar = None
        self._last_val = {}

    def on_epoch_begin(self, trainer, epoch):
        from tqdm.auto import tqdm
        total = getattr(trainer, "n_batches", None)
        desc = f"{getattr(trainer, 'desc', 'epoch')} {epoch}/{getattr(trainer, 'epochs', '?')}"
        self._bar = tqdm(total=total, desc=desc, unit="batch", file=self.file,
                         leave=self.leave, dynamic_ncols=True)
        self._t = 0.0
        self._shown = 0

    def _postfix(self, trainer):
        d = {"Q": f"{trainer.q:.4g}" if trainer.q is not None else "-"}
        d.update(self._last_val)
        return d

    def on_batch_end(self, trainer, batch, loss):
        now = time.monotonic()
        if now - self._t >= self.interval:
            self._bar.update(batch - self._shown)
            self._shown = batch
            self._bar.set_postfix(self._postfix(trainer), refresh=True)
            self._t = now

    def on_epoch_end(self, trainer, epoch, logs):
        self._last_val = {k: f"{v:.4g}" for k, v in logs.items()
                          if k.startswith("val_") and isinstance(v, (int, float, np.floating))}
        if self._bar is not None:
            self._bar.update(self._bar.total - self._shown if self._bar.total else 0)
            self._bar.set_postfix(self._postfix(trainer), refresh=True)
            self._bar.close()
            self._bar = None

    def on_train_end(self, trainer):
        if self._bar is not None:
            self._bar.close()
            self._bar = None


#: every Callback subclass by class name (LR schedules among them).
CALLBACKS = REGISTRIES["callback"]
