"""Array backend: NumPy on the CPU, CuPy on a GPU, with the same code.

Every function takes the array module from its arguments (Chainer's duality):
``xp = get_array_module(x)`` is ``numpy`` or ``cupy``.  The library never holds
a global backend; only the default floating dtype is global.
"""
from __future__ import annotations

import numpy as np

try:  # CuPy is optional: the library runs without it and GPU tests skip.
    import cupy as _cupy  # type: ignore
except Exception:  # pragma: no cover - depends on the machine
    _cupy = None

_DEFAULT_DTYPE = np.dtype(np.float32)


def cupy_available() -> bool:
    """True when CuPy imports and sees at least one CUDA device."""
    if _cupy is None:
        return False
    try:
        return _cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # pragma: no cover - depends on the machine
        return False


def get_array_module(*arrays):
    """``cupy`` if any argument is a CuPy array, else ``numpy``."""
    if _cupy is not None:
        for a in arrays:
            if isinstance(a, _cupy.ndarray):
                return _cupy
    return np


def get_default_dtype() -> np.dtype:
    """The floating dtype new parameters are created in (float32 unless changed)."""
    return _DEFAULT_DTYPE


def check_float_dtype(dtype, what: str = "dtype") -> np.dtype:
    """The dtype policy: parameters are float32 or float64, nothing else."""
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"{what} must be float32 or float64, got {dt}")
    return dt


def set_default_dtype(dtype) -> None:
    """Set the dtype of new parameters: ``np.float32`` or ``np.float64``."""
    global _DEFAULT_DTYPE
    _DEFAULT_DTYPE = check_float_dtype(dtype, "default dtype")


def to_device(x, device: str = "cpu"):
    """Move an array to ``'cpu'`` (NumPy) or ``'cuda'`` (CuPy)."""
    if device == "cpu":
        return asnumpy(x)
    if device in ("cuda", "gpu"):
        if _cupy is None:
            raise RuntimeError("device 'cuda' needs CuPy: pip install cupy-cuda12x")
        return _cupy.asarray(x)
    raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")


def device_of(x) -> str:
    """``'cuda'`` for a CuPy array, else ``'cpu'``: the name ``Module.to`` takes."""
    return "cuda" if get_array_module(x) is not np else "cpu"


def step_scalar(x):
    """A scalar a training step reports: a Python ``float`` from NumPy; from CuPy the 0-d
    device array itself, so the step copies nothing to the host (whoever reads the value,
    e.g. at the end of an epoch, makes the one copy)."""
    if _cupy is not None and isinstance(x, _cupy.ndarray):
        return x
    return float(x)


def asnumpy(x):
    """A NumPy array from a NumPy or CuPy array (or anything array-like)."""
    if _cupy is not None and isinstance(x, _cupy.ndarray):
        return _cupy.asnumpy(x)
    return np.asarray(x)
