"""Parameter and Module: the protocol every layer follows (Torch7's ``nn``).

A module keeps three passes apart:

* ``forward(x)`` computes ``y`` and caches on ``self`` what the backward passes need;
* ``backward(dy)`` takes ``∂E/∂y``, *adds* ``∂E/∂θ`` into ``p.grad`` for each of its
  parameters and returns ``∂E/∂x``;
* ``backward_curvature(d2y)`` takes the diagonal Gauss-Newton curvature
  ``∂²E/∂y²``, adds ``∂²E/∂θ²`` into ``p.curv`` and returns ``∂²E/∂x²`` (LeCun's
  Optimal Brain Damage pass, also used by the diagonal Levenberg-Marquardt rule).

Every subclass is registered by class name and remembers the arguments it was
built with (:meth:`Module.spec`), so a saved model is data (JSON + arrays) and
loading it can only build known classes, never run code.
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

from .backend import asnumpy, get_array_module, to_device
from .input_gradient import track_pass
from .parameter import Parameter
from .registry import REGISTRIES, Registered


class Module(Registered, kind="module"):
    """Base class of layers, containers and models.

    Subclasses assign :class:`Parameter` and ``Module`` attributes in
    ``__init__``; :meth:`named_parameters` finds them in assignment order
    (lists and tuples of modules too). ``training`` switches train/eval
    behaviour (dropout).
    """

    training: bool = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for kind in ("forward", "backward"):  # keep the pass depth (neuronet.input_gradient)
            fn = cls.__dict__.get(kind)
            if fn is not None and not getattr(fn, "_neuronet_tracks", False):
                setattr(cls, kind, track_pass(fn, kind))

    # ----------------------------------------------------------------- passes
    def forward(self, x):
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def backward(self, dy):
        raise NotImplementedError(f"{type(self).__name__} does not define backward()")

    def backward_curvature(self, d2y):
        raise NotImplementedError(
            f"{type(self).__name__} has no curvature pass (backward_curvature); "
            "Optimal Brain Damage and Levenberg-Marquardt need one in every layer")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------- structure
    def children(self):
        """Direct sub-modules, in assignment order, as ``(name, module)``."""
        for name, value in self.__dict__.items():
            if isinstance(value, Module):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, v in enumerate(value):
                    if isinstance(v, Module):
                        yield f"{name}.{i}", v

    def modules(self):
        """This module and every sub-module, depth first."""
        yield self
        for _, child in self.children():
            yield from child.modules()

    def named_parameters(self, prefix: str = ""):
        """``(dotted name, Parameter)`` pairs, own parameters first, then children's."""
        out = []
        for name, value in self.__dict__.items():
            if isinstance(value, Parameter):
                out.append((prefix + name, value))
        for name, child in self.children():
            out.extend(child.named_parameters(prefix + name + "."))
        return out

    def parameters(self) -> list[Parameter]:
        """Each Parameter once, even when a layer is used twice (it is then updated once per step)."""
        seen = set()
        return [p for _, p in self.named_parameters() if id(p) not in seen and not seen.add(id(p))]

    def num_parameters(self) -> int:
        """Number of trainable weights, pruned (masked) ones not counted."""
        return sum(p.num_active() for p in self.parameters())

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.zero_grad()

    def zero_curv(self) -> None:
        for p in self.parameters():
            p.zero_curv()

    # --------------------------------------------------------------- modes
    def train(self, mode: bool = True):
        for m in self.modules():
            m.training = bool(mode)
        return self

    def eval(self):
        return self.train(False)

    # ------------------------------------------------------------- state
    def state_dict(self) -> "OrderedDict[str, np.ndarray]":
        """Copies of every parameter's data and mask, by dotted name (NumPy arrays)."""
        out = OrderedDict()
        for name, p in self.named_parameters():
            out[name] = asnumpy(p.data).copy()
            if p.mask is not None:
                out[name + ":mask"] = asnumpy(p.mask).copy()
        return out

    def check_state(self, source: str = "state") -> None:
        """Refuse parameter values this module's constructor would refuse (asymmetric
        Hopfield weights, say); :func:`neuronet.load` calls it on every loaded module.
        ``source`` names where the values came from, for the message. Default: none."""

    def load_state_dict(self, state, strict: bool = True) -> None:
        """Copy arrays from ``state`` into the parameters (shapes must match)."""
        params = dict(self.named_parameters())
        missing = [n for n in params if n not in state]
        unexpected = [k for k in state if k.split(":")[0] not in params]
        if strict and (missing or unexpected):
            raise KeyError(f"state does not match {type(self).__name__}: missing {missing}, "
                           f"unexpected {unexpected}")
        for name, p in params.items():
            if name not in state:
                continue
            value = state[name]
            if tuple(value.shape) != tuple(p.data.shape):
                raise ValueError(f"parameter {name!r} has shape {tuple(p.data.shape)}, "
                                 f"the state gives {tuple(value.shape)}")
            xp = get_array_module(p.data)
            p.data[...] = xp.asarray(value, dtype=p.data.dtype)
            if name + ":mask" in state:
                p.set_mask(xp.asarray(state[name + ":mask"]))

    def astype(self, dtype):
        """Convert every parameter (data, grad, curv) to ``dtype`` in place; returns self."""
        for p in self.parameters():
            p.data = p.data.astype(dtype)
            p.grad = p.grad.astype(dtype)
            if p.curv is not None:
                p.curv = p.curv.astype(dtype)
        for m in self.modules():
            m._convert_state_arrays(lambda v: v.astype(dtype))
            m._on_dtype_change(dtype)
        return self

    def to(self, device: str = "cpu"):
        """Move every parameter to ``'cpu'`` (NumPy) or ``'cuda'`` (CuPy); returns self."""
        for p in self.parameters():
            p.data = to_device(p.data, device)
            p.grad = to_device(p.grad, device)
            if p.curv is not None:
                p.curv = to_device(p.curv, device)
            if p.mask is not None:
                p.mask = to_device(p.mask, device)
        for m in self.modules():
            m._convert_state_arrays(lambda v: to_device(v, device))
        return self

    #: attributes holding arrays beside the parameters (a sampler's persistent chains; None
    #: while unset): astype() and to() convert them with the parameters
    _state_arrays: tuple = ()

    def _convert_state_arrays(self, convert) -> None:
        for name in self._state_arrays:
            value = getattr(self, name, None)
            if value is not None:
                setattr(self, name, convert(value))

    def _on_dtype_change(self, dtype) -> None:
        """Hook for modules that keep non-parameter buffers (none by default)."""

    # ------------------------------------------------------------- spec
    def extra_repr(self) -> str:
        args = self.__dict__.get("_spec_args", {})
        parts = []
        for k, v in args.items():
            if isinstance(v, Module) or (isinstance(v, list) and v and isinstance(v[0], Module)):
                continue
            if isinstance(v, np.ndarray) or callable(v) or isinstance(v, np.random.Generator):
                continue
            parts.append(f"{k.lstrip('*')}={v!r}")
        return ", ".join(parts)

    def __repr__(self):
        kids = list(self.children())
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not kids:
            return head + ")"
        lines = [head]
        for name, child in kids:
            sub = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {sub}")
        return "\n".join(lines) + "\n)"


#: every Module subclass by class name; the only classes a saved spec can build.
MODULES = REGISTRIES["module"]
