"""Augmentation (nt.data.augment): shapes, labels, seeds, exact special cases."""
from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet.data import augment as A


def test_integer_shift_is_roll_with_zero_fill(rng):
    x = rng.random((4, 7, 9))
    out = A.translate(x, (1, -2))
    ref = np.zeros_like(x)
    ref[:, 1:, :-2] = x[:, :-1, 2:]
    np.testing.assert_array_equal(out, ref)
    # one shift per image, channels kept
    x4 = rng.random((2, 3, 5, 5))
    out = A.translate(x4, [(0, 1), (2, 0)])
    np.testing.assert_array_equal(out[0, :, :, 1:], x4[0, :, :, :-1])
    np.testing.assert_array_equal(out[0, :, :, 0], 0)
    np.testing.assert_array_equal(out[1, :, 2:], x4[1, :, :-2])


def test_half_pixel_shift_is_bilinear_average(rng):
    x = rng.random((1, 4, 6))
    out = A.translate(x, (0, 0.5))
    np.testing.assert_allclose(out[0, :, 1:], 0.5 * (x[0, :, :-1] + x[0, :, 1:]))


def test_identities(rng):
    x = rng.random((3, 8, 8))
    np.testing.assert_array_equal(A.elastic(x, sigma=4, alpha=0, seed=1), x)
    np.testing.assert_allclose(A.rotate(x, 0), x, atol=1e-12)
    np.testing.assert_allclose(A.scale(x, 1.0), x, atol=1e-12)
    np.testing.assert_allclose(A.random_affine(x, 0, 0, 0, seed=3), x, atol=1e-12)


def test_rotation_by_90_degrees_is_rot90(rng):
    x = rng.random((2, 7, 7))
    np.testing.assert_allclose(A.rotate(x, 90), np.rot90(x, 1, axes=(1, 2)), atol=1e-12)


def test_scaling_keeps_centre_and_enlarges(rng):
    x = np.zeros((1, 9, 9))
    x[0, 3:6, 3:6] = 1.0
    big = A.scale(x, 2.0)
    assert big[0, 4, 4] == 1.0
    assert (big > 0.5).sum() > (x > 0.5).sum()


def test_elastic_field_smooth_and_scaled():
    f1 = A.elastic_field(2, (28, 28), sigma=4, alpha=1.0, seed=0)
    f34 = A.elastic_field(2, (28, 28), sigma=4, alpha=34.0, seed=0)
    assert f1.shape == (2, 2, 28, 28)
    np.testing.assert_allclose(f34, 34 * f1)
    # smoothing: neighbouring displacements are close, unlike raw U[-1, 1] noise
    assert np.abs(np.diff(f1, axis=-1)).mean() < 0.1 * np.abs(f1).mean() + 0.05
    with pytest.raises(ValueError, match="sigma"):
        A.elastic_field(1, (5, 5), sigma=0)


def test_augment_keeps_labels_shapes_and_is_seeded(rng):
    X = rng.integers(0, 256, (6, 28, 28)).astype(np.uint8)
    y = rng.integers(0, 10, 6)
    X1, y1 = A.Augment(elastic_alpha=8.0, seed=5)(X, y)
    X2, _ = A.Augment(elastic_alpha=8.0, seed=5)(X, y)
    X3, _ = A.Augment(elastic_alpha=8.0, seed=6)(X, y)
    assert X1.shape == X.shape and X1.dtype == np.float32
    assert y1 is y
    np.testing.assert_array_equal(X1, X2)
    assert not np.allclose(X1, X3)
    flat = A.Augment(seed=5)(X.reshape(6, -1).astype(np.float64))
    assert flat.shape == (6, 784) and flat.dtype == np.float64
    # intensities stay in range (bilinear interpolation is a convex combination)
    assert X1.min() >= 0 and X1.max() <= 255


def test_random_affine_layer_only_in_training(rng):
    layer = A.RandomAffine(seed=0)
    x = rng.random((4, 1, 12, 12)).astype(np.float32)
    out = layer.forward(x)
    assert out.shape == x.shape and out.dtype == np.float32 and not np.allclose(out, x)
    layer.eval()
    assert layer.forward(x) is x
    assert layer.backward(np.ones_like(x)) is None


def test_augment_bad_input():
    with pytest.raises(ValueError, match=r"\(N, H, W\) or \(N, C, H, W\)"):
        A.elastic(np.zeros(5))
    with pytest.raises(ValueError, match="max_scale"):
        A.random_affine(np.zeros((1, 4, 4)), max_scale=1.5)
    with pytest.raises(ValueError, match="one per image"):
        A.rotate(np.zeros((3, 4, 4)), [1.0, 2.0])
    with pytest.raises(ValueError, match="square"):
        A.Augment()(np.zeros((2, 10)))
    with pytest.raises(TypeError, match="numeric"):
        A.translate(np.array([[["a"]]]), (1, 1))
