"""A saved model is data: its spec (class name + constructor arguments) as JSON,
its arrays beside it.

``encode_json`` turns a spec, optimiser state or user metadata into JSON-able data
with the arrays set aside (referenced as ``{"__array__": key}``); ``decode_json``
reverses it; ``build_module`` builds a Module from a decoded spec, looking the
class up in the registry only (:data:`neuronet.module.MODULES`), so loading a
file can never run code.
"""
from __future__ import annotations

import numpy as np

from .backend import asnumpy
from .module import MODULES, Module

__all__ = ["CheckpointError", "encode_json", "decode_json", "build_module"]


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read back (the message names the file)."""


# ------------------------------------------------------------ JSON coding
def encode_json(obj, arrays: dict, where: str = "value"):
    """``obj`` as JSON-able data; arrays go into ``arrays`` and are referenced by key.

    Tuples become ``{"__tuple__": [...]}``, Modules ``{"__module__": spec}``;
    ``numpy.random.Generator`` objects are dropped (``None``).
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj)
    if isinstance(obj, np.random.Generator):
        return None
    if isinstance(obj, Module):
        return {"__module__": encode_json(obj.spec(), arrays, where)}
    if isinstance(obj, (np.ndarray,)) or hasattr(obj, "__cuda_array_interface__"):
        a = asnumpy(obj)
        if a.dtype.kind not in "biufcU":
            raise TypeError(f"{where}: cannot save an array of dtype {a.dtype} (object arrays "
                            "would need pickle); use numeric arrays")
        key = f"arr/{len(arrays)}"
        arrays[key] = a
        return {"__array__": key}
    if isinstance(obj, np.dtype) or (isinstance(obj, type) and issubclass(obj, np.generic)):
        return {"__dtype__": np.dtype(obj).str}
    if isinstance(obj, tuple):
        return {"__tuple__": [encode_json(v, arrays, where) for v in obj]}
    if isinstance(obj, list):
        return [encode_json(v, arrays, where) for v in obj]
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if not isinstance(k, (str, int)):
                raise TypeError(f"{where}: dict keys must be str or int to save, got {type(k).__name__}")
            out[str(k) if isinstance(k, str) else f"__int__{k}"] = encode_json(v, arrays, f"{where}[{k!r}]")
        return out
    raise TypeError(f"{where}: cannot save a {type(obj).__name__} in a checkpoint; constructor "
                    "arguments and metadata must be numbers, strings, lists, dicts, "
                    "numpy arrays or Modules")


def decode_json(obj, arrays, where: str = "checkpoint"):
    """Inverse of :func:`encode_json` (``arrays`` maps keys to arrays)."""
    if isinstance(obj, list):
        return [decode_json(v, arrays, where) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__array__" in obj:
        key = obj["__array__"]
        if key not in arrays:
            raise CheckpointError(f"{where}: array {key!r} referenced by the JSON is missing")
        return arrays[key]
    if "__tuple__" in obj:
        return tuple(decode_json(v, arrays, where) for v in obj["__tuple__"])
    if "__module__" in obj:
        return build_module(decode_json(obj["__module__"], arrays, where), where)
    if "__dtype__" in obj:
        return np.dtype(obj["__dtype__"])
    return {(int(k[7:]) if k.startswith("__int__") else k): decode_json(v, arrays, where)
            for k, v in obj.items()}


def build_module(spec: dict, where: str = "spec") -> Module:
    """Build a Module from ``{"type": name, "args": {...}}`` (args already decoded).

    Only registered classes (:data:`MODULES`) are built; ``"*name"`` args are
    positional (``*layers`` of Sequential).
    """
    if not isinstance(spec, dict) or "type" not in spec:
        raise CheckpointError(f"{where}: a module spec needs a 'type', got {spec!r:.80}")
    name = spec["type"]
    if name not in MODULES:
        raise CheckpointError(f"{where}: unknown module class {name!r}; known: "
                              f"{', '.join(sorted(MODULES))}")
    args, kwargs = [], {}
    for k, v in (spec.get("args") or {}).items():
        if k.startswith("*"):
            args.extend(v)
        else:
            kwargs[k] = v
    try:
        return MODULES[name](*args, **kwargs)
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{where}: cannot build {name} from its saved arguments: {e}") from None
