"""RBM pictures: the mosaic is exact; every plot writes a file."""
from __future__ import annotations

import numpy as np
import pytest

from neuronet.energy import RBM
from neuronet.viz import plot_filters, plot_rbm_history, plot_reconstructions, plot_samples, tile_images


def test_tile_images_layout_and_scaling():
    imgs = np.arange(5 * 6, dtype=float).reshape(5, 6)  # five 2×3 images
    m = tile_images(imgs, (2, 3), n_cols=3, pad=1, normalize=None)
    assert m.shape == (2 * 3 - 1, 3 * 4 - 1)
    np.testing.assert_array_equal(m[0:2, 4:7], imgs[1].reshape(2, 3))
    np.testing.assert_array_equal(m[3:5, 4:7], imgs[4].reshape(2, 3))
    assert np.all(m[2] == 0) and np.all(m[3:5, 8:11] == 0)  # gap row, empty last cell
    each = tile_images(imgs, (2, 3), n_cols=5, normalize="each")
    np.testing.assert_allclose(each[0:2, 0:3], (imgs[0].reshape(2, 3) - 0) / 5)
    with pytest.raises(ValueError, match="normalize"):
        tile_images(imgs, (2, 3), normalize="bad")


def test_rbm_pictures_are_written(tmp_path):
    X = (np.random.default_rng(0).random((60, 16)) < 0.3).astype(np.float32)
    r = RBM(16, 9, seed=0)
    h = r.fit(X, epochs=3, batch_size=10, validation=X[:20], verbose=False, seed=0)
    for fn, args in ((plot_filters, (r, (4, 4))), (plot_reconstructions, (X, r.reconstruct(X), (4, 4))),
                     (plot_samples, (r.sample(8, steps=5), (4, 4))), (plot_rbm_history, (h,))):
        path = tmp_path / f"{fn.__name__}.png"
        fn(*args, path=path)
        assert path.stat().st_size > 1000
    with pytest.raises(ValueError, match="rows for images"):
        plot_filters(r.W.data, (5, 5))
