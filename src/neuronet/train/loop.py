"""THE training loop: every model family trains on it (MISSION A7, B5, F3).

One epoch visits every training object once, in a fresh seeded order::

    for each mini-batch B (|B| = batch_size; |B| = 1 is the lecture's SG):
        ∇ := step.compute(B)            the family's part: gradients into Parameter.grad,
                                        a dict of metrics out ("loss" = L_B)
        stop if L_B is NaN or ±inf      TrainingDiverged; this step's update is not applied
        ∇ := ∇·θ/‖∇‖ if ‖∇‖ > θ         optional clipping (clip_grad_norm = θ)
        w := optimizer(w, ∇)            any nt.optim rule
        Q := (1 − λ) Q + λ L_B          running estimate (λ = smoothing), Q₀ = L_first

A model family supplies only a :class:`Step`. The loop owns everything else:
epochs, batch order, Q, the progress bar, validation, callbacks, history, timing,
divergence and checkpoints that resume a run bit for bit (model, optimiser,
every RNG, epoch, history, callback states and the step's own state, such as
PCD persistent chains or a stream position).
"""
from __future__ import annotations

import math
import time

import numpy as np

from ..distributed.comm import get_communicator
from ..distributed.data_parallel import DataParallel
from ..io import restore, save
from ..random import make_rng
from ..validation import check_int, check_positive, check_probability
from .batches import ArrayBatches, Batches
from .callbacks import Callback, ProgressBar
from .history import History, TrainingDiverged

__all__ = ["Step", "Loop"]


class Step:
    """What a model family gives the loop (the RBM's CD-k step is the worked example
    in docs/architecture.md).

    ``model`` (a Module: what checkpoints save) and ``optimizer`` (an ``nt.optim``
    optimiser over its parameters, or ``None`` for a step that updates in closed
    form inside :meth:`compute`).
    """
    model = None
    optimizer = None
    #: True when :meth:`compute` overwrites (not adds to) every parameter's ``grad``:
    #: the loop then skips zeroing them, a pass over the weights per batch saved
    grads_overwritten = False

    def compute(self, batch) -> dict:
        """One batch in (a tuple of arrays); ∂Q/∂θ written into ``Parameter.grad``;
        a dict of metrics out, with ``"loss"`` (or only other metrics)."""
        raise NotImplementedError

    def evaluate(self, data) -> dict:
        """Validation metrics on ``data`` (keys without the ``val_`` prefix)."""
        return {}

    def on_train_begin(self, loop) -> None:
        """Called once, after a resume has restored every state."""

    def on_epoch_begin(self, epoch: int) -> None:
        """Per-epoch settings (a momentum switch, say); epochs count from 1."""

    def state_dict(self) -> dict:
        """The family's own state for an exact resume (arrays allowed)."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


class Loop:
    """One training run of a :class:`Step`; callbacks receive it as ``trainer``.

    Callbacks see ``model``, ``optimizer``, ``step``, ``epoch`` (completed epochs),
    ``epochs``, ``q`` (running Q), ``history``, ``rng``, ``n_batches``, ``desc``,
    ``stop_training`` (set True to stop after the epoch), ``failed`` (the exception
    that ended the run, if any) and ``save_checkpoint(path)``.

    ``comm`` (a :mod:`neuronet.distributed` communicator, or ``'auto'`` for MPI
    when started by ``mpiexec``) trains data-parallel: every rank draws the same
    order from the shared seed (rank 0's) and takes its shard of each batch of
    ``batch_size`` objects, the optimiser becomes
    :class:`~neuronet.distributed.DataParallel` (the combined batch's gradient and
    loss on every rank), the epoch's metrics are summed over the ranks, and rank
    0's stop decision holds for all. Only rank 0 shows progress and writes
    checkpoints; every rank resumes from the same file.
    """

    def __init__(self, step: Step, *, epochs: int = 10, batch_size: int = 32, shuffle: bool = True,
                 seed=None, rng=None, callbacks=None, progress: bool = False, validation=None,
                 resume_from=None, smoothing: float = 0.05, clip_grad_norm=None,
                 record_q: bool = False, desc: str = "epoch", comm=None):
        if not isinstance(step, Step):
            raise TypeError(f"step must be a neuronet.train.Step, got {type(step).__name__}")
        self.step = step
        self.epochs = check_int(epochs, "epochs", minimum=1)
        self.batch_size = check_int(batch_size, "batch_size", minimum=1)
        self.shuffle = bool(shuffle)
        self.rng = make_rng(rng, seed)
        self.callbacks = _check_callbacks(callbacks)
        if progress and not any(isinstance(c, ProgressBar) for c in self.callbacks):
            self.callbacks.append(ProgressBar())
        self.validation = validation
        self.resume_from = resume_from
        self.smoothing = check_probability(smoothing, "smoothing", closed_right=True)
        if self.smoothing == 0:
            raise ValueError("smoothing λ must be in (0, 1], got 0")
        self.clip_grad_norm = None if clip_grad_norm is None else check_positive(
            clip_grad_norm, "clip_grad_norm")
        self.record_q = bool(record_q)
        self.desc = str(desc)
        self.history = History()
        self.epoch, self.q, self.stop_training, self.failed = 0, None, False, None
        self.batches, self.n_batches = None, None
        self.comm = get_communicator(comm)
        if self.comm.size > 1:
            self._distribute()

    def _distribute(self):
        comm = self.comm
        if self.batch_size < comm.size:
            raise ValueError(f"batch_size={self.batch_size} gives some of the {comm.size} ranks no objects")
        if self.step.optimizer is not None and not isinstance(self.step.optimizer, DataParallel):
            self.step.optimizer = DataParallel(self.step.optimizer, comm)
        self.rng.bit_generator.state = comm.broadcast_object(self.rng.bit_generator.state)
        if not comm.is_root:
            self.callbacks = [c for c in self.callbacks if not isinstance(c, ProgressBar)]

    @property
    def model(self):
        return self.step.model

    @property
    def optimizer(self):
        return self.step.optimizer

    # ---------------------------------------------------------- checkpoints
    def state(self) -> dict:
        """Everything besides model, optimiser and loop RNG that an exact resume needs."""
        return {"epoch": self.epoch, "q": self.q, "lr": getattr(self.optimizer, "lr", None),
                "history": self.history.records, "q_trace": list(self.history.q_trace),
                "callbacks": [c.state_dict() for c in self.callbacks],
                "step": self._step_state(),
                "batches": self.batches.state_dict() if self.batches is not None else {}}

    def _step_state(self) -> dict:
        """The step's state; with several ranks and a stateful step every rank's (its own
        chains and streams), gathered in rank order (a collective: rank 0 alone writes)."""
        state = self.step.state_dict()
        return {"ranks": self.comm.allgather(state)} if self.comm.size > 1 and state else state

    def _own_step_state(self, state: dict) -> dict:
        """This rank's part of a saved step state (rank ``r mod R`` of a run on ``R`` ranks)."""
        if "ranks" not in state:
            return state
        return state["ranks"][self.comm.rank % len(state["ranks"])]

    def save_checkpoint(self, path, extra: dict | None = None):
        """Atomically write model, optimiser, RNG, epoch, history and step state to ``path``.
        With several ranks and a stateful step (an energy model's chains) every rank must call
        it, since it gathers their states; rank 0 alone writes."""
        meta = {"trainer": self.state()}
        if extra:
            meta.update(extra)
        if not self.comm.is_root:  # one writer
            return path
        return save(path, self.model, _unwrap(self.optimizer), epoch=self.epoch, rng=self.rng, extra=meta)

    def load_checkpoint(self, path):
        """Restore a checkpoint written by :meth:`save_checkpoint` into this run."""
        ck = restore(path, self.model, _unwrap(self.optimizer))
        if ck.rng_state is not None:
            ck.restore_rng(self.rng)
        st = (ck.extra or {}).get("trainer", {})
        self.epoch = int(ck.epoch or st.get("epoch", 0))
        self.q = st.get("q")
        if st.get("lr") is not None and hasattr(self.optimizer, "lr"):
            self.optimizer.lr = st["lr"]
        self.history = History(list(st.get("history", [])), list(st.get("q_trace", [])))
        for c, s in zip(self.callbacks, st.get("callbacks", [])):
            c.load_state_dict(s)
        self.step.load_state_dict(self._own_step_state(st.get("step") or {}))
        if self.batches is not None:
            self.batches.load_state_dict(st.get("batches") or {})
        return ck

    # ---------------------------------------------------------------- run
    def run(self, *data) -> History:
        """Train on ``data``: arrays with one row per object (``X`` or ``X, y``), or a
        single :class:`~neuronet.train.batches.Batches`. Trains up to ``epochs``."""
        if len(data) == 1 and isinstance(data[0], Batches):
            self.batches = data[0]
        else:
            self.batches = ArrayBatches(data, self.batch_size, self.shuffle)
        self.batches.comm = self.comm if self.comm.size > 1 else None
        self.n_batches = len(self.batches)
        if self.resume_from is not None:
            self.load_checkpoint(self.resume_from)
        self.stop_training, self.failed = False, None
        self.step.on_train_begin(self)
        for c in self.callbacks:
            c.on_train_begin(self)
        try:
            while self.epoch < self.epochs and not self.stop_training:
                self._run_epoch()
        except BaseException as exc:  # KeyboardInterrupt too: callbacks must not save it as good
            self.failed = exc
            raise
        finally:
            for c in self.callbacks:
                c.on_train_end(self)
        if self.comm.size > 1:  # rank 0's last checkpoint is on disk before any rank reads it
            self.comm.barrier()
        return self.history

    def _run_epoch(self):
        epoch = self.epoch + 1
        self.step.on_epoch_begin(epoch)
        for c in self.callbacks:
            c.on_epoch_begin(self, epoch)
        # only callbacks that override on_batch_end are called per batch (speed)
        batch_cbs = [c for c in self.callbacks if type(c).on_batch_end is not Callback.on_batch_end]
        sums, count = {}, 0
        t0 = time.perf_counter()
        for b, batch in enumerate(self.batches.epoch(self.rng), start=1):
            metrics = self._update(batch, epoch, b)
            m = self.batches.size(batch)
            count += m
            for k, v in metrics.items():
                sums[k] = sums.get(k, 0.0) + float(v) * m
            for c in batch_cbs:
                c.on_batch_end(self, b, metrics.get("loss"))
        if self.comm.size > 1:
            sums, count = _global_sums(sums, count, self.comm)
        rec = {"epoch": epoch}
        rec.update({k: v / max(count, 1) for k, v in sums.items()})
        rec.update({"q": self.q, "lr": getattr(self.optimizer, "lr", None),
                    "time": time.perf_counter() - t0})
        if self.validation is not None:
            rec.update({"val_" + k: v for k, v in self.step.evaluate(self.validation).items()})
        self.epoch = epoch
        self.history.records.append(rec)
        for c in self.callbacks:
            c.on_epoch_end(self, epoch, rec)
        if self.comm.size > 1:
            self.stop_training = self.comm.broadcast_object(self.stop_training)

    def _update(self, batch, epoch: int, b: int) -> dict:
        opt = self.optimizer
        m = self.batches.size(batch)
        if opt is not None and not (self.step.grads_overwritten and m):
            opt.zero_grad()  # a rank without objects this batch contributes zeros
        metrics = self.step.compute(batch) if m else {}
        L = metrics.get("loss")
        if isinstance(opt, DataParallel):
            L = opt.reduce(m, L)
        if L is not None:
            L = float(L)
            if not math.isfinite(L):
                raise TrainingDiverged(epoch, b, L, getattr(opt, "lr", None))
            self.q = L if self.q is None else (1.0 - self.smoothing) * self.q + self.smoothing * L
            if self.record_q:
                self.history.q_trace.append(self.q)
        if opt is not None:
            if self.clip_grad_norm:
                from ..optim import clip_grad_norm
                clip_grad_norm(opt.params, self.clip_grad_norm)
            opt.step()
        return metrics


def _unwrap(optimizer):
    """The rule itself: checkpoints of 1 and of N processes are the same file."""
    return optimizer.optimizer if isinstance(optimizer, DataParallel) else optimizer


def _global_sums(sums: dict, count: int, comm):
    """The epoch's metric sums and object count over all ranks (one small allreduce)."""
    keys = sorted(sums)
    buffer = comm.allreduce(np.array([count] + [sums[k] for k in keys], dtype=np.float64))
    return dict(zip(keys, buffer[1:].tolist())), int(buffer[0])


def _check_callbacks(callbacks) -> list:
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback) or not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"callbacks must be a list of neuronet.train.Callback objects, "
                        f"got {type(callbacks).__name__}")
    for c in callbacks:
        if not isinstance(c, Callback):
            raise TypeError(f"callbacks must be neuronet.train.Callback objects, got {type(c).__name__}")
    return list(callbacks)
