"""nt.data.PCA and the deep-autoencoder paper's reconstruction metric (issue 14)."""
from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet.data import PCA, reconstruction_sse


@pytest.mark.parametrize("n_rows", [1797, 200])  # the scatter-matrix route and the SVD route
def test_pca_matches_scikit_learn(n_rows):
    from sklearn.datasets import load_digits
    from sklearn.decomposition import PCA as SkPCA

    X = load_digits().data[:n_rows]
    ours, theirs = PCA(12).fit(X), SkPCA(12, svd_solver="full").fit(X)
    signs = np.sign((ours.components_ * theirs.components_).sum(axis=1))
    np.testing.assert_allclose(ours.components_, theirs.components_ * signs[:, None], atol=1e-8)
    np.testing.assert_allclose(ours.explained_variance_, theirs.explained_variance_, rtol=1e-9)
    np.testing.assert_allclose(ours.transform(X), theirs.transform(X) * signs, atol=1e-8)
    np.testing.assert_allclose(ours.reconstruct(X), theirs.inverse_transform(theirs.transform(X)), atol=1e-8)
    np.testing.assert_allclose(ours.components_ @ ours.components_.T, np.eye(12), atol=1e-10)
    full = PCA(64).fit(X)  # every component: an exact reconstruction
    assert reconstruction_sse(X, full.reconstruct(X)) < 1e-16 * X.size * 256


def test_pca30_on_mnist_gives_the_papers_13_87(data_dir):
    """Hinton & Salakhutdinov (2006): PCA with 30 components, fitted on the 60 000
    training images, reconstructs the test images with mean squared error 13.87
    (summed over 784 pixels in [0, 1], unclipped)."""
    X, _ = nt.data.load_mnist("train")
    Xt, _ = nt.data.load_mnist("test")
    X, Xt = nt.data.to_float(X, flatten=True), nt.data.to_float(Xt, flatten=True)
    pca = PCA(30).fit(X)
    assert reconstruction_sse(Xt, pca.reconstruct(Xt)) == pytest.approx(13.87, abs=0.005)


def test_pca_bad_input():
    with pytest.raises(ValueError, match="n_components must be >= 1"):
        PCA(0)
    with pytest.raises(ValueError, match="at most min"):
        PCA(5).fit(np.zeros((4, 3)))
    with pytest.raises(RuntimeError, match="not fitted"):
        PCA(2).transform(np.zeros((2, 3)))
    pca = PCA(2).fit(np.random.default_rng(0).random((10, 3)))
    with pytest.raises(ValueError, match="X must have 3 features"):
        pca.transform(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="Z must have 2 components"):
        pca.inverse_transform(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        PCA(1).fit([[0.0, np.nan], [1.0, 2.0]])
    with pytest.raises(ValueError, match="same shape"):
        reconstruction_sse(np.zeros((2, 3)), np.zeros((2, 4)))
