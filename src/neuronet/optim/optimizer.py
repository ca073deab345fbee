"""Optimizer base class: the parts every update rule shares.

An optimiser holds a list of :class:`~neuronet.module.Parameter` and, per
parameter, a dict of state arrays (momentum buffers, running averages). One
``step()`` builds the effective gradient of every parameter

    ``g = ∇E + weight_decay · w + l1 · sign(w)``   (L2 and L1 penalties),

with pruned entries (``p.mask == False``) zeroed, hands it to the rule's
``_update(p, g, state)``, and re-applies the mask so pruned weights stay exactly
zero. ``lr`` is a plain attribute: learning-rate schedules assign to it.
``state_dict()`` / ``load_state_dict()`` give an exact resume.
"""
from __future__ import annotations


from ..backend import asnumpy, get_array_module
from ..module import Module, Parameter
from ..registry import REGISTRIES, Registered
from ..validation import check_positive

__all__ = ["Optimizer", "OPTIMIZERS"]

# One BLAS only: NumPy's. SciPy's BLAS wrappers (gemm with β = 1, axpy) saved a
# temporary here, but SciPy ships its own OpenBLAS, and two OpenBLAS thread pools
# taking turns made a 2-thread MLP step 4× slower (39 ms against 10.5 ms).


def axpy(a: float, x, y) -> None:
    """``y += a·x`` in place."""
    y += a * x


#: every optimiser class by name (for configs and checkpoints).


def _param_list(params) -> list[Parameter]:
    if isinstance(params, Module):
        params = params.parameters()
    elif isinstance(params, Parameter):
        params = [params]
    try:
        params = list(params)
    except TypeError:
        raise TypeError(f"params must be a list of Parameters or a Module, got "
                        f"{type(params).__name__}") from None
    if not params:
        raise ValueError("optimizer got an empty parameter list: expected at least one Parameter")
    for i, p in enumerate(params):
        if not isinstance(p, Parameter):
            raise TypeError(f"params must hold Parameters; item {i} is {type(p).__name__}")
    return params


class Optimizer(Registered, kind="optimizer"):
    """Base of every update rule.

    ``Optimizer(params, lr, weight_decay=0., l1=0.)``: ``params`` is a list of
    Parameters (or a Module, whose parameters are taken); ``lr > 0``;
    ``weight_decay`` (L2, ``λ‖w‖²/2`` added to the loss, ``λw`` to the gradient,
    so for plain SGD ``w := w(1 − ηλ) − η∇``) and ``l1`` (``λ₁‖w‖₁``, ``λ₁ sign(w)``
    added to the gradient) work with every rule. ``t`` counts the steps taken.
    """

    #: names of the scalar hyper-parameters saved by ``state_dict``.
    hyper_names: tuple[str, ...] = ("lr", "weight_decay", "l1")

    def __init__(self, params, lr: float, weight_decay: float = 0.0, l1: float = 0.0):
        self.params = _param_list(params)
        self.lr = float(check_positive(lr, "lr"))
        self.weight_decay = float(check_positive(weight_decay, "weight_decay", allow_zero=True))
        self.l1 = float(check_positive(l1, "l1", allow_zero=True))
        self.state: list[dict] = [{} for _ in self.params]
        self.t = 0
        #: callables ``c(optimizer)`` run after every step, e.g. max-norm (optim/constraints.py)
        self.constraints: list = []

    # ---------------------------------------------------------------- steps
    def zero_grad(self) -> None:
        for p in self.params:
            p.zero_grad()

    def effective_grad(self, p: Parameter):
        """``∇E + weight_decay·w + l1·sign(w)``, zero at pruned entries (the weight
        cost only for parameters with ``decay`` True, the default).

        Returns ``p.grad`` itself (not a copy) when nothing is added; rules
        must not write into it.
        """
        g = p.grad
        if p.mask is not None:
            g = g * p.mask
        if not p.decay:
            return g
        if self.weight_decay:
            g = g + self.weight_decay * p.data
        if self.l1:
            xp = get_array_module(p.data)
            g = g + self.l1 * xp.sign(p.data)
        return g

    def step(self) -> None:
        """One update of every parameter from its ``grad``."""
        self.t += 1
        for p, state in zip(self.params, self.state):
            self._update(p, self.effective_grad(p), state)
            if p.mask is not None:
                p.data *= p.mask
        for constraint in self.constraints:
            constraint(self)

    def _update(self, p: Parameter, g, state: dict) -> None:
        raise NotImplementedError

    # ---------------------------------------------------------------- state
    def hyperparameters(self) -> dict:
        """The scalar hyper-parameters, JSON-friendly."""
        out = {}
        for name in self.hyper_names:
            v = getattr(self, name)
            out[name] = list(v) if isinstance(v, tuple) else v
        return out

    def state_dict(self) -> dict:
        """``{"type", "hyper", "t", "state"}``; ``state`` maps ``"<index>.<name>"``
        to a NumPy copy of each state array (index = position in ``params``)."""
        arrays = {}
        for i, st in enumerate(self.state):
            for name, value in st.items():
                arrays[f"{i}.{name}"] = asnumpy(value).copy() if hasattr(value, "shape") else value
        return {"type": type(self).__name__, "hyper": self.hyperparameters(), "t": int(self.t),
                "state": arrays, "shapes": [list(p.data.shape) for p in self.params]}

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` gave (same rule, same parameter shapes)."""
        if not isinstance(state, dict):
            raise TypeError(f"state must be the dict that state_dict() gave, got {type(state).__name__}")
        if state.get("type") != type(self).__name__:
            raise ValueError(f"state is for optimizer {state.get('type')!r}, this is "
                             f"{type(self).__name__}")
        for name, value in state["hyper"].items():
            if name not in self.hyper_names:
                raise ValueError(f"unknown hyper-parameter {name!r} for {type(self).__name__}")
            if name in ("lr", "weight_decay", "l1"):  # as the constructor checks them
                check_positive(value, f"state's {name}", allow_zero=name != "lr")
            setattr(self, name, tuple(value) if isinstance(value, list) else value)
        new = [{} for _ in self.params]
        for key, value in state["state"].items():
            idx, name = key.split(".", 1)
            i = int(idx)
            if i >= len(self.params):
                raise ValueError(f"state has parameter {i}, the optimizer has {len(self.params)}")
            p = self.params[i]
            if hasattr(value, "shape"):
                if value.shape == ():  # scalar state (e.g. Nadam's μ product) saved as an array
                    value = float(value)
                else:
                    if tuple(value.shape) != tuple(p.data.shape):
                        raise ValueError(f"state {key!r} has shape {tuple(value.shape)}, parameter "
                                         f"{i} has {tuple(p.data.shape)}")
                    xp = get_array_module(p.data)
                    value = xp.array(value, dtype=p.data.dtype)
            new[i][name] = value
        self._check_shapes(state.get("shapes"))
        self.state = new
        self.t = int(state["t"])

    def _check_shapes(self, shapes) -> None:
        """A state saved from another model is refused even before any state array exists."""
        if shapes is None:  # a state written before the shapes were recorded
            return
        mine = [list(p.data.shape) for p in self.params]
        if [list(s) for s in shapes] != mine:
            raise ValueError(f"state is for parameters of shapes {shapes}, this optimizer's "
                             f"parameters have shapes {mine} (a different model?)")

    def __repr__(self):
        args = ", ".join(f"{k}={v}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({len(self.params)} parameters, {args})"


#: every Optimizer subclass by class name (what a config may name).
OPTIMIZERS = REGISTRIES["optimizer"]
