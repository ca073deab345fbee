"""Deep Stacking Network (Deng & Yu 2011 "deep convex network"; Deng, Yu & Platt 2012).

Module ``m`` sees the raw input beside the predictions of every module below,

    z_m = [x, y_1, …, y_{m−1}],   y_m = σ(z_m W_m + b_m) U_m,

and the network predicts ``y_M``. As a net this is a chain of :class:`Concat`
blocks, ``Concat(B_1) → Concat(B_2) → … → B_M``: each ``Concat`` passes its input
on beside its module's prediction, and backprop through the chain sends the
error of every prediction back into the modules above it.

Training (:meth:`DSN.fit`) goes module by module: ``U_m`` in closed form (ridge
regression from the summed statistics ``HᵀH``, ``HᵀT``), then a few full-batch
gradient steps on ``W_m`` with ``U_m = U(W_m)`` (:mod:`.dsn_finetune`), then the
next module; optionally backprop over the whole stack at the end (``nt.fit``).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..backend import asnumpy, get_array_module, get_default_dtype
from ..distributed import allreduce_sum, broadcast_parameters, get_communicator, shard
from ..io import restore, save
from ..layers.containers import Concat, Sequential
from ..module import Module
from ..optim import SGD, Adam
from ..random import make_rng
from ..train.loop import Loop
from ..train.metrics import error_rate
from ..validation import as_float_array, check_finite, check_int, check_ndim, check_positive
from .dsn_finetune import FinetuneStep, StackedInputs, rbm_initialise
from .dsn_module import DSNModule, solve_upper

__all__ = ["DSN"]

TARGETS = ("classes", "values")


class DSN(Module):
    """A Deep Stacking Network of ``n_modules`` modules with ``hidden`` sigmoid units each.

    ``targets='classes'``: ``y`` holds class labels (or one-hot rows), the modules
    regress the one-hot code, ``predict`` is the arg-max and ``predict_proba`` the
    softmax of the top prediction; ``'values'``: real targets, ``predict`` the top
    prediction. ``ridge`` is λ of ``U = (HᵀH + λI)⁻¹HᵀT``. ``warm_start``: module
    ``m`` starts from module ``m−1``'s lower weights, with zero weights on the new
    prediction inputs, so its hidden units begin as the lower module's and the ridge
    solution can reproduce the lower prediction (the training objective cannot rise);
    otherwise its weights are drawn by ``init``. ``dsn.blocks[m]`` is module ``m``
    (``.W``, ``.b``, ``.U``). Not ``dsn.modules[m]``: ``Module.modules()`` is the
    engine's walk over every sub-module (``train``/``eval``, ``astype``, saving, OBD call
    it on the DSN too), so a list under that name would break them.
    """

    def __init__(self, n_in: int, n_out: int, hidden, n_modules: int, ridge: float = 1.0,
                 init="glorot", warm_start: bool = True, targets: str = "classes", seed=None,
                 dtype=None):
        self.n_in = check_int(n_in, "n_in", minimum=1)
        self.n_out = check_int(n_out, "n_out", minimum=1)
        self.n_modules = check_int(n_modules, "n_modules", minimum=1)
        sizes = [hidden] * self.n_modules if np.ndim(hidden) == 0 else list(hidden)
        if len(sizes) != self.n_modules:
            raise ValueError(f"hidden must be an int or one size per module ({self.n_modules}), "
                             f"got {len(sizes)} sizes")
        self.ridge = float(check_positive(ridge, "ridge", allow_zero=True))
        if targets not in TARGETS:
            raise ValueError(f"targets must be one of {TARGETS}, got {targets!r}")
        self.targets, self.warm_start = targets, bool(warm_start)
        dtype = get_default_dtype() if dtype is None else dtype
        rng = make_rng(seed=seed)
        blocks = [DSNModule(self.n_in + m * self.n_out, check_int(h, "hidden", minimum=1),
                            self.n_out, init=init, rng=np.random.default_rng(rng.integers(2**63)),
                            dtype=dtype) for m, h in enumerate(sizes)]
        self.stack = Sequential(*[Concat(b) for b in blocks[:-1]], blocks[-1])

    @property
    def blocks(self) -> list:
        """The modules, lowest first."""
        return [layer.module if isinstance(layer, Concat) else layer for layer in self.stack]

    # ------------------------------------------------------------ passes
    def forward(self, x):
        return self.stack.forward(x)

    def backward(self, dy):
        return self.stack.backward(dy)

    def backward_curvature(self, d2y):
        return self.stack.backward_curvature(d2y)

    # ------------------------------------------------------------ data
    def _dtype_xp(self):
        W = self.blocks[0].W.data
        return W.dtype, get_array_module(W)

    def _inputs(self, X, name="X"):
        dtype, xp = self._dtype_xp()
        X = xp.asarray(as_float_array(X, dtype, name))
        check_ndim(X, 2, name, "(N, n_in)")
        if X.shape[1] != self.n_in:
            raise ValueError(f"{name} must have {self.n_in} features (n_in), got shape {tuple(X.shape)}")
        check_finite(X, name)
        return X

    def _targets(self, y, n: int, name="y"):
        """``y`` as an (N, n_out) target matrix (one-hot for class labels)."""
        dtype, xp = self._dtype_xp()
        y = np.asarray(asnumpy(y)) if not hasattr(y, "dtype") else asnumpy(y)
        if y.ndim == 0 or len(y) != n:
            got = "a scalar" if y.ndim == 0 else f"{len(y)} rows"
            raise ValueError(f"{name} must have one row per row of X ({n}), got {got}")
        if self.targets == "classes" and y.ndim == 1:
            if y.dtype.kind not in "iu" and not np.array_equal(y, np.round(y)):
                raise ValueError(f"{name} must hold integer class labels for targets='classes'")
            if y.size and (y.min() < 0 or y.max() >= self.n_out):
                raise ValueError(f"class labels in {name} must be in [0, {self.n_out}) (n_out), "
                                 f"got values in [{y.min()}, {y.max()}]")
            y = np.eye(self.n_out, dtype=dtype)[y.astype(np.int64)]
        y = as_float_array(y.reshape(n, -1) if y.ndim == 1 else y, dtype, name)
        if y.ndim != 2 or y.shape[1] != self.n_out:
            raise ValueError(f"{name} must have {self.n_out} columns (n_out), got shape {tuple(y.shape)}")
        check_finite(y, name)
        return xp.asarray(y)

    def module_outputs(self, X, chunk: int = 4096) -> list:
        """``[y_1, …, y_M]``: every module's prediction for ``X`` (NumPy arrays)."""
        X = self._inputs(X)
        outs = [[] for _ in self.blocks]
        for i in range(0, len(X), chunk):
            z = X[i:i + chunk]
            for m, block in enumerate(self.blocks):
                y = block.forward(z)
                outs[m].append(asnumpy(y))
                z = get_array_module(z).concatenate([z, y], axis=1)
        return [np.concatenate(o, axis=0) for o in outs]

    # ------------------------------------------------------------ predictions
    def decision_function(self, X, chunk: int = 4096):
        """The top module's prediction ``y_M`` (NumPy)."""
        return self.module_outputs(X, chunk)[-1]

    def predict(self, X):
        """Class labels (arg-max of ``y_M``) or, for ``targets='values'``, ``y_M``."""
        y = self.decision_function(X)
        return y.argmax(axis=1) if self.targets == "classes" else y

    def predict_proba(self, X):
        """``softmax(y_M)`` (classification only)."""
        if self.targets != "classes":
            raise ValueError("predict_proba needs targets='classes'")
        y = self.decision_function(X)
        e = np.exp(y - y.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def score(self, X, y) -> float:
        """Accuracy for classes; ``R² = 1 − Σ(y − t)² / Σ(t − t̄)²`` for values."""
        X = self._inputs(X)
        T = asnumpy(self._targets(y, len(X)))
        pred = self.decision_function(X)
        if self.targets == "classes":
            return 1.0 - error_rate(T, pred)
        return float(1.0 - ((pred - T) ** 2).sum() / ((T - T.mean(axis=0)) ** 2).sum())

    def errors(self, X, y) -> list:
        """Per module ``m``: the error of the stack cut after ``m`` (the classification
        error for classes, the mean squared error ``‖y_m − t‖²/N`` for values)."""
        X = self._inputs(X)
        T = asnumpy(self._targets(y, len(X)))
        outs = self.module_outputs(X)
        if self.targets == "classes":
            return [error_rate(T, o) for o in outs]
        return [float(((o - T) ** 2).sum() / len(T)) for o in outs]

    # ------------------------------------------------------------ training
    def fit(self, X, y, *, finetune_iters: int = 10, finetune_lr: float = 100.0, chunk: int = 2048,
            validation=None, checkpoint=None, resume: bool = False, progress: bool = False,
            backprop_epochs: int = 0, optimizer=None, batch_size: int = 100, callbacks=None,
            rbm_epochs: int = 0, seed=0, comm=None) -> list:
        """Train the modules one after another; returns one record per module.

        Module ``m``: ``U_m`` in closed form, then ``finetune_iters`` full-batch gradient
        steps on ``W_m`` (``U_m = U(W_m)`` throughout; each step is an epoch of the loop,
        with its progress bar), the first of size ``finetune_lr``, later ones adapted by
        the bold-driver rule (:class:`~.dsn_finetune.FinetuneStep`). Records hold the module
        objective ``J``, the training (and ``validation=(Xv, yv)``) error of the stack
        cut after the module and the seconds it took. ``checkpoint``: a file written
        after every module; ``resume=True`` restores it and skips the finished modules.
        ``rbm_epochs > 0``: the lower weights of module 1 (of every module without
        warm start) start from an RBM trained that many CD-1 epochs on ``z_m`` (clipped
        to [0, 1]: the Bernoulli visible units' range).
        ``backprop_epochs > 0`` then trains the whole stack by backprop on the squared
        error through ``nt.fit`` (``optimizer``: Adam, lr 10⁻³ by default; ``callbacks``: its loop's).
        ``comm`` (:mod:`neuronet.distributed`, the same data on every rank): each rank its share
        of the rows, ``HᵀH``, ``HᵀT``, ``∂J/∂W`` summed over the ranks (the one-process result).
        """
        check_int(finetune_iters, "finetune_iters", minimum=0)
        check_positive(finetune_lr, "finetune_lr")
        check_int(rbm_epochs, "rbm_epochs", minimum=0)
        X, T, val = self._training_data(X, y, validation)
        records, start = self._resume(checkpoint) if resume else ([], 0)
        comm = get_communicator(comm)
        part = shard(range(len(X)), comm)
        rows = slice(part.start, part.stop)  # contiguous: a view, no copy
        broadcast_parameters(self.parameters(), comm)  # every rank starts from rank 0's weights
        progress = progress and comm.is_root
        lower, lower_v = None, None
        for m, block in enumerate(self.blocks):
            data = StackedInputs(X[rows], lower, T[rows], chunk)
            if m >= start:
                rec = self._fit_module(m, data, finetune_iters, finetune_lr, progress, seed,
                                       rbm_epochs, comm)
            lower, err = self._stack_prediction(block, data, lower, comm)
            if val is not None:
                vdata = StackedInputs(val[0], lower_v, val[1], chunk)
                lower_v, err_v = self._stack_prediction(block, vdata, lower_v)
            if m >= start:
                records.append(dict(rec, train_error=err, **({} if val is None else {"val_error": err_v})))
                if checkpoint is not None and comm.is_root:
                    save(checkpoint, self, extra={"dsn": {"modules_done": m + 1, "records": records}})
        self.records_ = records
        if backprop_epochs:
            self._backprop(X, T, val, backprop_epochs, optimizer, batch_size, callbacks, checkpoint,
                           resume, progress, seed, comm)
        return records

    def _training_data(self, X, y, validation) -> tuple:
        """``X``, its target matrix ``T`` and the checked ``validation`` pair (or None)."""
        X = self._inputs(X)
        T = self._targets(y, len(X))
        if validation is None:
            return X, T, None
        Xv = self._inputs(validation[0], "validation X")
        return X, T, (Xv, self._targets(validation[1], len(Xv), "validation y"))

    def _resume(self, checkpoint) -> tuple:
        """``(records, modules done)`` from the checkpoint, its weights loaded; none yet: ``([], 0)``."""
        if checkpoint is None or not Path(checkpoint).exists():
            return [], 0
        state = restore(checkpoint, self).extra["dsn"]
        return list(state["records"]), int(state["modules_done"])

    def _fit_module(self, m, data, iters, lr, progress, seed, rbm_epochs=0, comm=None) -> dict:
        block, t0 = self.blocks[m], time.perf_counter()
        if m > 0 and self.warm_start:
            below = self.blocks[m - 1]
            block.W.data[...] = 0
            block.W.data[:below.n_in] = below.W.data
            block.b.data[...] = below.b.data
        elif rbm_epochs:
            rbm_initialise(block, data, rbm_epochs, seed, progress, comm)
        if iters:
            step = FinetuneStep(block, SGD(block.lower.parameters(), lr=lr), self.ridge, comm=comm)
            Loop(step, epochs=iters, seed=seed, progress=progress,
                 desc=f"module {m + 1}/{self.n_modules} step").run(data)
            objective = step.finish(data)
        else:
            objective = solve_upper(block, data, self.ridge, need_v=False, comm=comm).objective
        return {"module": m + 1, "objective": objective, "time_s": time.perf_counter() - t0}

    def _stack_prediction(self, block, data, lower, comm=None):
        """``(lower predictions with y_m appended, error of y_m)`` on ``data`` (the error
        over every rank's rows with ``comm``)."""
        xp = get_array_module(data.X)
        y = xp.concatenate([block.forward(z) for z, _ in data], axis=0)
        T = asnumpy(data.T)
        yn = asnumpy(y)
        err = error_rate(T, yn) if self.targets == "classes" else float(((yn - T) ** 2).sum() / len(T))
        if comm is not None and comm.size > 1:
            total = allreduce_sum(np.array([err * len(T), len(T)], dtype=np.float64), comm)
            err = float(total[0] / total[1])
        return (y if lower is None else xp.concatenate([lower, y], axis=1)), err

    def _backprop(self, X, T, val, epochs, optimizer, batch_size, callbacks, checkpoint, resume,
                  progress, seed, comm=None):
        from ..losses import MSE
        from ..train.callbacks import ModelCheckpoint
        from ..train.supervised import fit
        opt = optimizer if optimizer is not None else Adam(self.parameters(), lr=1e-3)
        path = None if checkpoint is None else Path(checkpoint).with_suffix(".backprop.npz")
        metrics = ["accuracy"] if self.targets == "classes" else []
        self.backprop_history_ = fit(
            self, MSE(), opt, X, T, epochs=epochs, batch_size=batch_size, validation=val,
            seed=seed, progress=progress, metrics=metrics,
            callbacks=list(callbacks or []) + ([ModelCheckpoint(path)] if path else []),
            resume_from=path if resume and path is not None and path.exists() else None, comm=comm)
