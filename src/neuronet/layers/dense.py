"""Fully connected layer (MISSION A2): ``y = x W + b``, batch-major."""
from __future__ import annotations


from ..backend import get_array_module, get_default_dtype
from ..init import initialize
from ..input_gradient import wants_input_grad
from ..module import Module, Parameter
from ..random import make_rng
from ..validation import as_float_array, check_features, check_int, check_ndim

__all__ = ["Dense"]


class Dense(Module):
    """Fully connected layer ``y = x W + b`` on a batch ``x`` of shape ``(N, n_in)``.

    ``W`` has shape ``(n_in, n_out)``, ``b`` shape ``(n_out,)``. BackProp with the
    error ``ε = ∂E/∂y`` of shape ``(N, n_out)``:

    * ``∂E/∂W = xᵀ ε``, ``∂E/∂b = Σ_n ε_n`` (added into ``W.grad``, ``b.grad``);
    * ``∂E/∂x = ε Wᵀ`` (the error passed to the layer below).

    Curvature (OBD, diagonal Gauss-Newton), from ``d2y = ∂²E/∂y²``:
    ``∂²E/∂w_jh² = Σ_n x_nj² · d2y_nh``, ``∂²E/∂b_h² = Σ_n d2y_nh`` and
    ``∂²E/∂x_nj² = Σ_h w_jh² · d2y_nh``.

    ``init``: ``'glorot'`` (default), ``'he'``, ``'normal'`` (σ = ``std``, default
    0.01), ``'zeros'``, or a float σ. Biases start at zero. ``input_grad=False``
    skips computing ``∂E/∂x`` (``backward`` then returns ``None``), saving one GEMM;
    ``True`` always computes it; ``None`` (default) computes it unless the layer is
    the first of the network the user called, whose input is data
    (:mod:`neuronet.input_gradient`), as PyTorch does.
    """

    def __init__(self, n_in: int, n_out: int, bias: bool = True, init="glorot", rng=None,
                 seed=None, dtype=None, std: float | None = None, input_grad: bool | None = None):
        self.n_in = check_int(n_in, "n_in", minimum=1)
        self.n_out = check_int(n_out, "n_out", minimum=1)
        dtype = get_default_dtype() if dtype is None else dtype
        gen = make_rng(rng, seed)
        self.W = Parameter(initialize(init, (self.n_in, self.n_out), rng=gen, dtype=dtype, std=std),
                           name="W")
        self.b = Parameter(initialize("zeros", (self.n_out,), dtype=dtype), name="b") if bias else None
        self.input_grad = None if input_grad is None else bool(input_grad)
        self._x = None

    def forward(self, x):
        x = as_float_array(x, self.W.data.dtype, "Dense input")
        check_ndim(x, 2, "Dense input", "(N, n_in)")
        check_features(x, self.n_in, name="Dense input")
        self._x = x
        y = x @ self.W.data
        if self.b is not None:
            y += self.b.data
        return y

    def _check_upstream(self, dy, what):
        if self._x is None:
            raise RuntimeError(f"Dense.{what} called before forward()")
        dy = as_float_array(dy, self.W.data.dtype, f"Dense {what} input")
        if dy.shape != (self._x.shape[0], self.n_out):
            raise ValueError(f"Dense {what} input must have shape {(self._x.shape[0], self.n_out)}, "
                             f"got {tuple(dy.shape)}")
        return dy

    def backward(self, dy, input_grad=None):
        """``W.grad += xᵀε``, ``b.grad += Σ_n ε_n``; returns ``εWᵀ`` (or ``None``, see ``input_grad``)."""
        dy = self._check_upstream(dy, "backward")
        self.W.accumulate_grad_matmul(self._x.T, dy)
        if self.b is not None:
            self.b.accumulate_grad_sum(dy, 0)
        if not wants_input_grad(self.input_grad, input_grad):
            return None
        return dy @ self.W.data.T

    def backward_curvature(self, d2y):
        d2y = self._check_upstream(d2y, "backward_curvature")
        xp = get_array_module(d2y)
        x = self._x
        self.W.add_curv((x * x).T @ d2y)
        if self.b is not None:
            self.b.add_curv(d2y.sum(axis=0))
        return d2y @ xp.square(self.W.data).T
