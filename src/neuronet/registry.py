"""One registry for every class a saved spec or a config may name.

Modules, losses, optimisers, callbacks (learning-rate schedules among them) and
unit types are registered under their class name when the class is defined, and
each records the arguments its constructor was called with (its *spec*), so a
saved model or a TOML config is data: loading it can build only registered
classes, never run code.

Registering a second, different class under a name already taken is an error
unless asked for explicitly (``class MyDense(Module, name="Dense", replace=True)``).
Classes defined inside a function are not registered (a spec could not find them
again in another process), nor private ones (a name starting with ``_``).
"""
from __future__ import annotations

import functools
import inspect
from collections import OrderedDict
from collections.abc import Mapping

__all__ = ["Registry", "Registered", "REGISTRIES", "capture_init"]


class Registry(Mapping):
    """Name → class for one kind of object (``"module"``, ``"loss"``, ...)."""

    def __init__(self, kind: str):
        self.kind = kind
        self._classes: dict = {}

    def add(self, name: str, cls: type, replace: bool = False) -> type:
        old = self._classes.get(name)
        if old is not None and old is not cls and not replace and not _same_definition(old, cls):
            raise ValueError(f"a {self.kind} named {name!r} is already registered "
                             f"({old.__module__}.{old.__qualname__}); to register "
                             f"{cls.__module__}.{cls.__qualname__} under that name pass replace=True, "
                             f"or give it another name")
        self._classes[name] = cls
        return cls

    def get_class(self, name: str) -> type:
        """The class registered as ``name``; a ``ValueError`` listing the known names if none."""
        if not isinstance(name, str) or name not in self._classes:
            raise ValueError(f"unknown {self.kind} {name!r}; known: {', '.join(sorted(self._classes))}")
        return self._classes[name]

    def __getitem__(self, name):
        return self._classes[name]

    def __iter__(self):
        return iter(self._classes)

    def __len__(self):
        return len(self._classes)

    def __repr__(self):
        return f"Registry({self.kind!r}: {', '.join(sorted(self._classes))})"


def _same_definition(old: type, new: type) -> bool:
    """The same class defined again (a re-imported module), not a different one."""
    return (old.__module__, old.__qualname__) == (new.__module__, new.__qualname__)


REGISTRIES: dict = {}


def capture_init(init):
    """Wrap ``__init__`` to record the outermost call's arguments as ``_spec_args``."""
    sig = inspect.signature(init)

    @functools.wraps(init)
    def wrapper(self, *args, **kwargs):
        if "_spec_args" not in self.__dict__:
            bound = sig.bind(self, *args, **kwargs)
            spec_args = OrderedDict()
            for pname, value in list(bound.arguments.items())[1:]:
                kind = sig.parameters[pname].kind
                if kind is inspect.Parameter.VAR_POSITIONAL:
                    spec_args["*" + pname] = list(value)
                elif kind is inspect.Parameter.VAR_KEYWORD:
                    spec_args.update(value)
                else:
                    spec_args[pname] = value
            self.__dict__["_spec_args"] = spec_args
        init(self, *args, **kwargs)

    wrapper._neuronet_captures = True
    return wrapper


class Registered:
    """Base of every registrable kind: subclasses are registered and record their spec.

    A kind's root class names its registry: ``class Loss(Registered, kind="loss")``.
    """
    _registry: Registry | None = None

    def __init_subclass__(cls, kind: str | None = None, name: str | None = None,
                          replace: bool = False, **kwargs):
        super().__init_subclass__(**kwargs)
        if kind is not None:
            cls._registry = REGISTRIES.setdefault(kind, Registry(kind))
        if "__init__" in cls.__dict__ and not getattr(cls.__init__, "_neuronet_captures", False):
            cls.__init__ = capture_init(cls.__dict__["__init__"])
        public = "<locals>" not in cls.__qualname__ and not cls.__name__.startswith("_")
        if kind is None and cls._registry is not None and public:
            cls._registry.add(name or cls.__name__, cls, replace)

    def spec(self) -> dict:
        """``{"type": class name, "args": constructor arguments}`` (JSON-friendly)."""
        return {"type": type(self).__name__, "args": dict(self.__dict__.get("_spec_args", {}))}
