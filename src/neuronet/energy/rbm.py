"""Restricted Boltzmann machine (lectures 000, 001; Hinton's practical guide, 2010).

Energy of a visible vector ``v`` (n units) and a hidden vector ``h`` (m units)::

    E(v, h) = β_v(v) + β_h(h) − vᵀa − hᵀb − vᵀWh

with ``W (n, m)``, visible bias ``a (n,)``, hidden bias ``b (m,)`` and the unit
types' own terms ``β`` (zero for Bernoulli and softmax units, ``½‖s‖²`` for
Gaussian units, ``Σ log s!`` for Poisson units; see :mod:`.units`). The layers
are conditionally independent::

    P(h | v) = Π_j P(h_j | b_j + Σ_i v_i w_ij),   P(v | h) = Π_i P(v_i | a_i + Σ_j w_ij h_j)

(for Bernoulli units ``P(h_j = 1 | v) = σ(b_j + Σ_i v_i w_ij)``), and the
free energy ``F(v) = −log Σ_h e^{−E(v, h)} = β_v(v) − vᵀa − Σ_j A_h(b_j + vᵀW_j)``
with ``A_h`` the hidden units' log-partition. ``P(v) = e^{−F(v)} / Z``.

The gradient of the negative mean log-likelihood of a batch is::

    ∂(−log P)/∂W = −(M[v hᵀ]_data − M[v hᵀ]_model)

(likewise for ``a`` with ``v`` and ``b`` with ``h``). Contrastive divergence
(CD-k) estimates the model term after ``k`` Gibbs steps started at the data;
persistent CD (PCD, Tieleman 2008) keeps the chains between updates. The
estimate is written into ``Parameter.grad``, so every optimiser of
:mod:`neuronet.optim` minimises it.
"""
from __future__ import annotations

import time
import warnings
from types import SimpleNamespace

import numpy as np

from .. import validation as V
from ..backend import get_default_dtype
from ..module import Module, Parameter
from ..random import make_rng
from .units import Units, make_units

__all__ = ["RBM"]


class RBM(Module):
    """A restricted Boltzmann machine with a pair of unit types.

    Parameters
    ----------
    n_visible, n_hidden : layer sizes ``n`` and ``m``.
    visible, hidden : unit types: ``'bernoulli'``, ``'gaussian'``, ``'poisson'``
        (visible), ``'softmax:K'``, or a :class:`~neuronet.energy.units.Units`.
        The lecture's pairings are Bernoulli–Bernoulli, Gaussian–Bernoulli,
        Gaussian–Gaussian and Poisson–Bernoulli.
    init_std : weights start as ``N(0, init_std²)`` (Hinton's guide: 0.01).
    rng, seed : the generator used for initialisation and sampling.
    dtype : parameter dtype (default ``nt.get_default_dtype()``, float32).

    Gaussian units have unit variance, so Gaussian data must be standardised
    (zero mean, unit variance per feature). A Gaussian–Gaussian RBM is a proper
    distribution only while the largest singular value of ``W`` is below 1.
    """

    def __init__(self, n_visible: int, n_hidden: int, visible="bernoulli", hidden="bernoulli",
                 init_std: float = 0.01, rng=None, seed=None, dtype=None):
        V.check_int(n_visible, "n_visible", minimum=1)
        V.check_int(n_hidden, "n_hidden", minimum=1)
        V.check_positive(init_std, "init_std", allow_zero=True)
        self.visible: Units = make_units(visible)
        self.hidden: Units = make_units(hidden)
        # a spec must stay JSON: keep unit types by name
        self._spec_args["visible"] = self.visible.spec()
        self._spec_args["hidden"] = self.hidden.spec()
        self.n_visible, self.n_hidden = int(n_visible), int(n_hidden)
        for units, n, which in ((self.visible, n_visible, "visible"), (self.hidden, n_hidden, "hidden")):
            if hasattr(units, "group_size") and n % units.group_size:
                raise ValueError(f"{which} softmax groups of {units.group_size} need a multiple of "
                                 f"{units.group_size} units, got {n}")
            if hasattr(units, "n_units") and n != units.n_units:
                raise ValueError(f"{which} units {units.spec()!r} have {units.n_units} units, "
                                 f"but n_{which}={n}")
        self._rng = make_rng(rng, seed)
        dtype = np.dtype(dtype or get_default_dtype())
        w = self._rng.standard_normal((n_visible, n_hidden)) * init_std
        self.W = Parameter(w.astype(dtype), name="W")
        self.a = Parameter(np.zeros(n_visible, dtype=dtype), name="a")
        self.b = Parameter(np.zeros(n_hidden, dtype=dtype), name="b")
        self.persistent_chains = None  # PCD fantasy particles (their hidden states)
        self.negative_samples_ = None
        self.n_updates_ = 0
        self._buffers = {}

    # ------------------------------------------------------------ utilities
    @property
    def dtype(self):
        return self.W.data.dtype

    def _on_dtype_change(self, dtype) -> None:
        self._buffers = {}
        if self.persistent_chains is not None:
            self.persistent_chains = self.persistent_chains.astype(dtype)

    def _as_input(self, x, layer: str = "visible", name: str = "v"):
        """``x`` as a 2-D float array of this model's dtype with the layer's width."""
        x = V.as_float_array(x, self.dtype, name)
        if x.ndim == 1:
            x = x[None, :]
        V.check_ndim(x, 2, name, "(N, units)")
        n = self.n_visible if layer == "visible" else self.n_hidden
        V.check_features(x, n, name=name, what=f"{layer} units")
        return x

    def _check_data(self, X, name="X"):
        """Validate training/evaluation data: shape, finiteness and the unit type's range."""
        X = self._as_input(X, "visible", name)
        V.check_finite(X, name)
        self.visible.check(X, name)
        return X

    def _rng_or(self, rng):
        return self._rng if rng is None else make_rng(rng)

    # --------------------------------------------------------------- energy
    def hidden_input(self, v):
        """``b + vᵀW``: the total input of each hidden unit, ``(N, m)``."""
        return v @ self.W.data + self.b.data

    def visible_input(self, h):
        """``a + W h``: the total input of each visible unit, ``(N, n)``."""
        return h @ self.W.data.T + self.a.data

    def energy(self, v, h):
        """``E(v, h) = β_v(v) + β_h(h) − vᵀa − hᵀb − vᵀWh`` per row, shape ``(N,)``."""
        v = self._as_input(v, "visible", "v")
        h = self._as_input(h, "hidden", "h")
        return (self.visible.base_energy(v) + self.hidden.base_energy(h) - v @ self.a.data
                - h @ self.b.data - ((v @ self.W.data) * h).sum(axis=1))

    def free_energy(self, v):
        """``F(v) = β_v(v) − vᵀa − Σ_j A_h(b_j + vᵀW_j)`` per row; ``P(v) = e^{−F(v)}/Z``.

        For Bernoulli hiddens ``A_h(x) = log(1 + eˣ)``; Gaussian ``x²/2 + ½ log 2π``.
        """
        v = self._as_input(v, "visible", "v")
        return self.visible.base_energy(v) - v @ self.a.data - self.hidden.log_partition(self.hidden_input(v))

    def mean_hidden(self, v):
        """``E[h | v]`` (for Bernoulli hiddens ``P(h_j = 1 | v) = σ(b_j + Σ_i v_i w_ij)``)."""
        return self.hidden.mean(self.hidden_input(self._as_input(v, "visible", "v")))

    def sample_hidden(self, v, rng=None):
        """A draw ``h ~ P(h | v)``."""
        return self.hidden.sample(self.mean_hidden(v), self._rng_or(rng))

    def mean_visible(self, h):
        """``E[v | h]`` (for Bernoulli visibles ``σ(a_i + Σ_j w_ij h_j)``)."""
        return self.visible.mean(self.visible_input(self._as_input(h, "hidden", "h")))

    def sample_visible(self, h, rng=None):
        """A draw ``v ~ P(v | h)``."""
        return self.visible.sample(self.mean_visible(h), self._rng_or(rng))

    def gibbs(self, v, k: int = 1, rng=None, return_mean: bool = False):
        """``k`` steps of block Gibbs sampling ``v → h ~ P(h|v) → v ~ P(v|h)``.

        Returns the last visible sample (or, with ``return_mean``, its mean
        ``E[v | h]`` from the last step).
        """
        V.check_int(k, "k", minimum=1)
        rng = self._rng_or(rng)
        v = self._as_input(v, "visible", "v")
        mean = None
        for _ in range(k):
            h = self.hidden.sample(self.hidden.mean(self.hidden_input(v)), rng)
            mean = self.visible.mean(self.visible_input(h))
            v = self.visible.sample(mean, rng)
        return mean if return_mean else v

    def forward(self, x):
        """Hidden means ``E[h | x]`` (an RBM used as a feature layer)."""
        return self.mean_hidden(x)

    def to_layers(self, decoder: bool = False) -> list:
        """The up-pass as trainable layers for fine-tuning (DBN, autoencoder unrolling).

        ``[Dense(n, m) with W, b] + [Sigmoid()]`` computes ``E[h | v]`` (the
        activation is the hidden units' mean: sigmoid for Bernoulli, none for
        Gaussian); ``decoder=True`` gives the down-pass ``E[v | h]``:
        ``Dense(m, n)`` with ``Wᵀ, a`` and the visible units' mean. Weights are copies.
        """
        from ..layers import Dense, Sigmoid

        units, n_in, n_out = (self.visible, self.n_hidden, self.n_visible) if decoder else \
            (self.hidden, self.n_visible, self.n_hidden)
        if units.name not in ("bernoulli", "gaussian"):
            raise ValueError(f"to_layers supports Bernoulli and Gaussian units, this layer has {units.name} units")
        dense = Dense(n_in, n_out, dtype=self.dtype)
        dense.W.data[...] = self.W.data.T if decoder else self.W.data
        dense.b.data[...] = self.a.data if decoder else self.b.data
        return [dense, Sigmoid()] if units.name == "bernoulli" else [dense]

    def transform(self, X, batch_size: int = 4096):
        """Hidden means ``E[h | x]`` for every row of ``X`` (the learned features)."""
        X = self._check_data(X)
        return np.concatenate([self.hidden.mean(self.hidden_input(X[i:i + batch_size]))
                               for i in range(0, max(len(X), 1), batch_size)])[:len(X)]

    def reconstruct(self, X, batch_size: int = 4096):
        """Mean-field reconstruction ``E[v | h = E[h | x]]`` of every row of ``X``."""
        X = self._check_data(X)
        out = [self.visible.mean(self.visible_input(self.hidden.mean(self.hidden_input(X[i:i + batch_size]))))
               for i in range(0, max(len(X), 1), batch_size)]
        return np.concatenate(out)[:len(X)]

    def reconstruction_error(self, X, batch_size: int = 4096) -> float:
        """Mean over rows of ``‖x − reconstruct(x)‖²`` (sum over visible units)."""
        X = self._check_data(X)
        total = 0.0
        for i in range(0, len(X), batch_size):
            xb = X[i:i + batch_size]
            r = self.visible.mean(self.visible_input(self.hidden.mean(self.hidden_input(xb))))
            d = (xb - r).ravel()
            total += float(d @ d)
        return total / max(len(X), 1)

    def sample(self, n: int, steps: int = 1000, init=None, rng=None, return_mean: bool = False):
        """``n`` samples from the model: ``steps`` Gibbs steps from ``init``.

        ``init`` (``(n, n_visible)``) defaults to draws from the visible units
        with the weights ignored, ``v ~ P(v | h = 0)`` (the visible biases).
        """
        V.check_int(n, "n", minimum=1)
        V.check_int(steps, "steps", minimum=1)
        rng = self._rng_or(rng)
        if init is None:
            base = np.broadcast_to(self.a.data, (n, self.n_visible))
            init = self.visible.sample(self.visible.mean(np.array(base)), rng)
        return self.gibbs(init, k=steps, rng=rng, return_mean=return_mean)

    # -------------------------------------------------------------- gradient
    def _buf(self, n_pos: int, n_neg: int):
        """Preallocated arrays for a CD/PCD update with ``n_pos`` data rows and ``n_neg`` chains."""
        key = (n_pos, n_neg)
        buf = self._buffers.get(key)
        if buf is None:
            dt, nv, nh, rows = self.dtype, self.n_visible, self.n_hidden, n_pos + n_neg
            s = np.concatenate([np.full(n_pos, -1.0 / n_pos), np.full(n_neg, 1.0 / n_neg)]).astype(dt)
            buf = {"V": np.empty((rows, nv), dt), "H": np.empty((rows, nh), dt),
                   "Hs": np.empty((n_neg, nh), dt), "VT": np.empty((nv, n_neg), dt),
                   "D": np.empty((n_pos, nv), dt), "s": s, "Wtmp": np.empty_like(self.W.data)}
            if len(self._buffers) > 8:  # many batch sizes: keep memory bounded
                self._buffers.clear()
            self._buffers[key] = buf
        return buf

    def _cd_statistics(self, v0, k, persistent, sample_visible, sample_hidden_reconstruction,
                       rng, n_chains=None):
        """Run the positive and negative phases; fill the buffers ``V``, ``H``.

        ``V[:N]``/``H[:N]`` hold the data and ``E[h | data]``, ``V[N:]``/``H[N:]``
        the negative (model) statistics. Returns ``(buf, recon_error or None)``.
        """
        W, b = self.W.data, self.b.data
        N = v0.shape[0]
        if persistent:
            if self.persistent_chains is None or (n_chains and len(self.persistent_chains) != n_chains):
                self.persistent_chains = self._start_chains(n_chains or N, rng)
            C = len(self.persistent_chains)
        else:
            C = N
        buf = self._buf(N, C)
        Vb, Hb, Hs = buf["V"], buf["H"], buf["Hs"]
        vpos, hpos, vneg, hneg = Vb[:N], Hb[:N], Vb[N:], Hb[N:]
        if not (v0.shape == vpos.shape and v0.ctypes.data == vpos.ctypes.data):
            vpos[...] = v0  # fit() gathers batches straight into the buffer
        sample_v = sample_visible or persistent  # a persistent chain must stay a Markov chain
        recon = None
        if persistent:
            # the chains' visible half-step does not depend on the data, so the data's
            # and the chains' hidden means come from ONE GEMM over the stacked [v⁺; v⁻]
            self._visible_step(self.persistent_chains, vneg, buf["VT"], rng, sample_v)
            np.matmul(Vb, W, out=Hb)
            Hb += b
            self.hidden.mean(Hb, out=Hb)
            first = 1
        else:
            np.matmul(vpos, W, out=hpos)  # positive phase: E[h | data]
            hpos += b
            self.hidden.mean(hpos, out=hpos)
            first = 0
        for step in range(first, k):
            h = self.hidden.sample(hneg if step else hpos, rng, out=Hs)
            if step == 0:  # CD's reconstruction error, from the mean of the first step
                self._visible_step(h, vneg, buf["VT"], rng, False)
                d = buf["D"]
                np.subtract(vpos, vneg, out=d)
                flat = d.ravel()
                recon = float(np.dot(flat, flat)) / N
                if sample_v:
                    self.visible.sample(vneg, rng, out=vneg)
            else:
                self._visible_step(h, vneg, buf["VT"], rng, sample_v)
            np.matmul(vneg, W, out=hneg)
            hneg += b
            self.hidden.mean(hneg, out=hneg)
        if persistent:
            self.hidden.sample(hneg, rng, out=self.persistent_chains)
        if sample_hidden_reconstruction:
            self.hidden.sample(hneg, rng, out=hneg)
        self.negative_samples_ = vneg  # the model's side of the last update (a view of a buffer)
        return buf, recon

    def _visible_step(self, h, out, vt, rng, sample):
        """``out := E[v | h]`` (or a sample of it) for rows ``h``, without allocation.

        ``W h`` is formed as ``(W hᵀ)ᵀ`` in ``vt (n, C)``: BLAS streams ``W`` in its
        own row order, markedly faster than ``h Wᵀ`` for small batches.
        """
        np.matmul(self.W.data, h.T, out=vt)
        out[...] = vt.T
        out += self.a.data
        self.visible.mean(out, out=out)
        if sample:
            self.visible.sample(out, rng, out=out)
        return out

    def _start_chains(self, n, rng):
        """Hidden states of ``n`` new PCD chains: ``h ~ P(h | v)``, ``v`` drawn from the visible biases."""
        v = self.visible.sample(self.visible.mean(np.array(np.broadcast_to(self.a.data, (n, self.n_visible)))), rng)
        return self.hidden.sample(self.hidden.mean(self.hidden_input(v)), rng)

    def _write_gradient(self, buf, add: bool):
        """``grad = −(M[v hᵀ]_data − M[v hᵀ]_model)`` (and the biases) from the buffers.

        One GEMM: with ``s = (−1/N, …, −1/N, 1/C, …, 1/C)``,
        ``∂/∂W = Vᵀ diag(s) H``, ``∂/∂a = sᵀV``, ``∂/∂b = sᵀH``.
        """
        Vb, Hb, s = buf["V"], buf["H"], buf["s"]
        W, a, b = self.W, self.a, self.b
        if add:
            a.grad += s @ Vb
            b.grad += s @ Hb
            Hb *= s[:, None]
            W.grad += Vb.T @ Hb
        else:
            np.matmul(s, Vb, out=a.grad)
            np.matmul(s, Hb, out=b.grad)
            Hb *= s[:, None]
            np.matmul(Vb.T, Hb, out=W.grad)

    def _add_weight_cost(self, weight_decay, l1, buf):
        """Add the penalty's gradient ``λ₂W + λ₁ sign(W)`` (weights only, not biases)."""
        if not weight_decay and not l1:
            return
        tmp = buf["Wtmp"]
        if weight_decay:
            np.multiply(self.W.data, weight_decay, out=tmp)
            self.W.grad += tmp
        if l1:
            np.sign(self.W.data, out=tmp)
            tmp *= l1
            self.W.grad += tmp

    def gradient(self, v, k: int = 1, persistent: bool = False, n_chains=None,
                 sample_visible: bool = False, sample_hidden_reconstruction: bool = False,
                 weight_decay: float = 0.0, l1: float = 0.0, rng=None) -> float | None:
        """ADD the CD-k (or PCD-k) estimate of ``∂(−mean log P(v))/∂θ`` into ``p.grad``.

        ``sample_visible``: use sampled instead of mean visible states in the
        negative phase of CD (the lecture advises the mean; PCD always samples them,
        since its persistent chain must stay a Markov chain);
        ``sample_hidden_reconstruction``: use sampled hidden states of the
        reconstruction (advised: the means ``E[h | v_k]``).
        Returns the reconstruction error of the first step (CD only).
        """
        V.check_int(k, "k", minimum=1)
        v = self._check_data(v, "v")
        buf, recon = self._cd_statistics(v, k, persistent, sample_visible, sample_hidden_reconstruction,
                                         self._rng_or(rng), n_chains)
        self._write_gradient(buf, add=True)
        self._add_weight_cost(weight_decay, l1, buf)
        return recon

    # ------------------------------------------------------------- training
    def partial_fit(self, batch, optimizer=None, k: int = 1, persistent: bool = False, n_chains=None,
                    lr: float = 0.1, sample_visible: bool = False,
                    sample_hidden_reconstruction: bool = False, weight_decay: float = 1e-4,
                    l1: float = 0.0, check: bool = True):
        """One update on ``batch``: gradient into ``p.grad``, then ``optimizer.step()``.

        Without ``optimizer`` a plain SGD step ``θ := θ − lr·grad`` is taken.
        Returns the reconstruction error (CD) or None (PCD).
        """
        V.check_int(k, "k", minimum=1)
        v = self._check_data(batch, "batch") if check else batch
        buf, recon = self._cd_statistics(v, k, persistent, sample_visible, sample_hidden_reconstruction,
                                         self._rng, n_chains)
        self._write_gradient(buf, add=False)
        self._add_weight_cost(weight_decay, l1, buf)
        if optimizer is None:
            for p in self.parameters():
                p.grad *= -lr
                p.data += p.grad
                p.grad[...] = 0
        else:
            optimizer.step()
        self.n_updates_ += 1
        return recon

    def fit(self, X, epochs: int = 10, batch_size: int = 100, k: int = 1, persistent: bool = False,
            n_chains=None, lr=None, momentum=None, momentum_switch_epoch: int = 5,
            weight_decay: float = 1e-4, l1: float = 0.0, sample_visible: bool = False,
            sample_hidden_reconstruction: bool = False, validation=None, callbacks=None, seed=None,
            optimizer=None, shuffle: bool = True, verbose: bool = True, init_visible_bias: bool = True,
            checkpoint=None, resume_from=None, monitor_size: int = 1000):
        """Train by CD-k (``persistent=False``) or PCD-k on the rows of ``X``.

        Defaults follow Hinton's practical guide: ``lr`` 0.1 (0.01 for Gaussian or
        Poisson visibles), momentum 0.5 for the first ``momentum_switch_epoch``
        epochs then 0.9 (``momentum=None``; a number keeps it fixed), weight cost
        ``1e-4`` on ``W`` (L2; ``l1`` adds ``λ₁ sign(W)``), and visible biases
        ``log(p/(1−p))`` from the data (``init_visible_bias``, first fit only).
        ``optimizer`` (any :mod:`neuronet.optim` optimiser over
        ``self.parameters()``) replaces the momentum rule.

        ``validation`` (an array of held-out rows) adds ``val_recon_error`` and
        ``free_energy_gap`` (mean F(validation) − mean F(training subset)) to each
        epoch's record. ``callbacks``: :mod:`neuronet.train.callbacks` objects
        (``ValidationStopping``/``EarlyStopping`` on ``'val_recon_error'``, LR
        schedules, ...): hooks ``on_train_begin(trainer)``, ``on_epoch_begin(trainer,
        epoch)``, ``on_epoch_end(trainer, epoch, logs)``, ``on_train_end(trainer)``
        with ``trainer.model``, ``trainer.optimizer``, ``trainer.stop_training``. ``checkpoint``: a
        path written after every epoch (model, optimiser, RNG, chains);
        ``resume_from`` continues from such a file.

        Returns a dict of per-epoch lists (``recon_error``, ...).
        """
        from .. import optim  # the optimisers live in the engine package

        V.check_int(epochs, "epochs", minimum=0)
        V.check_int(batch_size, "batch_size", minimum=1)
        V.check_int(k, "k", minimum=1)
        if n_chains is not None:
            V.check_int(n_chains, "n_chains", minimum=1)
        V.check_positive(weight_decay, "weight_decay", allow_zero=True)
        V.check_positive(l1, "l1", allow_zero=True)
        X = self._check_data(X, "X")
        self.visible.warn_if_unsuitable(X, "X")
        if validation is not None:
            validation = self._check_data(validation, "validation")
        if lr is None:
            lr = 0.1 if self.visible.name in ("bernoulli", "softmax") else 0.01
        V.check_positive(lr, "lr")
        if seed is not None:
            self._rng = make_rng(seed=seed)
        rng = self._rng
        if init_visible_bias and self.n_updates_ == 0 and resume_from is None:
            self.a.data[...] = self.visible.init_bias(X)
        schedule = momentum is None and optimizer is None  # never override a user's optimiser
        if optimizer is None:
            m0 = 0.5 if schedule else float(momentum)
            optimizer = optim.Momentum(self.parameters(), lr=lr, momentum=m0) if m0 > 0 \
                else optim.SGD(self.parameters(), lr=lr)
        history = {"epoch": [], "recon_error": [], "time": []}
        start_epoch = 0
        if resume_from is not None:
            start_epoch, saved = self._resume(resume_from, optimizer)
            history.update({key: list(v) for key, v in saved.items()})
        callbacks = list(callbacks or [])
        # the training loop's callback protocol (neuronet.train.callbacks): hooks get a
        # trainer with .model, .optimizer, .stop_training; epochs are numbered from 1
        trainer = SimpleNamespace(model=self, optimizer=optimizer, stop_training=False, history=history)
        _hook(callbacks, "on_train_begin", trainer)
        n = len(X)
        # a fixed, evenly spread subset (no RNG draw, so a resumed run stays identical)
        monitor_rows = np.linspace(0, n - 1, min(monitor_size, n)).astype(np.int64)
        for epoch in range(start_epoch, epochs):
            _hook(callbacks, "on_epoch_begin", trainer, epoch + 1)
            if schedule and hasattr(optimizer, "momentum"):
                optimizer.momentum = 0.5 if epoch < momentum_switch_epoch else 0.9
            t0 = time.perf_counter()
            order = rng.permutation(n) if shuffle else np.arange(n)
            bar = _progress(n, epoch, epochs, verbose)
            total, count = 0.0, 0
            for i in range(0, n, batch_size):
                idx = order[i:i + batch_size]
                N = len(idx)
                C = (n_chains or batch_size) if persistent else N
                buf = self._buf(N, C)
                vpos = buf["V"][:N]
                np.take(X, idx, axis=0, out=vpos)
                recon = self.partial_fit(vpos, optimizer, k=k, persistent=persistent,
                                         n_chains=n_chains or batch_size, lr=lr,
                                         sample_visible=sample_visible,
                                         sample_hidden_reconstruction=sample_hidden_reconstruction,
                                         weight_decay=weight_decay, l1=l1, check=False)
                if recon is not None:
                    total += recon * N
                    count += N
                if bar is not None:
                    bar.update(N)
                    if count and (i // batch_size) % 50 == 0:
                        bar.set_postfix(recon=f"{total / count:.3f}", refresh=False)
            if not np.isfinite(self.W.data).all():
                raise FloatingPointError(
                    f"RBM weights became NaN or infinite in epoch {epoch + 1}; lower the learning "
                    f"rate (lr={lr}) or standardise the data")
            # mean-field error on a fixed training subset: comparable with val_recon_error
            logs = {"epoch": epoch + 1, "recon_error": self.reconstruction_error(X[monitor_rows]),
                    "time": time.perf_counter() - t0}
            if count:
                logs["cd_recon_error"] = total / count  # with sampled hiddens, as CD sees it
            if validation is not None:
                logs["val_recon_error"] = self.reconstruction_error(validation)
                logs["free_energy_gap"] = float(self.free_energy(validation[:len(monitor_rows)]).mean()
                                                - self.free_energy(X[monitor_rows]).mean())
            if bar is not None:
                bar.set_postfix({k_: f"{v_:.3f}" for k_, v_ in logs.items() if k_ != "epoch"})
                bar.close()
            for key, value in logs.items():
                history.setdefault(key, []).append(value)
            if checkpoint is not None:
                self.save_checkpoint(checkpoint, optimizer, epoch + 1, history)
            _hook(callbacks, "on_epoch_end", trainer, epoch + 1, logs)
            if trainer.stop_training:
                break
        _hook(callbacks, "on_train_end", trainer)
        self.optimizer_ = optimizer
        self.history_ = history
        return history

    # --------------------------------------------------------- checkpoints
    def save_checkpoint(self, path, optimizer=None, epoch: int = 0, history=None):
        """Write model, optimiser state, RNG state and PCD chains to ``path`` (nt.save)."""
        from ..io import save

        extra = {"n_updates": int(self.n_updates_), "history": history or {}}
        if self.persistent_chains is not None:
            extra["persistent_chains"] = self.persistent_chains
        return save(path, self, optimizer, epoch=epoch, rng=self._rng, extra=extra)

    def _resume(self, path, optimizer) -> int:
        from ..io import restore

        ck = restore(path, self, optimizer)
        extra = ck.extra or {}
        self.n_updates_ = int(extra.get("n_updates", 0))
        chains = extra.get("persistent_chains")
        self.persistent_chains = None if chains is None else np.asarray(chains, dtype=self.dtype)
        if ck.rng_state is not None:
            self._rng.bit_generator.state = ck.rng_state
        return int(ck.epoch or 0), dict(extra.get("history") or {})


def _hook(callbacks, name, *args):
    for cb in callbacks:
        fn = getattr(cb, name, None)
        if fn is not None:
            fn(*args)


def _progress(n, epoch, epochs, verbose):
    if not verbose:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        warnings.warn("tqdm is not installed: no progress bar", RuntimeWarning, stacklevel=3)
        return None
    return tqdm(total=n, desc=f"RBM epoch {epoch + 1}/{epochs}", unit="ex", leave=True)
