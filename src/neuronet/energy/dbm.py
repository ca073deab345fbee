"""Deep Boltzmann machine (Salakhutdinov & Hinton, 2009; lecture 004).

Layers ``s_0 = v, s_1 = h¹, …, s_L = hᴸ`` of binary units (``L ≥ 2``), and
optionally a softmax group of label units ``y`` joined to the top layer (it is
then the chain's last layer, ``s_{L+1} = y``). Only neighbours are connected:
``W_l`` (``n_{l−1} × n_l``) joins ``s_{l−1}`` and ``s_l`` (``U`` joins ``hᴸ`` and ``y``)::

    E(s) = −Σ_l b_lᵀ s_l − Σ_l s_{l−1}ᵀ W_l s_l

so each layer is conditionally independent given its two neighbours::

    P(s_lj = 1 | s_{l−1}, s_{l+1}) = σ(b_lj + s_{l−1}ᵀ W_l[:, j] + W_{l+1}[j, :] s_{l+1})

(softmax over the group for ``y``). The odd layers given the even ones (and the
even given the odd) are one block: a Gibbs sweep samples every odd layer, then
every even layer, each as one matrix product over all chains.

Mean field approximates ``P(h | v)`` by a factorial ``Q(h; q)`` and maximises the
variational lower bound (``E`` is linear in each layer, so ``E_Q[E] = E(v, q)``)::

    log P(v) ≥ −E(v, q¹, …, qᴸ) + Σ_l H(q_l) − log Z,

whose fixed point is ``q_l = σ(b_l + q_{l−1} W_l + q_{l+1} W_{l+1}ᵀ)`` (``q_0 = v``),
iterated odd layers then even layers. The start is a bottom-up pass with the
weights from below doubled, ``q_l = σ(b_l + 2 q_{l−1} W_l)`` under the top layer and
``q_L = σ(b_L + q_{L−1} W_L)`` (plus ``yUᵀ`` with clamped labels), as in Salakhutdinov's
code: a layer that will also hear from above starts with twice the input from below.
"""
from __future__ import annotations

import numpy as np

from .. import validation as V
from ..backend import get_array_module, get_default_dtype
from ..module import Parameter
from ..random import make_rng
from .base import EnergyModel
from .units import BernoulliUnits, SoftmaxUnits

__all__ = ["DBM"]


class DBM(EnergyModel):
    """A deep Boltzmann machine ``v – h¹ – … – hᴸ`` (``– y`` with ``n_labels``).

    Parameters
    ----------
    sizes : ``[n_visible, n_h1, …, n_hL]`` with ``L ≥ 2``.
    n_labels : 0, or the size ``K ≥ 2`` of a softmax label group joined to ``hᴸ``.
    init_std : weights start as ``N(0, init_std²)``; biases at zero.
    rng, seed, dtype : as for :class:`~neuronet.energy.RBM`.

    Parameters are ``W1 … WL`` (and ``U``), biases ``b0`` (visible) ``… bL`` (and ``c``);
    ``weights`` / ``biases`` list them along the chain.
    """

    def __init__(self, sizes, n_labels: int = 0, init_std: float = 0.01, rng=None, seed=None,
                 dtype=None):
        sizes = V.check_sizes(sizes, "sizes", min_len=3, what="layer sizes (v, h1, ..., hL with L >= 2)")
        n_labels = V.check_int(n_labels, "n_labels", minimum=0)
        if n_labels == 1:
            raise ValueError("n_labels must be 0 (no labels) or >= 2 (a softmax group), got 1")
        V.check_positive(init_std, "init_std", allow_zero=True)
        self.sizes, self.n_labels, self.n_layers = sizes, n_labels, len(sizes) - 1
        self.widths = sizes + ([n_labels] if n_labels else [])
        self.units = [BernoulliUnits() for _ in sizes] + ([SoftmaxUnits(n_labels)] if n_labels else [])
        self._rng = make_rng(rng, seed)
        dt = np.dtype(dtype or get_default_dtype())
        for i in range(len(self.widths) - 1):
            w = self._rng.standard_normal((self.widths[i], self.widths[i + 1])) * init_std
            name = f"W{i + 1}" if i < self.n_layers else "U"
            setattr(self, name, Parameter(w.astype(dt), name=name))
        for i, n in enumerate(self.widths):
            name = f"b{i}" if i <= self.n_layers else "c"
            setattr(self, name, Parameter(np.zeros(n, dtype=dt), name=name))
        # the same Parameter objects along the chain (astype/to/load_state_dict keep them)
        names = [f"W{i}" for i in range(1, self.n_layers + 1)] + (["U"] if n_labels else [])
        self._chain_w = tuple(getattr(self, k) for k in names)
        self._chain_b = tuple(getattr(self, f"b{i}") for i in range(self.n_layers + 1)) + \
            ((self.c,) if n_labels else ())

    # ------------------------------------------------------------ structure
    dtype = property(lambda self: self.W1.data.dtype)

    @property
    def n_chain(self) -> int:
        """Number of layers along the chain: ``L + 1`` (``L + 2`` with labels)."""
        return len(self.widths)

    @property
    def weights(self) -> list:
        """``[W1, …, WL]`` (``+ [U]``): ``weights[i]`` joins layers ``i`` and ``i + 1``."""
        return list(self._chain_w)

    @property
    def biases(self) -> list:
        """``[b0, …, bL]`` (``+ [c]``): ``biases[i]`` of layer ``i``."""
        return list(self._chain_b)

    def _as_layer(self, s, i: int, name: str):
        dt = s.dtype if getattr(s, "dtype", None) is not None and s.dtype.kind == "f" else self.dtype
        s = V.as_float_array(s, dt, name, like=self._chain_b[0].data)
        if s.ndim == 1:
            s = s[None, :]
        V.check_ndim(s, 2, name, "(N, units)")
        V.check_features(s, self.widths[i], name=name, what=f"units (layer {i})")
        return s

    def _check_data(self, X, name: str = "X"):
        """Visible data: 2-D, ``n_visible`` features, finite, in [0, 1]."""
        X = V.as_float_array(X, self.dtype, name, like=self._chain_b[0].data)
        X = X[None, :] if X.ndim == 1 else X
        V.check_ndim(X, 2, name, "(N, visible units)")
        V.check_features(X, self.sizes[0], name=name, what="visible units")
        V.check_finite(X, name)
        self.units[0].check(X, name)
        return X

    def _check_labels(self, y, n: int, name: str = "y"):
        """Labels as one-hot rows: class indices ``(N,)`` or one-hot ``(N, K)``."""
        if not self.n_labels:
            raise ValueError(f"{name} given, but this DBM has no label units (n_labels=0)")
        y = np.asarray(y) if not hasattr(y, "dtype") else y
        if y.ndim == 1:
            if y.dtype.kind not in "iu":
                raise TypeError(f"{name} as class indices must be integers, got dtype {y.dtype}")
            from ..data.text import one_hot
            y = one_hot(y, self.n_labels, dtype=self.dtype)
        y = self._as_layer(V.as_float_array(y, self.dtype, name), self.n_chain - 1, name)
        self.units[-1].check(y, name)
        if len(y) != n:
            raise ValueError(f"{name} must have one row per case ({n}), got {len(y)}")
        return y

    # ---------------------------------------------------------- conditionals
    def layer_input(self, i: int, states, below: float = 1.0, above: float = 1.0, bias: bool = True):
        """Total input ``b_i + below·s_{i−1} W_i + above·s_{i+1} W_{i+1}ᵀ`` of layer ``i``, ``(N, n_i)``.

        A neighbour that is ``None`` (or whose factor is 0) is left out; so is ``b_i`` without ``bias``.
        """
        W = self._chain_w
        x = None
        if i > 0 and below and states[i - 1] is not None:
            x = states[i - 1] @ W[i - 1].data
            if below != 1:
                x *= below
        if i < self.n_chain - 1 and above and states[i + 1] is not None:
            t = states[i + 1] @ W[i].data.T
            if above != 1:
                t *= above
            x = t if x is None else x.__iadd__(t)
        if bias:
            x += self._chain_b[i].data
        return x

    def conditional_mean(self, i: int, states, below: float = 1.0, above: float = 1.0):
        """``E[s_i | neighbours]``: ``σ(layer_input)`` (softmax for the labels)."""
        x = self.layer_input(i, states, below, above)
        return self.units[i].mean(x, out=x)

    def sample_layer(self, i: int, states, rng=None):
        """A draw ``s_i ~ P(s_i | s_{i−1}, s_{i+1})``."""
        m = self.conditional_mean(i, states)
        return self.units[i].sample(m, self._rng_or(rng), out=m)

    def gibbs(self, states, sweeps: int = 1, clamp=(0,), rng=None):
        """``sweeps`` block Gibbs sweeps in place on the list ``states`` (one array per layer,
        rows = chains): all odd layers, then all even layers; layers in ``clamp`` stay fixed."""
        V.check_int(sweeps, "sweeps", minimum=1)
        rng = self._rng_or(rng)
        for _ in range(sweeps):
            for parity in (1, 0):
                for i in range(parity, self.n_chain, 2):
                    if i not in clamp:
                        states[i] = self.sample_layer(i, states, rng)
        return states

    def random_states(self, n: int, rng=None) -> list:
        """``n`` chains, every layer drawn from its biases alone (``P(s_i | b_i)``)."""
        V.check_int(n, "n", minimum=1)
        rng = self._rng_or(rng)
        out = []
        for u, b in zip(self.units, self.biases):
            xp = get_array_module(b.data)
            x = xp.repeat(b.data[None], n, axis=0)
            out.append(u.sample(u.mean(x, out=x), rng, out=x))
        return out

    def sample(self, n: int, steps: int = 1000, init=None, rng=None, return_all: bool = False,
               return_mean: bool = False):
        """``n`` samples from the model after ``steps`` Gibbs sweeps (nothing clamped).

        ``init``: a list of layer states (default :meth:`random_states`). Returns the
        visible states (``return_mean``: ``E[v | h¹]`` of the last sweep), or every
        layer with ``return_all``.
        """
        V.check_int(steps, "steps", minimum=1)
        rng = self._rng_or(rng)
        states = self.random_states(n, rng) if init is None else \
            [self._as_layer(s, i, f"init[{i}]").copy() for i, s in enumerate(init)]
        if len(states) != self.n_chain:
            raise ValueError(f"init must hold {self.n_chain} layers, got {len(states)}")
        self.gibbs(states, steps, clamp=(), rng=rng)
        if return_all:
            return states
        return self.conditional_mean(0, states) if return_mean else states[0]

    # --------------------------------------------------------------- energy
    def energy(self, v, *h):
        """``E(v, h¹, …) = −Σ_l b_lᵀ s_l − Σ_l s_{l−1}ᵀ W_l s_l`` per row, shape ``(N,)``.

        ``h`` lists every layer above ``v`` (the labels last when the model has them).
        Means may be passed instead of states (``E`` is linear in each layer).
        """
        states = [self._as_layer(s, i, "v" if i == 0 else f"h[{i - 1}]") for i, s in enumerate((v,) + h)]
        if len(states) != self.n_chain:
            raise ValueError(f"energy needs {self.n_chain} layers (v, h1..h{self.n_layers}"
                             f"{', y' if self.n_labels else ''}), got {len(states)}")
        e = 0
        for i, (s, u, b) in enumerate(zip(states, self.units, self.biases)):
            e = e + u.base_energy(s) - s @ b.data
            if i + 1 < len(states):
                e = e - ((s @ self.weights[i].data) * states[i + 1]).sum(axis=1)
        return e

    # ----------------------------------------------------------- inference
    def mean_field(self, v, y=None, steps: int = 10, tol: float = 1e-7, check: bool = True):
        """Mean-field posterior ``[q¹, …, qᴸ]`` (``+ [q_y]`` with labels) for the rows of ``v``
        (``y`` clamps the labels): :func:`neuronet.energy.dbm_mean_field.mean_field`."""
        from .dbm_mean_field import mean_field
        return mean_field(self, v, y, steps, tol, check)

    def log_likelihood_bound(self, X, log_z: float, y=None, steps: int = 30, tol: float = 1e-6,
                             per_case: bool = False):
        """Mean variational bound ``−E(v, q) + Σ_l H(q_l) − log Z`` over the rows of ``X`` (nats):
        :func:`neuronet.energy.dbm_mean_field.log_likelihood_bound`."""
        from .dbm_mean_field import log_likelihood_bound
        return log_likelihood_bound(self, X, log_z, y, steps, tol, per_case)

    # ------------------------------------------------ training and fine-tuning
    def fit(self, X, y=None, **kwargs):
        """Joint training on the one loop: :func:`neuronet.energy.dbm_train.fit` (mean-field
        positive phase, persistent chains for the negative phase)."""
        from .dbm_train import fit
        return fit(self, X, y, **kwargs)

    def pretrain(self, X, y=None, **kwargs) -> list:
        """Greedy pretraining with doubled weights, then the joint initialisation:
        :func:`neuronet.energy.dbm_pretrain.pretrain`. Returns the trained RBMs."""
        from .dbm_pretrain import pretrain
        return pretrain(self, X, y, **kwargs)

    def to_network(self, n_out: int, **kwargs):
        """The paper's fine-tuning net on ``[v, q(h²)]`` (:func:`neuronet.energy.dbm_network.to_network`);
        its input comes from :meth:`augment`."""
        from .dbm_network import to_network
        return to_network(self, n_out, **kwargs)

    def augment(self, X, **kwargs):
        """``[X, q(h²)]`` for :meth:`to_network` (:func:`neuronet.energy.dbm_network.augment`)."""
        from .dbm_network import augment
        return augment(self, X, **kwargs)
