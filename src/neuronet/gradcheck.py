"""Numerical gradient check (MISSION A8): hand-written backward vs finite differences.

For a module ``f`` and a fixed random upstream gradient ``u`` the scalar
``E(x, θ) = Σ u ⊙ f(x; θ)`` has ``∂E/∂x = f.backward(u)`` and ``∂E/∂θ = θ.grad``.
Each entry is compared with the central difference
``(E(z + h) − E(z − h)) / 2h``. For a loss ``L(y, t)`` the check is of
``∂L/∂y = L.backward()`` against differences of ``L(y ± h, t)``.
Run it in float64 (``module.astype(np.float64)``); in float32 the differences
are too noisy for tight tolerances.
"""
from __future__ import annotations

import numpy as np

from .backend import asnumpy
from .input_gradient import input_gradients
from .random import make_rng

__all__ = ["gradcheck", "numerical_gradient", "GradcheckError"]


class GradcheckError(AssertionError):
    """An analytic gradient differs from the finite-difference one."""


def numerical_gradient(fn, z, eps: float = 1e-6):
    """Central differences ``(fn() at z+h − fn() at z−h)/2h`` for every entry of ``z``.

    ``z`` is changed in place and restored; ``fn()`` must read it and return a float.
    """
    grad = np.zeros(z.shape, dtype=np.float64)
    flat = z.reshape(-1)  # a view: writes reach z
    if flat.base is None and z.size:
        raise ValueError("numerical_gradient needs a contiguous array it can perturb in place")
    for i in range(flat.size):
        old = flat[i].item()
        flat[i] = old + eps
        up = fn()
        flat[i] = old - eps
        down = fn()
        flat[i] = old
        grad.reshape(-1)[i] = (up - down) / (2 * eps)
    return grad


def _compare(name, analytic, numeric, atol, rtol, failures):
    analytic = np.asarray(asnumpy(analytic), dtype=np.float64)
    if analytic.shape != numeric.shape:
        failures.append(f"{name}: analytic gradient has shape {analytic.shape}, expected {numeric.shape}")
        return
    err = np.abs(analytic - numeric)
    bad = err > atol + rtol * np.abs(numeric)
    if bad.any():
        i = np.unravel_index(int(np.argmax(err)), err.shape)
        failures.append(f"{name}: {int(bad.sum())} of {err.size} entries differ; worst at index {i}: "
                        f"analytic {analytic[i]:.8g}, numerical {numeric[i]:.8g}")


def _check_loss(loss, x, target, eps, atol, rtol, failures):
    """``loss.backward()`` against central differences of ``loss.forward(x, target)``."""
    if target is None:
        raise ValueError("gradcheck of a loss needs target=")
    loss.forward(x, target)
    analytic = loss.backward()
    numeric = numerical_gradient(lambda: float(loss.forward(x, target)), x, eps)
    _compare("output", analytic, numeric, atol, rtol, failures)


def _check_module(module, x, dy, params, rng, eps, atol, rtol, failures):
    """∂E/∂x and every ∂E/∂θ of ``E = Σ dy·module(x)`` against central differences."""
    ps = module.parameters() if params else []
    for p in ps:
        if p.data.dtype != np.float64:
            raise ValueError(f"gradcheck needs float64 parameters, got {p.data.dtype} for "
                             f"{p.name or '?'}: call module.astype(np.float64) first")
    y = module.forward(x)
    if dy is None:
        dy = rng.standard_normal(np.shape(y))
    dy = np.asarray(asnumpy(dy), dtype=np.float64)

    def energy():
        return float(np.sum(asnumpy(module.forward(x)) * dy))

    for p in ps:
        p.zero_grad()
    module.forward(x)
    with input_gradients():  # a gradient check checks ∂E/∂x too
        dx = module.backward(dy)
    if dx is not None:
        _compare("input", dx, numerical_gradient(energy, x, eps), atol, rtol, failures)
    for name, p in (module.named_parameters() if params else []):
        grad = np.array(asnumpy(p.grad), dtype=np.float64)
        numeric = numerical_gradient(energy, p.data, eps)
        if p.mask is not None:  # pruned weights are frozen; compare the live ones
            live = asnumpy(p.mask)
            grad, numeric = grad * live, numeric * live
        _compare(f"parameter {name}", grad, numeric, atol, rtol, failures)


def gradcheck(module, x, target=None, dy=None, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-4, params: bool = True, rng=None, seed: int | None = 0,
              raise_exception: bool = True) -> bool:
    """Check a module's (or a loss's) backward against central differences.

    ``module``: a :class:`~neuronet.module.Module` (then ``x`` is its input) or a
    loss with ``forward(output, target)``/``backward()`` (then ``x`` is the output
    it scores and ``target`` is required). ``dy``: the upstream gradient for a
    module (random normal from ``rng``/``seed`` when not given — never all ones,
    which hides transposition bugs). ``params``: also check every parameter's
    gradient. The module must be deterministic between calls (put Dropout in
    eval mode or give it a fixed mask). Returns ``True``; on a mismatch raises
    :class:`GradcheckError` naming the input or parameter and the worst entry
    (or returns ``False`` with ``raise_exception=False``).
    """
    is_loss = not hasattr(module, "parameters") and hasattr(module, "forward")
    x = np.array(asnumpy(x), dtype=np.float64)  # a private copy to perturb
    failures: list[str] = []
    if is_loss:
        _check_loss(module, x, target, eps, atol, rtol, failures)
    else:
        _check_module(module, x, dy, params, make_rng(rng, seed if rng is None else None),
                      eps, atol, rtol, failures)
    if failures:
        if raise_exception:
            raise GradcheckError(f"gradcheck of {type(module).__name__} failed:\n  " + "\n  ".join(failures))
        return False
    return True
