"""Unit types of a restricted Boltzmann machine.

A layer of units ``s`` with total input ``x`` (bias plus weighted input from the
other layer) has the conditional distribution

    P(s | x) ∝ exp(s·x − β(s)),

where ``β(s)`` is the unit's own energy term (its base measure). Each unit
type knows four things about it:

* ``mean(x)``: ``E[s | x]``;
* ``sample(mean, rng)``: a draw of ``s`` given its mean;
* ``base_energy(s)``: ``Σ_i β(s_i)``, the term the unit adds to ``E(v, h)``;
* ``log_partition(x)``: ``Σ_i log Σ_s exp(s·x_i − β(s))`` (a sum or an
  integral over the unit's states), the term that appears in the free energy
  when the layer is summed out.

| units | states | β(s) | mean | log-partition |
|---|---|---|---|---|
| Bernoulli | {0, 1} | 0 | σ(x) | log(1 + eˣ) |
| Gaussian (unit variance) | ℝ | s²/2 | x | x²/2 + ½ log 2π |
| Poisson | {0, 1, 2, ...} | log s! | eˣ | eˣ |
| softmax group of K | one-hot of K | 0 | softmax(x) | log Σ_k e^{x_k} |

Gaussian units have variance one: the data must be standardised (zero mean,
unit variance per feature) before an RBM with Gaussian visibles is trained.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ..backend import get_array_module
from ..random import generator_for
from ..registry import REGISTRIES, Registry
from .annealing import sample_bernoulli, sigmoid

__all__ = ["Units", "BernoulliUnits", "GaussianUnits", "PoissonUnits", "SoftmaxUnits",
           "CompositeUnits", "make_units"]  # the last three from .units_grouped

_LOG_2PI = math.log(2.0 * math.pi)


def _softplus(x):
    """``log(1 + eˣ)`` without overflow: ``max(x, 0) + log1p(e^{−|x|})``."""
    xp = get_array_module(x)
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


def _xlogx(q):
    """``q log q`` with ``0 log 0 = 0``."""
    xp = get_array_module(q)
    return q * xp.log(xp.where(q > 0, q, 1))


def _store(value, out):
    if out is None:
        return value
    out[...] = value
    return out


class Units:
    """Base class: a layer of identical, conditionally independent units."""

    #: short name used in specs (``RBM(visible='bernoulli')``)
    name = "units"
    #: True when the states are finite, so a layer can be enumerated
    discrete = False

    def mean(self, x, out=None):
        """``E[s | x]`` for total input ``x`` of shape ``(N, n)``."""
        raise NotImplementedError

    def sample(self, mean, rng, out=None):
        """Draw ``s ~ P(s | x)`` given its ``mean`` (``out`` reused when given)."""
        raise NotImplementedError

    def base_energy(self, s):
        """``Σ_i β(s_i)`` for each row of ``s``: shape ``(N,)``."""
        xp = get_array_module(s)
        return xp.zeros(s.shape[0], dtype=s.dtype)

    def log_partition(self, x):
        """``Σ_i log Σ_s exp(s·x_i − β(s))`` for each row of ``x``: shape ``(N,)``."""
        raise NotImplementedError

    def entropy(self, mean):
        """``H(Q) = −Σ_s Q(s) log Q(s)`` of the factorial distribution with this ``mean``, per row
        (the entropy term of a mean-field bound)."""
        raise NotImplementedError(f"{self.name} units have no entropy here")

    def check(self, x, name: str = "data") -> None:
        """Raise ``ValueError`` when ``x`` holds values these units cannot take."""

    def warn_if_unsuitable(self, x, name: str = "data") -> None:
        """Warn about data that are legal but unsuited (non-standardised Gaussian data)."""

    def init_bias(self, x):
        """The bias that makes ``mean(bias)`` match the data's per-unit means."""
        raise NotImplementedError

    # ------------------------------------------------------------ enumeration
    def n_states(self, n: int) -> int:
        """Number of joint states of ``n`` units (only for discrete units)."""
        raise ValueError(f"{self.name} units have infinitely many states and cannot be enumerated")

    def states(self, n: int, start: int, stop: int, dtype=np.float64):
        """Joint states number ``start .. stop-1`` of ``n`` units, as rows."""
        return self.state_rows(n, np.arange(start, stop, dtype=np.int64), dtype)

    def state_rows(self, n: int, index, dtype=np.float64):
        """Joint states with the given numbers (int array) of ``n`` units, as rows."""
        raise ValueError(f"{self.name} units have infinitely many states and cannot be enumerated")

    def spec(self) -> str:
        return self.name

    def __repr__(self):
        return f"{type(self).__name__}()"

    def __eq__(self, other):
        return type(self) is type(other) and self.spec() == other.spec()

    def __hash__(self):
        return hash(self.spec())


class BernoulliUnits(Units):
    """Binary units ``s ∈ {0, 1}``: ``P(s = 1 | x) = σ(x)``, ``β(s) = 0``.

    Data may be probabilities in [0, 1] (e.g. grey levels), used as the
    expected state.
    """

    name = "bernoulli"
    discrete = True

    def mean(self, x, out=None):
        return sigmoid(x, out)

    def sample(self, mean, rng, out=None):
        return sample_bernoulli(mean, rng, out=out)

    def log_partition(self, x):
        return _softplus(x).sum(axis=1)

    def entropy(self, mean):
        """``−Σ_i [q_i log q_i + (1 − q_i) log(1 − q_i)]`` (``0 log 0 = 0``)."""
        return -(_xlogx(mean) + _xlogx(1 - mean)).sum(axis=1)

    def check(self, x, name="data"):
        xp = get_array_module(x)
        lo, hi = float(xp.min(x)), float(xp.max(x))
        if lo < 0 or hi > 1:
            raise ValueError(f"{name} for Bernoulli units must lie in [0, 1], got values in "
                             f"[{lo:g}, {hi:g}]; scale the data (e.g. pixels / 255)")

    def init_bias(self, x):
        # Hinton's guide §8: a_i = log(p_i / (1 − p_i)), p_i the fraction of cases with unit i on.
        xp = get_array_module(x)
        p = xp.clip(x.mean(axis=0), 1e-3, 1 - 1e-3)
        return xp.log(p / (1 - p))

    def n_states(self, n):
        return 2 ** n

    def state_rows(self, n, index, dtype=np.float64):
        """State ``k`` is ``k`` in binary, unit 0 the least significant bit (unit 0 varies fastest);
        :func:`neuronet.energy.boltzmann.enumerate_states` lists the same rows."""
        xp = get_array_module(index)
        return ((index[:, None] >> xp.arange(n, dtype=np.int64)) & 1).astype(dtype)


class GaussianUnits(Units):
    """Real units with unit variance: ``s | x ~ N(x, 1)``, ``β(s) = s²/2``.

    The energy gains ``½‖v‖²``: ``E(v, h) = ½‖v‖² − vᵀa − hᵀb − vᵀWh`` for
    Gaussian visibles. Train on standardised data (zero mean, unit variance per
    feature), since the variance is not learned.
    """

    name = "gaussian"

    def mean(self, x, out=None):
        return _store(x, out)

    def sample(self, mean, rng, out=None):
        xp = get_array_module(mean)
        dtype = mean.dtype if mean.dtype in (np.float32, np.float64) else np.float64
        noise = generator_for(rng, xp).standard_normal(mean.shape, dtype=dtype)
        if out is None:
            return xp.add(mean, noise)
        xp.add(mean, noise, out=out)
        return out

    def base_energy(self, s):
        return 0.5 * (s * s).sum(axis=1)

    def log_partition(self, x):
        return 0.5 * (x * x).sum(axis=1) + 0.5 * _LOG_2PI * x.shape[1]

    def warn_if_unsuitable(self, x, name="data"):
        xp = get_array_module(x)
        mu = float(xp.abs(x.mean(axis=0)).mean())
        sd = float(x.std(axis=0).mean())
        if mu > 0.25 or not 0.5 < sd < 2.0:
            warnings.warn(f"{name} for Gaussian units (unit variance) should be standardised per "
                          f"feature (mean 0, std 1); got mean |mean| {mu:.3g} and mean std {sd:.3g}",
                          UserWarning, stacklevel=3)

    def init_bias(self, x):
        return x.mean(axis=0)


class PoissonUnits(Units):
    """Count units ``s ∈ {0, 1, 2, ...}``: ``s | x ~ Poisson(eˣ)``, ``β(s) = log s!``.

    The rate is capped at ``e^{max_log_rate}`` so that a diverging model gives
    large counts instead of overflow.
    """

    name = "poisson"

    def __init__(self, max_log_rate: float = 20.0):
        self.max_log_rate = float(max_log_rate)

    def mean(self, x, out=None):
        xp = get_array_module(x)
        return _store(xp.exp(xp.minimum(x, self.max_log_rate)), out)

    def sample(self, mean, rng, out=None):
        counts = generator_for(rng, get_array_module(mean)).poisson(mean)
        return _store(counts.astype(mean.dtype), out)

    def base_energy(self, s):
        return _log_factorial(s).sum(axis=1)

    def log_partition(self, x):
        # Σ_s e^{s x}/s! = exp(eˣ)
        xp = get_array_module(x)
        return xp.exp(xp.minimum(x, self.max_log_rate)).sum(axis=1)

    def check(self, x, name="data"):
        xp = get_array_module(x)
        lo = float(xp.min(x))
        if lo < 0:
            raise ValueError(f"{name} for Poisson units must be non-negative counts, got a minimum of {lo:g}")

    def init_bias(self, x):
        xp = get_array_module(x)
        return xp.log(xp.maximum(x.mean(axis=0), 1e-3))


def _log_factorial(s):
    """``log s!`` elementwise (``lgamma(s + 1)``), evaluated once per distinct value."""
    xp = get_array_module(s)
    if xp is not np:  # on the device: no copy to the host for the table below
        from cupyx.scipy.special import gammaln

        return gammaln(s + 1).astype(s.dtype, copy=False)
    values, inverse = np.unique(s, return_inverse=True)
    table = np.array([math.lgamma(float(v) + 1.0) for v in values], dtype=s.dtype)
    return table[inverse.reshape(s.shape)]


#: unit types by the name an RBM's ``visible=``/``hidden=`` or a saved spec gives
UNITS = REGISTRIES.setdefault("units", Registry("unit type"))
for _name, _cls in (("bernoulli", BernoulliUnits), ("binary", BernoulliUnits),
                    ("gaussian", GaussianUnits), ("poisson", PoissonUnits)):
    UNITS.add(_name, _cls)


# units acting in groups (softmax) or blocks (composite) and the factory; imported last,
# since they build on the classes above
from .units_grouped import CompositeUnits, SoftmaxUnits, make_units  # noqa: E402,F401
