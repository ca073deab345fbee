"""Data set augmentation by class-preserving transformations (MISSION B6).

Shifts, rotations, scaling and elastic distortion (Simard, Steinkraus & Platt
2003) of image batches ``(N, H, W)`` or ``(N, C, H, W)``. Every transformation
is a map from each output pixel ``p`` to a source point ``s(p)`` in the input,
read by bilinear interpolation (zero outside the image), vectorised over the
whole batch:

* shift by ``t = (t_y, t_x)``: ``s(p) = p − t``;
* rotation by ``θ`` and scaling by ``k`` about the centre ``c``:
  ``s(p) = c + R(−θ)(p − c) / k``;
* elastic: ``s(p) = p + α·(G_σ * u)(p)`` with ``u`` uniform in ``[−1, 1]²`` per
  pixel and ``G_σ`` a normalised Gaussian of width ``σ`` (zero outside the image);
  ``α = 0`` is the identity.

The random versions take ``rng``/``seed``; the same seed gives the same images.
Labels are untouched: :class:`Augment` returns ``(X', y)`` for ``(X, y)``.
"""
from __future__ import annotations

import numpy as np

from ..module import Module
from ..random import make_rng
from ..validation import check_positive

__all__ = ["translate", "rotate", "scale", "affine", "elastic", "elastic_field",
           "random_affine", "Augment", "RandomAffine", "bilinear_sample"]


# ---------------------------------------------------------------- sampling core
def _as_images(images):
    """``(N, C, H, W)`` float view of ``images`` and a function restoring the caller's layout."""
    x = np.asarray(images)
    if x.dtype.kind not in "fiub":
        raise TypeError(f"images must be numeric, got dtype {x.dtype}")
    if x.ndim not in (3, 4):
        raise ValueError(f"images must be (N, H, W) or (N, C, H, W), got shape {tuple(x.shape)}")
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    x4 = (x[:, None] if x.ndim == 3 else x).astype(dtype, copy=False)
    return x4, (lambda y: y[:, 0] if x.ndim == 3 else y)


def bilinear_sample(images, sy, sx):
    """Read ``images (N, C, H, W)`` at source points ``sy, sx`` ``(N, H', W')``; zero outside.

    ``out = Σ_{corners} (1−|sy−y_k|)(1−|sx−x_k|)·img[y_k, x_k]`` over the 4 integer
    neighbours; the image is padded by one row/column of zeros so points
    outside (clipped to the pad) read 0.
    """
    n, c, h, w = images.shape
    hp, wp = h + 2, w + 2
    flat = np.pad(images, ((0, 0), (0, 0), (1, 1), (1, 1))).reshape(-1)
    # clip into the padded frame [-1, h]: anything further out reads the zero border
    sy = np.clip(sy, -1.0, float(h)) + 1.0
    sx = np.clip(sx, -1.0, float(w)) + 1.0
    y0 = np.minimum(np.floor(sy), h)                      # y0 + 1 stays inside the pad
    x0 = np.minimum(np.floor(sx), w)
    fy = (sy - y0).astype(images.dtype)[:, None]
    fx = (sx - x0).astype(images.dtype)[:, None]
    # flat index of the top-left corner in the padded (N, C, H+2, W+2) batch
    plane = (np.arange(n * c, dtype=np.intp) * (hp * wp)).reshape(n, c, 1)
    base = plane + (y0.astype(np.intp) * wp + x0.astype(np.intp)).reshape(n, 1, -1)
    out_shape = (n, c) + sy.shape[1:]

    def at(offset):
        return flat.take(base + offset).reshape(out_shape)

    top = at(0)
    top += (at(1) - top) * fx
    bottom = at(wp)
    bottom += (at(wp + 1) - bottom) * fx
    top += (bottom - top) * fy
    return top


def _grid(n, h, w, dtype):
    # coordinates in the images' precision: float32 batches need no float64 arithmetic
    py, px = np.meshgrid(np.arange(h, dtype=dtype), np.arange(w, dtype=dtype), indexing="ij")
    return np.broadcast_to(py, (n, h, w)), np.broadcast_to(px, (n, h, w))


def _per_image(value, n, name, size=None):
    """A scalar, or one value (or ``size`` values) per image, as an ``(n, ...)`` float array."""
    v = np.asarray(value, dtype=np.float64)
    shape = (n,) if size is None else (n, size)
    try:
        return np.broadcast_to(v, shape)
    except ValueError:
        raise ValueError(f"{name} must be a scalar or have {n} entries (one per image)"
                         f"{'' if size is None else f' of {size}'}, got shape {v.shape}") from None


# ---------------------------------------------------------------- deterministic transforms
def affine(images, matrices, offsets=0.0):
    """``out(p) = in(c + M (p − c) + o)`` per image: ``matrices (N, 2, 2)`` or ``(2, 2)``,
    ``offsets (N, 2)`` or ``(2,)`` in (row, column) pixels, ``c`` the image centre."""
    x, restore = _as_images(images)
    n, _, h, w = x.shape
    M = np.broadcast_to(np.asarray(matrices, dtype=x.dtype), (n, 2, 2))
    o = _per_image(offsets, n, "offsets", 2).astype(x.dtype)
    py, px = _grid(n, h, w, x.dtype)
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    dy, dx = py - cy, px - cx
    sy = cy + M[:, 0, 0, None, None] * dy + M[:, 0, 1, None, None] * dx + o[:, 0, None, None]
    sx = cx + M[:, 1, 0, None, None] * dy + M[:, 1, 1, None, None] * dx + o[:, 1, None, None]
    return restore(bilinear_sample(x, sy, sx))


def translate(images, shifts):
    """Shift by ``shifts`` = ``(t_y, t_x)`` pixels (or one pair per image), zero fill.

    An integer shift is exact: ``out[i, j] = in[i − t_y, j − t_x]`` (0 where that is outside).
    """
    n = np.asarray(images).shape[0]
    return affine(images, np.eye(2), -_per_image(shifts, n, "shifts", 2))


def _rotation_scale(angles_deg, factors, n):
    # rows point down, so a counter-clockwise turn on screen is −θ in (row, column) axes
    th = -np.deg2rad(_per_image(angles_deg, n, "angles"))
    k = _per_image(factors, n, "factors")
    if np.any(k <= 0):
        raise ValueError("scale factors must be > 0")
    cos, sin = np.cos(th) / k, np.sin(th) / k
    # source = R(−θ)(p − c)/k in (row, column) coordinates
    return np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)


def rotate(images, angles):
    """Rotate by ``angles`` degrees (scalar or one per image) about the centre,
    counter-clockwise as displayed (``rotate(x, 90)`` is ``np.rot90(x, 1, axes=(-2, -1))``)."""
    n = np.asarray(images).shape[0]
    return affine(images, _rotation_scale(angles, 1.0, n))


def scale(images, factors):
    """Zoom by ``factors`` (> 1 enlarges) about the centre."""
    n = np.asarray(images).shape[0]
    return affine(images, _rotation_scale(0.0, factors, n))


# ---------------------------------------------------------------- elastic distortion
def _gaussian_matrix(size, sigma):
    """``(size, size)`` matrix of a normalised Gaussian blur, zero outside [0, size)."""
    radius = max(1, int(np.ceil(3 * sigma)))
    t = np.arange(-radius, radius + 1)
    g = np.exp(-0.5 * (t / sigma) ** 2)
    g /= g.sum()
    d = np.arange(size)[:, None] - np.arange(size)[None, :]
    return np.where(np.abs(d) <= radius, g[np.clip(d + radius, 0, 2 * radius)], 0.0)


def elastic_field(n, shape, sigma=4.0, alpha=34.0, rng=None, seed=None):
    """Simard's displacement field ``α·(G_σ * u)``, ``u ~ U[−1, 1]``: ``(n, 2, H, W)``.

    The blur is separable: ``G_H u G_Wᵀ`` as two batched matrix products.
    """
    check_positive(sigma, "sigma")
    check_positive(alpha, "alpha", allow_zero=True)
    h, w = shape
    gen = make_rng(rng, seed)
    u = gen.uniform(-1.0, 1.0, (n, 2, h, w))
    return alpha * (_gaussian_matrix(h, sigma) @ u @ _gaussian_matrix(w, sigma).T)


def elastic(images, sigma=4.0, alpha=34.0, rng=None, seed=None):
    """Elastic distortion (Simard et al. 2003); ``alpha=0`` returns the images unchanged."""
    x, restore = _as_images(images)
    n, _, h, w = x.shape
    field = elastic_field(n, (h, w), sigma, alpha, rng=rng, seed=seed).astype(x.dtype)
    py, px = _grid(n, h, w, x.dtype)
    return restore(bilinear_sample(x, py + field[:, 0], px + field[:, 1]))


# ---------------------------------------------------------------- random combination
def random_affine(images, max_shift=2.0, max_rotation=10.0, max_scale=0.1, elastic_alpha=0.0,
                  elastic_sigma=4.0, rng=None, seed=None):
    """Each image gets its own uniform shift ``|t| ≤ max_shift`` (pixels), rotation
    ``|θ| ≤ max_rotation`` (degrees), scale ``k ∈ [1 − max_scale, 1 + max_scale]``
    and, with ``elastic_alpha > 0``, an elastic field; one bilinear pass for all."""
    for v, nm in ((max_shift, "max_shift"), (max_rotation, "max_rotation"),
                  (max_scale, "max_scale"), (elastic_alpha, "elastic_alpha")):
        check_positive(v, nm, allow_zero=True)
    if max_scale >= 1:
        raise ValueError(f"max_scale must be < 1, got {max_scale}")
    x, restore = _as_images(images)
    n, _, h, w = x.shape
    gen = make_rng(rng, seed)
    t = gen.uniform(-max_shift, max_shift, (n, 2)).astype(x.dtype)
    M = _rotation_scale(gen.uniform(-max_rotation, max_rotation, n),
                        gen.uniform(1 - max_scale, 1 + max_scale, n), n)
    M = M.astype(x.dtype)
    py, px = _grid(n, h, w, x.dtype)
    if elastic_alpha > 0:
        field = elastic_field(n, (h, w), elastic_sigma, elastic_alpha, rng=gen).astype(x.dtype)
        py, px = py + field[:, 0], px + field[:, 1]
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    dy, dx = py - cy, px - cx
    sy = cy + M[:, 0, 0, None, None] * dy + M[:, 0, 1, None, None] * dx - t[:, 0, None, None]
    sx = cx + M[:, 1, 0, None, None] * dy + M[:, 1, 1, None, None] * dx - t[:, 1, None, None]
    return restore(bilinear_sample(x, sy, sx))


class Augment:
    """A seeded, reusable augmentation: ``Augment(...)(X, y) -> (X', y)``.

    ``X`` is ``(N, H, W)``, ``(N, C, H, W)``, or flat ``(N, H·W)`` square images
    (given back flat). Labels pass through unchanged. Parameters as in
    :func:`random_affine`; each call draws new transformations from the
    object's generator.
    """

    def __init__(self, max_shift=2.0, max_rotation=10.0, max_scale=0.1, elastic_alpha=0.0,
                 elastic_sigma=4.0, rng=None, seed=None):
        self.kw = dict(max_shift=max_shift, max_rotation=max_rotation, max_scale=max_scale,
                       elastic_alpha=elastic_alpha, elastic_sigma=elastic_sigma)
        self.rng = make_rng(rng, seed)

    def __call__(self, X, y=None):
        X = np.asarray(X)
        flat = X.ndim == 2
        if flat:
            side = int(round(np.sqrt(X.shape[1])))
            if side * side != X.shape[1]:
                raise ValueError(f"flat images must be square (N, H·H), got shape {X.shape}")
            X = X.reshape(-1, side, side)
        out = random_affine(X, rng=self.rng, **self.kw)
        if flat:
            out = out.reshape(out.shape[0], -1)
        return out if y is None else (out, y)


class RandomAffine(Module):
    """Augmentation as the first layer of a net: in training mode each forward
    pass distorts its batch with :func:`random_affine`; in eval mode it is the
    identity. So ``nt.fit`` trains on freshly distorted digits every epoch while
    validation and prediction see the originals. It passes no gradient (the
    input of a net needs none): ``backward`` returns ``None``.
    """

    def __init__(self, max_shift=2.0, max_rotation=10.0, max_scale=0.1, elastic_alpha=0.0,
                 elastic_sigma=4.0, rng=None, seed=None):
        # the generator is a module attribute so checkpoints save its state (exact resume)
        self.rng = make_rng(rng, seed)
        self.augment = Augment(max_shift, max_rotation, max_scale, elastic_alpha, elastic_sigma,
                               rng=self.rng)

    def forward(self, x):
        if not self.training:
            return x
        return self.augment(x).astype(np.asarray(x).dtype if np.asarray(x).dtype.kind == "f"
                                      else np.float32, copy=False)

    def backward(self, dy):
        return None

    def backward_curvature(self, d2y):
        return None
