"""Pictures of the deep autoencoder and DBN layers (issue 14): Fig. 2 and Fig. 3 styles, greedy filters."""
from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet.viz import plot_codes_2d, plot_layer_filters, plot_reconstruction_rows, tile_images


def test_reconstruction_rows_codes_and_layer_filters(tmp_path):
    r = np.random.default_rng(0)
    X = r.random((12, 16))
    fig = plot_reconstruction_rows(X, {"autoencoder": X * 0.5, "PCA": X - 0.2}, image_shape=(4, 4), n=5,
                                   path=tmp_path / "fig2.png")
    assert (tmp_path / "fig2.png").stat().st_size > 0 and len(fig.axes) == 3
    assert [ax.get_ylabel() for ax in fig.axes] == ["data", "autoencoder", "PCA"]
    shown = fig.axes[2].images[0].get_array()
    np.testing.assert_allclose(shown, tile_images(np.clip(X[:5] - 0.2, 0, 1), (4, 4), 5, normalize=None))

    labels = r.integers(0, 10, 12)
    fig = plot_codes_2d({"autoencoder": r.normal(size=(12, 2)), "PCA": r.normal(size=(12, 2))}, labels,
                        path=tmp_path / "fig3.png")
    assert [ax.get_title() for ax in fig.axes[:2]] == ["autoencoder", "PCA"]

    dbn = nt.energy.DBN([16, 6, 3], seed=0)
    fig = plot_layer_filters(dbn, image_shape=(4, 4), n=3, path=tmp_path / "filters.png")
    W1, W2 = dbn.rbms[0].W.data.astype(np.float64), dbn.rbms[1].W.data.astype(np.float64)
    np.testing.assert_allclose(fig.axes[1].images[0].get_array(), tile_images((W1 @ W2).T, (4, 4)), atol=1e-12)

    with pytest.raises(ValueError, match=r"reconstructions\['PCA'\] must have shape"):
        plot_reconstruction_rows(X, {"PCA": X[:, :4]}, image_shape=(4, 4))
    with pytest.raises(ValueError, match=r"codes\['a'\] must have shape \(12, 2\)"):
        plot_codes_2d({"a": r.normal(size=(12, 3))}, labels)
    with pytest.raises(ValueError, match="must have 784 rows"):
        plot_layer_filters(dbn)
