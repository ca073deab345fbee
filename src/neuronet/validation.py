"""Argument checking shared by every layer, loss and model.

Errors say what was expected and what came, in the caller's words
(scikit-learn's habit), so a user never sees a traceback from deep in NumPy.
"""
from __future__ import annotations

import numbers

import numpy as np

from .backend import get_array_module


def as_float_array(x, dtype, name: str = "input", like=None):
    """``x`` as a floating array of ``dtype``; integers and bools are converted.

    ``like`` (a model's parameter array): ``x`` is put on its device, so host data
    given to a model on a GPU are copied there once, at the call.
    Raises ``TypeError`` for non-numeric data (strings, objects, complex).
    """
    if like is not None and get_array_module(like) is not np:
        x = get_array_module(like).asarray(x)
    xp = get_array_module(x)
    if not hasattr(x, "dtype"):
        try:
            x = np.asarray(x)
        except Exception as e:  # ragged lists and the like
            raise TypeError(f"{name} must be a numeric array, could not convert: {e}") from None
    kind = x.dtype.kind
    if kind not in "fiub":
        raise TypeError(f"{name} must be a numeric array (float, int or bool), got dtype {x.dtype}")
    if x.dtype != dtype:
        x = xp.asarray(x, dtype=dtype)
    return x


def check_ndim(x, ndim, name: str = "input", layout: str | None = None):
    """Raise ``ValueError`` unless ``x.ndim`` is ``ndim`` (an int or a tuple of ints)."""
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if x.ndim not in allowed:
        want = " or ".join(f"{d}-D" for d in allowed)
        lay = f" {layout}" if layout else ""
        raise ValueError(f"{name} must be {want}{lay}, got a {x.ndim}-D array of shape {tuple(x.shape)}")


def check_features(x, n: int, axis: int = -1, name: str = "input", what: str = "features"):
    """Raise ``ValueError`` unless ``x.shape[axis] == n``."""
    if x.shape[axis] != n:
        raise ValueError(f"{name} must have {n} {what} on axis {axis}, got shape {tuple(x.shape)}")


def check_nonempty(x, name: str = "X"):
    """Raise ``ValueError`` unless ``x`` holds at least one object (row)."""
    if x.shape[0] == 0:
        raise ValueError(f"{name} is empty: no training objects (shape {tuple(x.shape)})")
    return x


def check_upstream(d, cached, shape, name: str):
    """A backward pass's incoming ``d`` (``∂E/∂y`` or ``∂²E/∂y²``): ``RuntimeError`` when
    ``cached`` (what the forward pass stored) is ``None``, i.e. backward came before forward;
    ``ValueError`` unless ``d`` has the forward output's ``shape``."""
    if cached is None:
        raise RuntimeError(f"{name}: backward called before forward()")
    if tuple(d.shape) != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)} (the forward output's), got {tuple(d.shape)}")
    return d


def check_positive(value, name: str, allow_zero: bool = False):
    """Raise unless ``value`` is a real number > 0 (or >= 0 with ``allow_zero``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return value


def check_real(value, name: str) -> float:
    """Raise unless ``value`` is a finite real number (not bool); returns it as a float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    return float(value)


def check_template(template: str, name: str, **example):
    """Raise ``ValueError`` unless ``template.format(**example)`` works: its only fields
    are those of ``example`` (a file-name template such as ``'ckpt-{epoch:03d}.npz'``)."""
    try:
        template.format(**example)
    except (KeyError, IndexError, ValueError) as e:
        raise ValueError(f"{name} {template!r} may use only the fields {{{', '.join(example)}}} "
                         f"(e.g. {{epoch:03d}}); formatting it failed: {e!r}") from None
    return template


def check_int(value, name: str, minimum: int | None = None):
    """Raise unless ``value`` is an int (not bool), at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_sizes(sizes, name: str = "sizes", min_len: int = 1, what: str = "layer sizes"):
    """``sizes`` as a list of ints >= 1 with at least ``min_len`` entries (layer widths)."""
    try:
        sizes = list(sizes)
    except TypeError:
        raise TypeError(f"{name} must be a list of {what}, got {type(sizes).__name__}") from None
    if len(sizes) < min_len:
        raise ValueError(f"{name} must list at least {min_len} {what}, got {sizes}")
    return [check_int(n, f"{name}[{i}]", minimum=1) for i, n in enumerate(sizes)]


def check_probability(value, name: str, closed_right: bool = False):
    """Raise unless ``0 <= value < 1`` (``<= 1`` with ``closed_right``)."""
    check_positive(value, name, allow_zero=True)
    if value > 1 or (value == 1 and not closed_right):
        bound = "[0, 1]" if closed_right else "[0, 1)"
        raise ValueError(f"{name} must be in {bound}, got {value}")
    return float(value)


def check_finite(x, name: str = "input"):
    """Raise ``ValueError`` if ``x`` holds NaN or infinity."""
    xp = get_array_module(x)
    if not bool(xp.isfinite(x).all()):
        raise ValueError(f"{name} contains NaN or infinity")


def as_symmetric_weights(W, dtype, atol: float = 1e-8, name: str = "W"):
    """``W`` as a float ``(n, n)`` array of ``dtype``, checked finite, symmetric
    (``w_ij = w_ji``) and with a zero diagonal (``w_ii = 0``) to within ``atol``:
    the weights of a Hopfield net or a Boltzmann machine. Refused, not fixed."""
    W = as_float_array(W, dtype, name)
    check_ndim(W, 2, name)
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"{name} must be a square (n, n) matrix, got shape {tuple(W.shape)}")
    check_finite(W, name)
    xp = get_array_module(W)
    asym = float(xp.max(xp.abs(W - W.T))) if W.size else 0.0
    if asym > atol:
        raise ValueError(f"{name} must be symmetric (w_ij = w_ji); largest |w_ij − w_ji| is {asym:.3g}")
    diag = float(xp.max(xp.abs(xp.diag(W)))) if W.size else 0.0
    if diag > atol:
        raise ValueError(f"{name} must have a zero diagonal (w_ii = 0); largest |w_ii| is {diag:.3g}")
    return W


def check_choice(value, name: str, choices):
    """Raise ``ValueError`` unless ``value`` is one of ``choices`` (named in the message)."""
    if value not in tuple(choices):
        raise ValueError(f"{name} must be one of {sorted(map(str, choices))}, got {value!r}")
    return value
