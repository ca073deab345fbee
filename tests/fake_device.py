"""A CPU stand-in for CuPy, so the GPU code paths run in CI without a GPU (imported, not collected).

``install(monkeypatch)`` makes ``neuronet.backend`` (and ``import cupy``) see the module
:data:`fake`: :class:`Device` arrays (a NumPy array inside, not an ``np.ndarray`` outside) dispatch to it, and they behave
as CuPy's do where host and device meet: a ufunc or NumPy function given a ``Device``
array and a host array of one or more dimensions raises :class:`HostDeviceMix`,
``np.asarray`` of a ``Device`` array raises (CuPy refuses implicit copies to the host),
``fake.asnumpy`` is the explicit copy, reductions give 0-d arrays, not scalars, and
``fake.random.default_rng`` draws ``Device`` arrays. ``fake.ElementwiseKernel`` runs a
kernel's C source with :func:`kernel_from_source`, a small interpreter of the loop bodies
of :mod:`neuronet.kernels.cupy_kernels` (declarations ``T x = …`` become locals, casts
``(T)…`` the dtype, assignments to outputs write in place).

What it cannot show: that CUDA compiles the kernels, or that CuPy has every NumPy
function the code calls (``fake`` forwards any name to NumPy). Those need a GPU.
"""
from __future__ import annotations

import re
import sys
import types

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin


class HostDeviceMix(TypeError):
    """A host (NumPy) array met a device array: CuPy raises here."""


def _check(objs):
    for x in objs:
        if isinstance(x, (list, tuple)):
            _check(x)
        elif isinstance(x, np.ndarray) and x.ndim > 0:
            raise HostDeviceMix(f"a host array of shape {x.shape} mixed with device arrays")


def _host(x):
    if isinstance(x, Device):
        return x.a
    if isinstance(x, (list, tuple)):
        return type(x)(_host(v) for v in x)
    if isinstance(x, dict):
        return {k: _host(v) for k, v in x.items()}
    return x


def _dev(x):
    if isinstance(x, np.ndarray):
        return Device(x)
    if isinstance(x, np.generic):  # CuPy returns 0-d arrays where NumPy returns scalars
        return Device(np.asarray(x))
    if isinstance(x, (list, tuple)):
        return type(x)(_dev(v) for v in x)
    return x


class Device(NDArrayOperatorsMixin):
    """An array "on the device": a NumPy array inside, not an ``np.ndarray`` outside."""

    __slots__ = ("a",)
    __hash__ = None

    def __init__(self, a: np.ndarray):
        self.a = a

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kw):
        _check(inputs)
        if out is not None:
            _check(out)
            kw["out"] = tuple(_host(o) for o in out)
        result = getattr(ufunc, method)(*_host(inputs), **kw)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _dev(result)

    def __array_function__(self, func, types_, args, kwargs):
        _check(args)
        _check(list(kwargs.values()))
        return _dev(func(*_host(args), **_host(kwargs)))

    def __array__(self, dtype=None, copy=None):
        raise TypeError("implicit conversion of a device array to a NumPy array (use asnumpy)")

    def __getattr__(self, name):
        if name.startswith("__"):  # no __array_interface__ & co.: NumPy must not read it silently
            raise AttributeError(name)
        attr = getattr(self.a, name)
        if not callable(attr):
            return _dev(attr)

        def method(*args, **kw):
            _check(list(args) + list(kw.values()))
            return _dev(attr(*_host(args), **_host(kw)))
        return method

    def __getitem__(self, key):
        _check([key])
        return _dev(self.a[_host(key)])

    def __setitem__(self, key, value):
        _check([key, value])
        self.a[_host(key)] = _host(value)

    def __len__(self):
        return len(self.a)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __float__(self):
        return float(self.a)

    def __int__(self):
        return int(self.a)

    def __bool__(self):
        return bool(self.a)

    def __format__(self, spec):
        return format(self.a.item(), spec) if self.a.ndim == 0 else format(str(self), spec)

    def __repr__(self):
        return f"Device({self.a!r})"


def _wrap(fn):
    def call(*args, **kw):
        _check(list(args) + list(kw.values()))
        return _dev(fn(*_host(args), **_host(kw)))
    return call


class _Generator:
    """``cupy.random.Generator``: NumPy's, drawing ``Device`` arrays."""

    def __init__(self, seed):
        self._g = np.random.default_rng(seed)

    def __getattr__(self, name):
        fn = getattr(self._g, name)
        return lambda *a, **kw: _dev(np.asarray(_host(_wrap(fn)(*a, **kw))))


# ------------------------------------------------------------------ kernels from their C source
def _names(params: str) -> list:
    return [p.split()[-1] for p in params.split(",")]


def _python(body: str, outputs: list) -> str:
    """A kernel's C loop body as Python statements over whole arrays."""
    lines = []
    for stmt in filter(None, (s.strip() for s in body.split(";"))):
        stmt = re.sub(r"^T (\w+)", r"\1", stmt)                 # a local declaration
        stmt = re.sub(r"\(T\)([\w.]+)", r"_T(\1)", stmt)        # (T)1, (T)0
        stmt = stmt.replace("(T)(", "_T(")                      # (T)(y > …)
        target, op, value = re.match(r"(\w+)\s*([-+]?=)\s*(.*)", stmt).groups()
        lines.append(f"{target}[...] {op} {value}" if target in outputs else f"{target} {op} {value}")
    return "\n".join(lines)


def kernel_from_source(inputs: str, outputs: str, body: str, name: str = "kernel"):
    """``cupy.ElementwiseKernel(inputs, outputs, body, name)`` run by NumPy: called with the
    input arguments then the output arrays, it updates the outputs in place."""
    names, outs = _names(inputs) + _names(outputs), _names(outputs)
    code = compile(_python(body, outs), f"<kernel {name}>", "exec")

    def run(*args):
        assert len(args) == len(names), (name, len(args), names)
        if any(isinstance(a, Device) for a in args):
            _check(args)
        dtype = next(_host(a).dtype for a in args if isinstance(a, (np.ndarray, Device)))
        scope = {"exp": np.exp, "sqrt": np.sqrt, "_T": dtype.type}
        scope.update({n: _host(a) if isinstance(a, (np.ndarray, Device)) else dtype.type(a)
                      for n, a in zip(names, args)})
        exec(code, scope)
    return run


class _Fake(types.ModuleType):
    ndarray = Device

    def __getattr__(self, name):
        attr = getattr(np, name)
        if isinstance(attr, types.ModuleType):
            return types.SimpleNamespace(**{k: _wrap(v) for k, v in vars(attr).items() if callable(v)})
        return _wrap(attr) if callable(attr) and not isinstance(attr, type) else attr


fake = _Fake("cupy")
fake.asarray = lambda x, dtype=None: _dev(np.asarray(_host(x), dtype=dtype))
fake.array = lambda x, dtype=None, copy=True: _dev(np.array(_host(x), dtype=dtype, copy=copy))
fake.asnumpy = lambda x: np.array(_host(x))
fake.random = types.SimpleNamespace(default_rng=_Generator)
fake.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=lambda: 1))
fake.ElementwiseKernel = kernel_from_source


def install(monkeypatch):
    """Make ``fake`` the CuPy that neuronet sees (undone with ``monkeypatch``); returns it."""
    import scipy.special

    from neuronet import backend
    from neuronet.kernels import cupy_kernels

    cupyx = types.ModuleType("cupyx")
    cupyx.scipy = types.SimpleNamespace(special=types.SimpleNamespace(gammaln=_wrap(scipy.special.gammaln)))
    for name, module in (("cupy", fake), ("cupyx", cupyx), ("cupyx.scipy", cupyx.scipy),
                         ("cupyx.scipy.special", cupyx.scipy.special)):
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(backend, "_cupy", fake)
    cupy_kernels._kernel.cache_clear()  # kernels built from here on are the interpreted ones
    return fake
