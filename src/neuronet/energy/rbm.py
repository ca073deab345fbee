"""Restricted Boltzmann machine (lectures 000, 001; Hinton's practical guide, 2010).

Energy of a visible vector ``v`` (n units) and a hidden vector ``h`` (m units)::

    E(v, h) = β_v(v) + β_h(h) − vᵀa − hᵀb − vᵀWh

with ``W (n, m)``, biases ``a (n,)``, ``b (m,)`` and the unit types' own terms ``β``
(0 for Bernoulli and softmax, ``½‖s‖²`` Gaussian, ``Σ log s!`` Poisson; :mod:`.units`).
The layers are conditionally independent::

    P(h | v) = Π_j P(h_j | b_j + Σ_i v_i w_ij),   P(v | h) = Π_i P(v_i | a_i + Σ_j w_ij h_j)

(Bernoulli: ``P(h_j = 1 | v) = σ(b_j + Σ_i v_i w_ij)``); the free energy is
``F(v) = −log Σ_h e^{−E(v, h)} = β_v(v) − vᵀa − Σ_j A_h(b_j + vᵀW_j)`` (``A_h``
the hidden units' log-partition), ``P(v) = e^{−F(v)} / Z``.

The gradient of the negative mean log-likelihood of a batch is::

    ∂(−log P)/∂W = −(M[v hᵀ]_data − M[v hᵀ]_model)

(``a`` with ``v``, ``b`` with ``h``); its CD-k/PCD-k estimates are in :mod:`.cd`, and
``fit`` runs the CD step on the one training loop (:mod:`.rbm_step`).
"""
from __future__ import annotations

import numpy as np

from .. import validation as V
from ..backend import device_of, get_array_module, get_default_dtype
from ..module import Parameter
from ..random import make_rng
from .base import EnergyModel
from .cd import ContrastiveDivergence
from .rbm_step import RBMStep, _optimizer, fit_rbm
from .units import Units, make_units

__all__ = ["RBM"]


class RBM(EnergyModel):
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
        self.rng = make_rng(rng, seed)
        dtype = np.dtype(dtype or get_default_dtype())
        w = self.rng.standard_normal((n_visible, n_hidden)) * init_std
        self.W = Parameter(w.astype(dtype), name="W")
        # the weight cost (the optimiser's weight_decay / l1) is on W only, not on the biases
        self.a = Parameter(np.zeros(n_visible, dtype=dtype), name="a", decay=False)
        self.b = Parameter(np.zeros(n_hidden, dtype=dtype), name="b", decay=False)
        self.persistent_chains = None  # PCD fantasy particles (their hidden states)
        self.negative_samples_ = None
        self.n_updates_ = 0
        self._buffers = {}

    # ------------------------------------------------------------ utilities
    @property
    def dtype(self):
        return self.W.data.dtype

    _state_arrays = ("persistent_chains",)  # moved and cast with the parameters (Module.to)

    def _as_input(self, x, layer: str = "visible", name: str = "v"):
        """``x`` as a 2-D float array of this model's dtype and device with the layer's width."""
        x = V.as_float_array(x, self.dtype, name, like=self.W.data)
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
        if X.shape[0]:  # zero rows have no range to check; fit refuses them, transform returns (0, m)
            self.visible.check(X, name)
        return X

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
        dense = Dense(n_in, n_out, dtype=self.dtype).to(device_of(self.W.data))  # beside the RBM
        dense.W.data[...] = self.W.data.T if decoder else self.W.data
        dense.b.data[...] = self.a.data if decoder else self.b.data
        return [dense, Sigmoid()] if units.name == "bernoulli" else [dense]

    def transform(self, X, batch_size: int = 4096):
        """Hidden means ``E[h | x]`` for every row of ``X`` (the learned features)."""
        X = self._check_data(X)
        return get_array_module(X).concatenate([self.hidden.mean(self.hidden_input(X[i:i + batch_size]))
                               for i in range(0, max(len(X), 1), batch_size)])[:len(X)]

    def reconstruct(self, X, batch_size: int = 4096):
        """Mean-field reconstruction ``E[v | h = E[h | x]]`` of every row of ``X``."""
        X = self._check_data(X)
        out = [self.visible.mean(self.visible_input(self.hidden.mean(self.hidden_input(X[i:i + batch_size]))))
               for i in range(0, max(len(X), 1), batch_size)]
        return get_array_module(X).concatenate(out)[:len(X)]

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
            xp = get_array_module(self.a.data)
            base = xp.broadcast_to(self.a.data, (n, self.n_visible))
            init = self.visible.sample(self.visible.mean(xp.array(base)), rng)
        return self.gibbs(init, k=steps, rng=rng, return_mean=return_mean)

    # ------------------------------------------------------------- training
    def gradient(self, v, k: int = 1, persistent: bool = False, n_chains=None,
                 sample_visible: bool = False, sample_hidden_reconstruction: bool = False,
                 weight_decay: float = 0.0, l1: float = 0.0, rng=None, check: bool = True) -> float | None:
        """ADD the CD-k (or PCD-k) estimate of ``∂(−mean log P(v))/∂θ`` into ``p.grad``
        (:class:`~neuronet.energy.cd.ContrastiveDivergence`). ``weight_decay``/``l1`` add
        ``λ₂W + λ₁ sign W`` to ``W.grad`` for a hand-made step whose optimiser has no weight
        cost (``fit`` never passes them: its cost is the optimiser's). Returns CD's
        reconstruction error of the first step (PCD: None). ``check=False``: ``v`` is taken as
        checked (a training step's own rows: the range check would copy to the host)."""
        v = self._check_data(v, "v") if check else v
        cd = ContrastiveDivergence(k, persistent, n_chains, sample_visible, sample_hidden_reconstruction)
        recon = cd(self, v, self._rng_or(rng), add=True).get("cd_recon_error")
        if V.check_positive(weight_decay, "weight_decay", allow_zero=True):
            self.W.grad += weight_decay * self.W.data
        if V.check_positive(l1, "l1", allow_zero=True):
            self.W.grad += l1 * get_array_module(self.W.data).sign(self.W.data)
        return recon

    def partial_fit(self, batch, optimizer=None, k: int = 1, persistent: bool = False, n_chains=None,
                    lr=None, weight_decay=None, l1=None, sample_visible: bool = False,
                    sample_hidden_reconstruction: bool = False) -> dict:
        """One update on ``batch``: the CD/PCD gradient into ``p.grad``, then
        ``optimizer.step()`` (an ``nt.optim`` optimiser over ``self.parameters()``; without
        one, a plain SGD step with ``lr`` and the weight cost ``weight_decay``/``l1`` on
        ``W``, defaults as in :meth:`fit`). Returns the step's metrics (``loss``, and
        ``cd_recon_error`` for CD)."""
        opt, _ = _optimizer(self, optimizer, lr, None if optimizer is not None else 0.0, weight_decay, l1)
        cd = ContrastiveDivergence(k, persistent, n_chains, sample_visible, sample_hidden_reconstruction)
        metrics = RBMStep(self, opt, cd).compute((self._check_data(batch, "batch"),))
        opt.step()
        return metrics

    def fit(self, X, epochs: int = 10, batch_size: int = 100, k: int = 1, persistent: bool = False,
            n_chains=None, lr=None, momentum=None, momentum_switch_epoch: int = 5,
            weight_decay=None, l1=None, sample_visible: bool = False,
            sample_hidden_reconstruction: bool = False, validation=None, callbacks=None, seed=None,
            optimizer=None, shuffle: bool = True, verbose: bool = True, init_visible_bias: bool = True,
            checkpoint=None, resume_from=None, monitor_size: int = 1000, comm=None) -> dict:
        """Train by CD-k (``persistent=False``) or PCD-k on the rows of ``X`` on the one
        training loop (:class:`~neuronet.energy.rbm_step.RBMStep`).

        Defaults follow Hinton's practical guide: ``lr`` 0.1 (0.01 for Gaussian or
        Poisson visibles), momentum 0.5 up to epoch ``momentum_switch_epoch`` then 0.9
        (``momentum=None``; a number in [0, 1) keeps it fixed), weight cost
        ``weight_decay`` 1e-4 on ``W`` (L2; ``l1`` adds ``λ₁ sign(W)``; the biases carry
        none), and visible biases ``log(p/(1−p))`` from the data (``init_visible_bias``,
        first fit only). ``optimizer`` (any ``nt.optim`` optimiser over
        ``self.parameters()``) replaces that rule: ``lr``, ``momentum``, ``weight_decay``
        and ``l1`` are then its own, and giving them too is a ``ValueError``.

        ``validation`` (held-out rows) adds ``val_recon_error`` and ``free_energy_gap``
        to each epoch's record. ``callbacks``: any :mod:`neuronet.train.callbacks`
        (``EarlyStopping('val_recon_error')``, LR schedules, ``ModelCheckpoint``,
        ``ProgressBar``); ``checkpoint=path`` is ``ModelCheckpoint(path)``;
        ``resume_from`` continues such a run bit for bit (weights, optimiser, the RBM's
        generator, PCD chains, epoch, history). ``verbose``: a progress bar. ``comm``
        (``neuronet.distributed``): data-parallel, every rank given the same ``X``; the
        CD/PCD statistics of the combined batch by one allreduce, each rank sampling its
        own stream and ``n_chains / R`` persistent chains (all saved in checkpoints).

        Returns a dict of per-epoch lists: ``epoch``, ``loss`` (the energy gap between
        data and negative particles whose gradient CD follows), ``cd_recon_error`` (CD),
        ``recon_error``, ``val_recon_error``, ``free_energy_gap``, ``q``, ``lr``, ``time``.
        """
        kw = dict(locals())
        del kw["self"], kw["X"]
        return fit_rbm(self, X, **kw)
