"""Truncated BackProp Through Time over long streams (MISSION D5).

A stream too long to unroll at once (a book, for a character language model) is
cut into ``N`` parallel streams, shape ``(L, N, ...)`` (:func:`neuronet.data.batchify`),
and read in consecutive chunks of ``T = seq_len`` steps. The recurrent layers are
``stateful``: the last state of chunk ``k`` is the first state of chunk ``k + 1``,
so the forward pass sees the whole stream, while the gradient is cut at the chunk
border (BPTT truncated to ``T`` steps)::

    for each chunk (x, y) of T steps:          state carried from the previous chunk
        E := loss(model(x), y)                 forward through T steps
        g := ∂E/∂w                             BPTT within the chunk
        g := g·θ/‖g‖ if ‖g‖ > θ                gradient clipping (default θ = 5)
        w := optimizer(w, g)
        Q := (1 − λ)·Q + λ·E                   running loss, shown in the progress bar

With ``seq_len ≥ L − 1`` one chunk spans the whole stream and this is full BPTT.
It is a step on the one loop (:class:`BPTTStep`): the loop's epochs are rounds of
optimiser steps (the validation and checkpoint period), the batches are the
chunks in stream order (:class:`StreamBatches`, whose position is checkpointed),
and the carried state is the step's state, so a resumed run continues bit for bit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from ..io import load_checkpoint
from ..module import Module
from ..validation import check_int, check_positive
from .batches import Batches
from .callbacks import ModelCheckpoint
from .loop import Loop, Step

__all__ = ["StreamHistory", "StreamBatches", "BPTTStep", "fit_stream", "evaluate_stream",
           "recurrent_layers", "stream_checkpoint_info"]


@dataclass
class StreamHistory:
    """What :func:`fit_stream` records: running loss ``Q`` every ``log_every`` steps,
    the validation loss at every validation, and wall time."""
    step: list = field(default_factory=list)
    q: list = field(default_factory=list)
    val_step: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    seconds: float = 0.0
    steps_done: int = 0

    def as_dict(self) -> dict:
        return {"step": list(self.step), "q": list(self.q), "val_step": list(self.val_step),
                "val_loss": list(self.val_loss), "seconds": float(self.seconds),
                "steps_done": int(self.steps_done)}

    @classmethod
    def from_dict(cls, d: dict) -> "StreamHistory":
        return cls(**{k: d[k] for k in ("step", "q", "val_step", "val_loss", "seconds", "steps_done")})


def recurrent_layers(model: Module) -> list:
    """Every sub-module that carries a state between calls (has ``reset_state``)."""
    return [m for m in model.modules() if hasattr(m, "reset_state") and hasattr(m, "get_state")]


def _reset(layers):
    for m in layers:
        m.reset_state()


def _states(layers):
    return [m.get_state() for m in layers]


def _set_states(layers, states):
    for m, s in zip(layers, states):
        m.set_state(s)


def _check_streams(inputs, targets):
    if not hasattr(inputs, "shape") or not hasattr(targets, "shape"):
        raise TypeError("inputs and targets must be arrays of shape (L, N, ...)")
    if inputs.ndim < 2 or tuple(inputs.shape[:2]) != tuple(targets.shape[:2]):
        raise ValueError(f"inputs and targets must be time-major streams with the same (L, N), "
                         f"got {tuple(inputs.shape)} and {tuple(targets.shape)}")


def _chunks(inputs, targets, seq_len, start=0):
    L = inputs.shape[0]
    for a in range(start, L, seq_len):
        yield a, inputs[a:a + seq_len], targets[a:a + seq_len]


def evaluate_stream(model: Module, loss, inputs, targets, seq_len: int = 100, transform=None) -> float:
    """Mean loss over a stream read in chunks with the state carried (no training).

    Each chunk's loss is weighted by its length, so the result is the mean per
    step over the whole stream (nats per character for a language model). The
    carried states are reset first and left as they were before the call.
    """
    _check_streams(inputs, targets)
    seq_len = check_int(seq_len, "seq_len", minimum=1)
    layers = recurrent_layers(model)
    saved = _states(layers)
    was_training = model.training
    model.eval()
    _reset(layers)
    total, count = 0.0, 0
    try:
        for _, x, y in _chunks(inputs, targets, seq_len):
            out = model.forward(transform(x) if transform else x)
            total += loss.forward(out, y) * x.shape[0]
            count += x.shape[0]
    finally:
        _set_states(layers, saved)
        model.train(was_training)
    return total / count


class StreamBatches(Batches):
    """The chunks ``(x, y, start)`` of ``T`` steps of time-major streams, in stream order.

    A round (one epoch of the loop) runs to the next multiple of ``round_steps``
    optimiser steps or to ``total``; the position in the stream and the step count
    are this object's state, so a resumed run reads on from the same chunk.
    """

    def __init__(self, inputs, targets, seq_len: int, total: int, round_steps: int):
        self.inputs, self.targets, self.seq_len = inputs, targets, seq_len
        super().__init__(math.ceil(inputs.shape[0] / seq_len), 1, shuffle=False)
        self.total, self.round_steps = total, round_steps
        self.steps, self.position = 0, 0

    def __len__(self) -> int:
        return self.round_steps

    def rounds_left(self) -> int:
        return math.ceil(self.total / self.round_steps) - self.steps // self.round_steps

    def epoch(self, rng):
        end = min(self.total, (self.steps // self.round_steps + 1) * self.round_steps)
        L = self.inputs.shape[0]
        while self.steps < end:
            a = self.position
            self.steps += 1
            self.position = a + self.seq_len if a + self.seq_len < L else 0
            yield self.inputs[a:a + self.seq_len], self.targets[a:a + self.seq_len], a

    def size(self, batch) -> int:
        return batch[0].shape[0]

    def state_dict(self) -> dict:
        return {"steps": self.steps, "position": self.position}

    def load_state_dict(self, state: dict) -> None:
        if state:
            self.steps, self.position = int(state["steps"]), int(state["position"])


class BPTTStep(Step):
    """Truncated BPTT on one chunk: the carried state in, ``E`` and ``∂E/∂w`` out (the state
    is reset where a pass over the stream begins). Validation every ``val_every`` steps
    and at the last one; the recurrent layers' states are the step's state."""

    def __init__(self, model, loss, optimizer, transform=None, val_every: int = 500,
                 val_seq_len: int = 100):
        self.model, self.loss, self.optimizer, self.transform = model, loss, optimizer, transform
        self.layers = recurrent_layers(model)
        self.val_every, self.val_seq_len = val_every, val_seq_len
        self.batches = None

    def on_train_begin(self, loop):
        self.batches = loop.batches
        loop.epochs = loop.epoch + self.batches.rounds_left()
        self.model.train()

    def compute(self, batch) -> dict:
        x, y, start = batch
        if start == 0:
            _reset(self.layers)  # a new pass over the stream starts from zero state
        out = self.model.forward(self.transform(x) if self.transform else x)
        e = self.loss.forward(out, y)
        if math.isfinite(e):  # a diverged loss stops the loop before any update
            self.model.backward(self.loss.backward())
        return {"loss": e}

    def evaluate(self, data) -> dict:
        steps = self.batches.steps
        if steps % self.val_every and steps < self.batches.total:
            return {}
        v = evaluate_stream(self.model, self.loss, data[0], data[1], self.val_seq_len, self.transform)
        return {"loss": v, "step": steps}

    def state_dict(self) -> dict:
        return {"states": _states(self.layers)}

    def load_state_dict(self, state: dict) -> None:
        if state:
            _set_states(self.layers, state["states"])


def _check_budget(model, inputs, targets, seq_len, steps, epochs):
    _check_streams(inputs, targets)
    seq_len = check_int(seq_len, "seq_len", minimum=1)
    if steps is None and epochs is None:
        raise ValueError("give steps= (a budget of optimiser steps) or epochs=")
    steps = None if steps is None else check_int(steps, "steps", minimum=1)
    epochs = None if epochs is None else check_int(epochs, "epochs", minimum=1)
    lazy = [type(m).__name__ for m in recurrent_layers(model) if not getattr(m, "stateful", False)]
    if lazy:
        raise ValueError(f"truncated BPTT carries the state between chunks: build the recurrent "
                         f"layers with stateful=True (not stateful: {', '.join(lazy)})")
    per_pass = math.ceil(inputs.shape[0] / seq_len)
    return seq_len, min(x for x in (steps, None if epochs is None else epochs * per_pass) if x is not None)


def fit_stream(model: Module, loss, optimizer, inputs, targets, *, seq_len: int = 100,
               steps: int | None = None, epochs: int | None = None, clip_grad_norm: float | None = 5.0,
               transform=None, validation=None, val_every: int = 500, val_seq_len: int | None = None,
               checkpoint=None, checkpoint_every: int = 200, resume: bool = True,
               progress: bool = True, smoothing: float = 0.02, log_every: int = 10,
               extra: dict | None = None, callbacks=None) -> StreamHistory:
    """Train ``model`` on streams by truncated BPTT on the one loop; returns a :class:`StreamHistory`.

    ``inputs``/``targets``: time-major ``(L, N, ...)`` arrays (codes or features; a
    ``transform`` such as ``lambda c: one_hot(c, V)`` is applied to each input chunk,
    so a long stream need not be stored one-hot). Every recurrent layer of ``model``
    must be ``stateful=True``; states are reset where each pass over the stream begins.
    ``steps`` (a fixed budget of optimiser steps) and/or ``epochs`` (passes) bound the run.
    ``clip_grad_norm``: rescale the gradient to this norm (``None`` to switch off).
    ``validation=(inputs_v, targets_v)``: evaluated every ``val_every`` steps and at
    the end. ``checkpoint``: a path written every ``checkpoint_every`` steps and at
    the end; with ``resume=True`` an existing checkpoint is loaded first and the run
    continues where it stopped (same position in the stream, same carried state).
    ``extra`` is stored in the checkpoint (e.g. the vocabulary). The loop's epochs are
    rounds of ``gcd(val_every, checkpoint_every)`` steps; ``callbacks`` see them.
    """
    seq_len, total = _check_budget(model, inputs, targets, seq_len, steps, epochs)
    val_every = check_int(val_every, "val_every", minimum=1)
    checkpoint_every = check_int(checkpoint_every, "checkpoint_every", minimum=1)
    log_every = check_int(log_every, "log_every", minimum=1)
    if clip_grad_norm is not None:
        check_positive(clip_grad_norm, "clip_grad_norm")
    periods = ([val_every] if validation is not None else []) + ([checkpoint_every] if checkpoint else [])
    round_steps = math.gcd(*periods) if periods else min(total, 100)
    step = BPTTStep(model, loss, optimizer, transform, val_every, val_seq_len or seq_len)
    resume_from = checkpoint if checkpoint is not None and resume and Path(checkpoint).is_file() else None
    loop = Loop(step, epochs=1, callbacks=callbacks, progress=progress, validation=validation,
                resume_from=resume_from, smoothing=smoothing, clip_grad_norm=clip_grad_norm,
                record_q=True, desc="truncated BPTT round")
    if checkpoint is not None:  # written before any user hook runs
        loop.callbacks.insert(0, ModelCheckpoint(checkpoint, every=checkpoint_every // round_steps,
                                                 extra=extra))
    batches = StreamBatches(inputs, targets, seq_len, total, round_steps)
    loop.run(batches)
    return _stream_history(loop, log_every)


def _stream_history(loop, log_every) -> StreamHistory:
    h, steps = loop.history, loop.batches.steps
    marks = list(range(log_every, steps + 1, log_every))
    val = [r for r in h.records if r.get("val_loss") is not None]
    hist = StreamHistory(step=marks, q=[h.q_trace[k - 1] for k in marks],
                         val_step=[int(r["val_step"]) for r in val], val_loss=[r["val_loss"] for r in val],
                         seconds=float(sum(r["time"] for r in h.records)), steps_done=steps)
    hist.trainer = loop
    return hist


def stream_checkpoint_info(path) -> dict:
    """Where a :func:`fit_stream` checkpoint stands: ``step``, ``position`` (the time index of
    the next chunk), ``epoch`` (rounds done) and the loop's ``history`` records."""
    st = load_checkpoint(path).extra.get("trainer", {})
    batches = st.get("batches") or {}
    return {"step": int(batches.get("steps", 0)), "position": int(batches.get("position", 0)),
            "epoch": int(st.get("epoch", 0)), "history": st.get("history", [])}
