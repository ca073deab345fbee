"""When a network computes ``∂E/∂x`` for its input: only when something asks for it.

PyTorch computes no gradient for an input that does not require one. neuronet's
analogue: the first layer of the **outermost** :class:`~neuronet.layers.Sequential`
(the network the user called) skips ``∂E/∂x`` — one GEMM for a ``Dense``, the col2im
pass for a ``Conv2d`` — and ``backward`` returns ``None``, unless something asks:

* the layer was built with ``input_grad=True`` (``False`` always skips; the default
  ``None`` is this automatic rule);
* the network is inside another module (a container, ``Concat``, a sequence
  wrapper): its input is then another layer's output and the parent gets ``∂E/∂x``;
* the network's input is the output of the module called just before it at the
  outermost level (``dec.forward(enc.forward(x))``, then ``enc.backward(dec.backward(dy))``);
* the caller asks: ``with input_gradients(): dx = net.backward(dy)`` (gradient
  checks, input saliency).

Outermost means: no other module's ``forward``/``backward`` is running. Every
Module subclass's passes are wrapped (see :class:`~neuronet.module.Module`) to keep
that depth; a pass costs one counter update.
"""
from __future__ import annotations

import contextlib
import functools
import weakref

__all__ = ["input_gradients", "wants_input_grad", "track_pass"]

# Single-threaded by design, like the rest of the engine: a module's passes cache state on it.
_DEPTH = {"forward": 0, "backward": 0}
_FORCED = [0]
_LAST_OUTPUT = [None]  # weak reference to the last outermost forward's output


@contextlib.contextmanager
def input_gradients():
    """Inside this block every network computes ``∂E/∂x`` for its input."""
    _FORCED[0] += 1
    try:
        yield
    finally:
        _FORCED[0] -= 1


def wants_input_grad(setting, hint=None) -> bool:
    """Whether a layer computes ``∂E/∂x``: its own ``input_grad`` setting (``True``/``False``)
    decides; with ``None`` (automatic) it does unless its container passes ``hint=False``."""
    if setting is not None:
        return bool(setting)
    return hint is not False or _FORCED[0] > 0


def input_is_data(module) -> bool:
    """True when ``module`` is being run backward at the outermost level, its last outermost
    forward took an input that no module had just produced, and no one forces ``∂E/∂x``."""
    return (_DEPTH["backward"] == 1 and _FORCED[0] == 0
            and module.__dict__.get("_input_is_data", False))


def _is_last_output(x) -> bool:
    ref = _LAST_OUTPUT[0]
    return ref is not None and ref() is x


def track_pass(fn, kind: str):
    """Wrap a module's ``forward`` or ``backward`` to keep the pass depth (and, for an outermost
    forward, to note whether its input is data or the previous outermost output)."""

    @functools.wraps(fn)
    def wrapper(self, *args, **kwargs):
        outer = _DEPTH[kind] == 0
        if outer and kind == "forward":
            self.__dict__["_input_is_data"] = not (args and _is_last_output(args[0]))
        _DEPTH[kind] += 1
        try:
            out = fn(self, *args, **kwargs)
        finally:
            _DEPTH[kind] -= 1
        if outer and kind == "forward":
            try:
                _LAST_OUTPUT[0] = weakref.ref(out)
            except TypeError:  # not weak-referenceable (a float, a tuple): nothing to chain to
                _LAST_OUTPUT[0] = None
        return out

    wrapper._neuronet_tracks = True
    return wrapper
