"""Deep belief net: a stack of RBMs trained greedily, bottom-up (lectures 000, 004;
Hinton, Osindero & Teh 2006; Hinton & Salakhutdinov 2006).

RBM ``l`` models the hidden means of RBM ``l − 1``::

    x⁰ = X,   x^l = E[h | x^{l−1}] = σ(b_l + x^{l−1} W_l)      (the up-pass)

and is trained on them by CD-1 with Hinton's ``rbm.m`` recipe (lr 0.1, momentum
0.5 → 0.9 after epoch 5, weight cost 2·10⁻⁴, probabilities for the
reconstructions). The greedy argument: with ``Q(h|v) = P₁(h|v)``::

    log p(v) ≥ Σ_h Q(h|v) [log p₂(h) + log P₁(v|h)] + H(Q(·|v))

with equality when the second RBM is the first one turned over (``W₂ = W₁ᵀ``);
training it on samples of ``Q`` raises ``Σ_v Σ_h Q log p₂(h)`` and so the bound
(:meth:`DBN.log_likelihood_bound` checks both by enumeration).

``to_network()`` is the up-pass as a ``Sequential`` (Dense + Sigmoid per RBM, an
output layer on top if asked) for backprop fine-tuning (lecture 004: "add an
output layer and train with a teacher"). With ``n_labels`` the top RBM is joined
to a softmax group of label units (Hinton et al. 2006); the generative use of
such a net (classification by free energy, up-down fine-tuning, sampling a
chosen class) is in :mod:`.dbn_generative`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import validation as V
from ..backend import device_of, get_array_module, get_default_dtype
from ..distributed import get_communicator
from ..random import make_rng
from . import dbn_bound, dbn_generative as G
from .base import EnergyModel
from .rbm import RBM
from .units import make_units

__all__ = ["DBN", "PRETRAIN_DEFAULTS"]

#: Hinton's ``rbm.m`` (with the momentum switch of RBM.fit: 0.5, then 0.9 after epoch 5)
PRETRAIN_DEFAULTS = {"lr": 0.1, "weight_decay": 2e-4, "k": 1, "momentum": None}


def _as_list(value, n: int, name: str) -> list:
    """``value`` repeated ``n`` times, or a list of exactly ``n`` per-layer values."""
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"{name} must be one value or a list of {n} (one per RBM), got {len(value)}")
        return list(value)
    return [value] * n


def _with_labels(data, y, K: int):
    """``[data, one_hot(y)]``, the one-hot rows made on the data's device."""
    xp = get_array_module(data)
    return xp.concatenate([data, xp.eye(K, dtype=data.dtype)[xp.asarray(y)]], axis=1)


class DBN(EnergyModel):
    """A deep belief net of ``len(sizes) − 1`` RBMs, ``sizes[l] → sizes[l+1]``.

    Parameters
    ----------
    sizes : layer widths, data first, e.g. ``[784, 500, 500, 2000]``.
    visible : unit type of the data layer (``'bernoulli'`` or ``'gaussian'``).
    hidden : unit type of every hidden layer, or a list, one per RBM (a
        ``'gaussian'`` top layer is the deep autoencoder's linear code).
    n_labels : with ``K > 0`` the top RBM's visible layer is
        ``sizes[-2]`` units plus a softmax group of ``K`` labels.
    init_std, rng, seed, dtype : as for :class:`~neuronet.energy.RBM`.
    """

    def __init__(self, sizes, visible="bernoulli", hidden="bernoulli", n_labels: int = 0,
                 init_std: float = 0.01, rng=None, seed=None, dtype=None):
        self.sizes = V.check_sizes(sizes, "sizes", min_len=2, what="layer widths (data first)")
        self._spec_args["sizes"] = list(self.sizes)
        self.n_labels = V.check_int(n_labels, "n_labels", minimum=0)
        if self.n_labels == 1:
            raise ValueError("n_labels must be 0 (no labels) or at least 2 classes, got 1")
        L = len(self.sizes) - 1
        hidden = _as_list(hidden, L, "hidden")
        kinds = [visible] + hidden
        self._spec_args["hidden"] = [h if isinstance(h, str) else h.spec() for h in hidden]
        self.data_units = make_units(visible)
        self._spec_args["visible"] = self.data_units.spec()
        self._rng = make_rng(rng, seed)
        dtype = dtype or get_default_dtype()
        self.rbms = []
        for layer in range(L):
            n_in, vis = self.sizes[layer], kinds[layer]
            if self.n_labels and layer == L - 1:
                name = vis if isinstance(vis, str) else vis.spec()
                vis = f"{name}*{n_in}+softmax:{self.n_labels}*{self.n_labels}"
                n_in += self.n_labels
            # a generator of its own (not the DBN's): checkpoints restore each one's state
            self.rbms.append(RBM(n_in, self.sizes[layer + 1], visible=vis, hidden=hidden[layer],
                                 init_std=init_std, seed=int(self._rng.integers(2 ** 62)), dtype=dtype))
        # the up-down algorithm's generative (top-down) weights below the top RBM
        self.generative = [layer for r in self.rbms[:-1] for layer in r.to_layers(decoder=True)[:1]] \
            if self.n_labels else []

    @classmethod
    def from_rbms(cls, rbms, n_labels: int = 0) -> "DBN":
        """A DBN holding copies of trained ``rbms`` (each one's hidden layer the next one's
        visible layer; with ``n_labels`` the last RBM's visible layer ends in the labels)."""
        if not isinstance(rbms, (list, tuple)) or not rbms or not all(isinstance(r, RBM) for r in rbms):
            raise TypeError(f"rbms must be a non-empty list of RBMs, got {rbms!r}")
        for i, (lower, upper) in enumerate(zip(rbms[:-1], rbms[1:])):
            expected = lower.n_hidden + (n_labels if i == len(rbms) - 2 else 0)
            if upper.n_visible != expected:
                raise ValueError(f"the RBMs' sizes don't chain: rbms[{i}] has {lower.n_hidden} hidden units "
                                 f"but rbms[{i + 1}] has {upper.n_visible} visible units (expected {expected})")
        sizes = [rbms[0].n_visible - (n_labels if len(rbms) == 1 else 0)] + [r.n_hidden for r in rbms]
        visible = rbms[0].visible if not (n_labels and len(rbms) == 1) else rbms[0].visible.parts[0][0]
        dbn = cls(sizes, visible=visible.spec(), hidden=[r.hidden.spec() for r in rbms],
                  n_labels=n_labels, dtype=rbms[0].dtype)
        for mine, theirs in zip(dbn.rbms, rbms):
            mine.load_state_dict(theirs.state_dict())
        dbn.tie_generative()
        return dbn

    # ------------------------------------------------------------ structure
    @property
    def feature_rbms(self) -> list:
        """The RBMs of the up-pass that need no labels (all of them without ``n_labels``)."""
        return self.rbms[:-1] if self.n_labels else list(self.rbms)

    @property
    def n_features(self) -> int:
        """Width of :meth:`transform`'s output."""
        return self.sizes[-2] if self.n_labels else self.sizes[-1]

    def _check_X(self, X, name="X"):
        """``X`` as a finite float ``(N, sizes[0])`` array in the data units' range."""
        X = V.as_float_array(X, self.rbms[0].dtype, name, like=self.rbms[0].W.data)
        V.check_ndim(X, 2, name, "(N, features)")
        V.check_features(X, self.sizes[0], name=name, what="features (the DBN's data layer)")
        V.check_finite(X, name)
        self.data_units.check(X, name)
        return X

    def _check_labels(self, y, n, name="y"):
        if not self.n_labels:
            raise ValueError(f"{name} given, but this DBN has no label units (n_labels=0)")
        y = np.asarray(y)
        if y.shape != (n,) or y.dtype.kind not in "iu":
            raise ValueError(f"{name} must be {n} integer class labels, got shape {y.shape}, dtype {y.dtype}")
        if n and (y.min() < 0 or y.max() >= self.n_labels):
            raise ValueError(f"{name} must hold labels in 0..{self.n_labels - 1}, got values in "
                             f"{int(y.min())}..{int(y.max())}")
        return y

    def _up(self, X, rbms, batch_size: int = 4096):
        """The mean-field up-pass ``x^l = E[h | x^{l−1}]`` through ``rbms``, batch by batch."""
        out = []
        for i in range(0, max(len(X), 1), batch_size):
            x = X[i:i + batch_size]
            for r in rbms:
                x = r.hidden.mean(r.hidden_input(x))
            out.append(x)
        return get_array_module(X).concatenate(out)[:len(X)]

    # ------------------------------------------------------------ features
    def transform(self, X, batch_size: int = 4096):
        """Top-level features: the up-pass ``x^L`` through :attr:`feature_rbms`."""
        return self._up(self._check_X(X), self.feature_rbms, batch_size)

    def forward(self, x):
        return self.transform(x)

    def to_network(self, n_out: int | None = None, seed=None, rng=None):
        """The up-pass as a ``Sequential``: ``Dense(W_l, b_l) + Sigmoid`` per feature RBM
        (no activation for Gaussian hidden units), plus ``Dense(n_features, n_out)``
        (Glorot, from ``seed``/``rng``) when ``n_out`` is given. Weights are copies."""
        from ..layers import Dense, Sequential

        layers = [layer for r in self.feature_rbms for layer in r.to_layers()]
        if n_out is not None:
            V.check_int(n_out, "n_out", minimum=1)
            layers.append(Dense(self.n_features, n_out, rng=rng, seed=seed, dtype=self.rbms[0].dtype))
        return Sequential(*layers).to(device_of(self.rbms[0].W.data))  # beside the DBN

    # ------------------------------------------------------------ training
    def pretrain(self, X, y=None, epochs=10, batch_size=100, layers=None, seed=None, verbose=True,
                 checkpoint=None, resume: bool = False, **fit_kwargs) -> list:
        """Greedy layer-wise training: RBM ``l`` is fitted (``RBM.fit``) on the up-pass
        ``x^{l−1}`` of the data, computed once per layer in batches; with ``n_labels``
        the top RBM sees ``[x^{L−1}, one_hot(y)]``.

        ``epochs``, ``batch_size`` and every ``RBM.fit`` keyword (defaults
        :data:`PRETRAIN_DEFAULTS`) apply to all layers; ``layers`` (a list of
        dicts, one per RBM) overrides them per layer. ``checkpoint``: a folder;
        the DBN is saved there after each layer (``dbn.npz``) and each layer's
        RBM after every epoch (``layer<l>.npz``); ``resume=True`` continues from them.
        Returns the per-layer histories. Afterwards the generative weights of the
        up-down algorithm are the recognition weights' transposes.
        """
        X = self._check_X(X)
        if self.n_labels and y is None:
            raise ValueError(f"this DBN has n_labels={self.n_labels}: pretrain needs labels y")
        y = None if y is None else self._check_labels(y, len(X))
        per_layer = _as_list(layers if layers is not None else {}, len(self.rbms), "layers")
        for i, kw in enumerate(per_layer):
            if kw is not None and not isinstance(kw, dict):
                raise TypeError(f"layers[{i}] must be a dict of RBM.fit arguments or None, got {kw!r}")
        folder, done = self._open_checkpoint(checkpoint, resume)
        histories = []
        for layer, r in enumerate(self.rbms):
            if layer < done:
                histories.append(dict(r.__dict__.get("history_", {})))
                continue
            data = self._up(X, self.rbms[:layer])
            if self.n_labels and layer == len(self.rbms) - 1:
                data = _with_labels(data, y, self.n_labels)
            user = {**fit_kwargs, **dict(per_layer[layer] or {})}
            kw = {**PRETRAIN_DEFAULTS, "epochs": epochs, "batch_size": batch_size}
            if "lr" not in user and r.visible.name not in ("bernoulli", "composite"):
                kw.pop("lr")  # RBM.fit's own default (0.01) for Gaussian or Poisson data
            kw.update(user)
            if seed is not None:
                kw["seed"] = seed + layer
            self._say(verbose, f"DBN layer {layer + 1}/{len(self.rbms)}: RBM {r.n_visible}-{r.n_hidden} "
                               f"({r.visible.spec()} → {r.hidden.spec()}), {kw['epochs']} epochs")
            if folder is not None:
                kw["checkpoint"] = folder / f"layer{layer}.npz"
                if resume and kw["checkpoint"].exists():
                    kw["resume_from"] = kw["checkpoint"]
            histories.append(r.fit(data, verbose=verbose, **kw))
            if folder is not None and get_communicator(kw.get("comm")).is_root:  # one writer
                from ..io import save
                save(folder / "dbn.npz", self, extra={"layers_done": layer + 1})
        self.tie_generative()
        return histories

    def _open_checkpoint(self, checkpoint, resume):
        if checkpoint is None:
            return None, 0
        folder = Path(checkpoint)
        folder.mkdir(parents=True, exist_ok=True)
        if resume and (folder / "dbn.npz").exists():
            from ..io import restore
            return folder, int(restore(folder / "dbn.npz", self).extra.get("layers_done", 0))
        return folder, 0

    @staticmethod
    def _say(verbose, text):
        if verbose:
            from tqdm.auto import tqdm
            tqdm.write(text)

    def tie_generative(self) -> None:
        """Set the generative (top-down) weights below the top RBM to ``W_lᵀ`` and ``a_l``."""
        for r, dense in zip(self.rbms, self.generative):
            dense.W.data[...] = r.W.data.T
            dense.b.data[...] = r.a.data

    # ------------------------------------------------------ the greedy bound
    def log_likelihood_bound(self, X) -> float:
        """Mean over rows of the variational bound of a two-RBM stack (float64, exact)::

            B(v) = Σ_h Q(h|v) [log p₂(h) + log P₁(v|h) − log Q(h|v)],   Q = P₁(h|v),

        by enumerating the ``2^m`` states of the first hidden layer; ``log p₂`` is the
        second RBM's exact marginal of its visible layer."""
        return dbn_bound.greedy_bound(self, X)

    # ---------------------------------------------- the generative DBN (dbn_generative)
    def predict_proba(self, X, batch_size: int = 4096):
        """``P(y | x) ∝ exp(−F_top([x^{L−1}, e_y]))`` (:func:`.dbn_generative.predict_proba`)."""
        return G.predict_proba(self, X, batch_size)

    def predict(self, X, batch_size: int = 4096):
        """``argmax_y P(y | x)``."""
        return self.predict_proba(X, batch_size).argmax(axis=1)

    def fit_updown(self, X, y, epochs: int = 10, batch_size: int = 100, k: int = 10, **kwargs):
        """Up-down fine-tuning on the training loop (:func:`.dbn_updown.fit_updown`)."""
        from .dbn_updown import fit_updown
        return fit_updown(self, X, y, epochs=epochs, batch_size=batch_size, k=k, **kwargs)

    def sample(self, n: int, label=None, steps: int = 1000, rng=None, seed=None):
        """``n`` data-layer samples, optionally of class ``label`` (:func:`.dbn_generative.sample`)."""
        return G.sample(self, n, label=label, steps=steps, rng=rng, seed=seed)
