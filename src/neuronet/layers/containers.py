"""Containers: nets that are not a single layer (MISSION A5)."""
from __future__ import annotations

from ..backend import get_array_module
from ..input_gradient import input_is_data
from ..module import Module


class Sequential(Module):
    """A chain ``y = f_L(...f_2(f_1(x)))``; backward runs the children in reverse.

    BackProp through a chain: ``∂E/∂x_{l-1} = backward_l(∂E/∂x_l)``. When this
    chain is the network the user called and its input is data, the first layer
    skips ``∂E/∂x`` and ``backward`` returns ``None`` (PyTorch's rule for inputs
    that do not require a gradient; see :mod:`neuronet.input_gradient`).
    """

    def __init__(self, *layers: Module):
        for i, layer in enumerate(layers):
            if isinstance(layer, type) and issubclass(layer, Module):
                raise TypeError(f"Sequential takes Module instances; argument {i} is the class "
                                f"{layer.__name__}: call it, {layer.__name__}(...)")
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential takes Modules; argument {i} is {type(layer).__name__}")
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dy):
        for layer in self.layers[:0:-1]:
            dy = layer.backward(dy)
            if dy is None:  # a layer with input_grad=False: nothing below needs a gradient
                return None
        if not self.layers:
            return dy
        first = self.layers[0]
        if getattr(first, "input_grad", False) is None and input_is_data(self):
            return first.backward(dy, input_grad=False)
        return first.backward(dy)

    def backward_curvature(self, d2y):
        for layer in reversed(self.layers):
            d2y = layer.backward_curvature(d2y)
        return d2y

    def append(self, layer: Module) -> "Sequential":
        if not isinstance(layer, Module):
            raise TypeError(f"Sequential.append takes a Module, got {type(layer).__name__}")
        self.layers.append(layer)
        self._sync_spec()
        return self

    def insert(self, index: int, layer: Module) -> "Sequential":
        if not isinstance(layer, Module):
            raise TypeError(f"Sequential.insert takes a Module, got {type(layer).__name__}")
        self.layers.insert(index, layer)
        self._sync_spec()
        return self

    def _sync_spec(self) -> None:
        # A plain Sequential is rebuilt from its layers; a subclass (LeNet5, MLP) from
        # its own constructor arguments, which an added layer must not overwrite.
        if type(self) is Sequential:
            self._spec_args["*layers"] = list(self.layers)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return Sequential(*self.layers[i])
        return self.layers[i]

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)


class Concat(Module):
    """``y = [x, g(x)]`` along the feature (last) axis: the input passed on beside a
    sub-network's output, as each module of a Deep Stacking Network sees it.

    Backward: ``∂E/∂x = ∂E/∂y[:, :D] + g.backward(∂E/∂y[:, D:])``.
    """

    def __init__(self, module: Module):
        if not isinstance(module, Module):
            raise TypeError(f"Concat takes a Module, got {type(module).__name__}")
        self.module = module

    def forward(self, x):
        xp = get_array_module(x)
        self._d = x.shape[-1]
        return xp.concatenate([x, self.module.forward(x)], axis=-1)

    def backward(self, dy):
        d = self._d
        return dy[..., :d] + self.module.backward(dy[..., d:])

    def backward_curvature(self, d2y):
        # Gauss-Newton diagonal: the two paths' curvatures add (cross terms dropped).
        d = self._d
        return d2y[..., :d] + self.module.backward_curvature(d2y[..., d:])
