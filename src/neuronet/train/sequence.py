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
Training can be stopped and resumed: a checkpoint (:func:`neuronet.save`, atomic)
holds the weights, the optimiser state, the position in the stream, the carried
state and the history.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..io import load_checkpoint, restore, save
from ..module import Module
from ..optim import clip_grad_norm as _clip
from ..validation import check_int, check_positive
from .history import TrainingDiverged

__all__ = ["StreamHistory", "fit_stream", "evaluate_stream", "recurrent_layers", "stream_checkpoint_info"]


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


def fit_stream(model: Module, loss, optimizer, inputs, targets, *, seq_len: int = 100,
               steps: int | None = None, epochs: int | None = None, clip_grad_norm: float | None = 5.0,
               transform=None, validation=None, val_every: int = 500, val_seq_len: int | None = None,
               checkpoint=None, checkpoint_every: int = 200, resume: bool = True,
               progress: bool = True, smoothing: float = 0.02, log_every: int = 10,
               extra: dict | None = None) -> StreamHistory:
    """Train ``model`` on streams by truncated BPTT; returns a :class:`StreamHistory`.

    ``inputs``/``targets``: time-major ``(L, N, ...)`` arrays (codes or features; a
    ``transform`` such as ``lambda c: one_hot(c, V)`` is applied to each input chunk,
    so a long stream need not be stored one-hot). Every recurrent layer of ``model``
    must be ``stateful=True``; states are reset at the start of each epoch.
    ``steps`` (a fixed budget of optimiser steps) and/or ``epochs`` bound the run.
    ``clip_grad_norm``: rescale the gradient to this norm (``None`` to switch off).
    ``validation=(inputs_v, targets_v)``: evaluated every ``val_every`` steps and at
    the end. ``checkpoint``: a path written every ``checkpoint_every`` steps and at
    the end; with ``resume=True`` an existing checkpoint is loaded first and the run
    continues where it stopped (same position in the stream, same carried state).
    ``extra`` is stored in the checkpoint (e.g. the vocabulary).
    """
    _check_streams(inputs, targets)
    seq_len = check_int(seq_len, "seq_len", minimum=1)
    if steps is None and epochs is None:
        raise ValueError("give steps= (a budget of optimiser steps) or epochs=")
    steps = None if steps is None else check_int(steps, "steps", minimum=1)
    epochs = None if epochs is None else check_int(epochs, "epochs", minimum=1)
    if clip_grad_norm is not None:
        check_positive(clip_grad_norm, "clip_grad_norm")
    layers = recurrent_layers(model)
    lazy = [type(m).__name__ for m in layers if not getattr(m, "stateful", False)]
    if lazy:
        raise ValueError(f"truncated BPTT carries the state between chunks: build the recurrent "
                         f"layers with stateful=True (not stateful: {', '.join(lazy)})")
    L = inputs.shape[0]
    per_epoch = math.ceil(L / seq_len)
    total = min(x for x in (steps, None if epochs is None else epochs * per_epoch) if x is not None)

    hist, step, q = StreamHistory(), 0, None
    position = 0  # time index where the next chunk starts
    if checkpoint is not None and resume and Path(checkpoint).is_file():
        ck = restore(checkpoint, model, optimizer)
        run = ck.extra["stream"]
        hist = StreamHistory.from_dict(run["history"])
        step, q, position = int(run["step"]), run["q"], int(run["position"])
        _set_states(layers, run["states"])

    def write_checkpoint():
        if checkpoint is None:
            return
        run = {"step": step, "q": q, "position": position, "history": hist.as_dict(),
               "states": _states(layers), "seq_len": seq_len}
        save(checkpoint, model, optimizer, epoch=step // per_epoch,
             extra={**(extra or {}), "stream": run})

    def validate():
        vx, vy = validation
        v = evaluate_stream(model, loss, vx, vy, val_seq_len or seq_len, transform)
        hist.val_step.append(step)
        hist.val_loss.append(v)
        return v

    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=total, initial=min(step, total), unit="step", desc="truncated BPTT",
                   dynamic_ncols=True)
    params = model.parameters()
    model.train()
    t0 = time.perf_counter() - hist.seconds
    shown_t, val = 0.0, (hist.val_loss[-1] if hist.val_loss else None)
    try:
        while step < total:
            if position == 0:
                _reset(layers)  # a new pass over the stream starts from zero state
            for a, x, y in _chunks(inputs, targets, seq_len, position):
                optimizer.zero_grad()
                out = model.forward(transform(x) if transform else x)
                e = loss.forward(out, y)
                if not math.isfinite(e):
                    raise TrainingDiverged(f"loss became {e} at step {step}; the last good "
                                           f"checkpoint is {checkpoint}")
                model.backward(loss.backward())
                if clip_grad_norm is not None:
                    _clip(params, clip_grad_norm)
                optimizer.step()
                step += 1
                position = a + seq_len if a + seq_len < L else 0
                q = e if q is None else (1 - smoothing) * q + smoothing * e
                if step % log_every == 0:
                    hist.step.append(step)
                    hist.q.append(q)
                if validation is not None and step % val_every == 0:
                    val = validate()
                if checkpoint is not None and step % checkpoint_every == 0:
                    hist.seconds, hist.steps_done = time.perf_counter() - t0, step
                    write_checkpoint()
                if bar is not None:
                    bar.update(1)
                    now = time.monotonic()
                    if now - shown_t > 0.3:
                        post = {"Q": f"{q:.4f}"}
                        if val is not None:
                            post["val"] = f"{val:.4f}"
                        bar.set_postfix(post, refresh=False)
                        shown_t = now
                if step >= total or position == 0:
                    break
        if validation is not None and (not hist.val_step or hist.val_step[-1] != step):
            validate()
    finally:
        if bar is not None:
            bar.close()
    hist.seconds, hist.steps_done = time.perf_counter() - t0, step
    write_checkpoint()
    return hist


def stream_checkpoint_info(path) -> dict:
    """The run record (step, position, history, ...) stored in a :func:`fit_stream` checkpoint."""
    return load_checkpoint(path).extra.get("stream", {})
