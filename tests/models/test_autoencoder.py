"""The deep autoencoder (Hinton & Salakhutdinov 2006) against PCA (issue 14)."""
from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet.data import PCA, reconstruction_sse
from neuronet.energy import DBN
from neuronet.models import DeepAutoencoder


def _digits():
    return nt.data.load_digits("train")[0], nt.data.load_digits("test")[0]


def test_from_dbn_unrolls_with_transposed_weights_and_visible_biases(tmp_path):
    Xtr, Xte = _digits()
    dbn = DBN([64, 30, 20, 5], hidden=["bernoulli", "bernoulli", "gaussian"], seed=0, dtype=np.float64)
    dbn.pretrain(Xtr, epochs=1, batch_size=50, seed=0, verbose=False, layers=[{}, {}, {"lr": 0.001}])
    ae = DeepAutoencoder.from_dbn(dbn)
    assert [type(m).__name__ for m in ae.encoder.layers] == ["Dense", "Sigmoid", "Dense", "Sigmoid", "Dense"]
    assert [type(m).__name__ for m in ae.decoder.layers] == ["Dense", "Sigmoid"] * 3
    for r, enc, dec in zip(dbn.rbms, ae.encoder.layers[::2], reversed(ae.decoder.layers[::2])):
        np.testing.assert_array_equal(enc.W.data, r.W.data)
        np.testing.assert_array_equal(enc.b.data, r.b.data)
        np.testing.assert_array_equal(dec.W.data, r.W.data.T)
        np.testing.assert_array_equal(dec.b.data, r.a.data)
    np.testing.assert_allclose(ae.encode(Xte), dbn.transform(Xte), rtol=0, atol=1e-12)
    down = dbn.transform(Xte)
    for r in reversed(dbn.rbms):
        down = r.mean_visible(down)
    np.testing.assert_allclose(ae.reconstruct(Xte), down, rtol=0, atol=1e-12)
    tiny = DeepAutoencoder([6, 4, 3, 2], seed=0, dtype=np.float64)
    for q in tiny.parameters():
        q.data[...] = np.random.default_rng(0).normal(0, 0.5, q.shape)
    nt.gradcheck(tiny, np.random.default_rng(1).random((4, 6)))
    nt.save(tmp_path / "ae.npz", ae)
    np.testing.assert_array_equal(nt.load(tmp_path / "ae.npz").reconstruct(Xte), ae.reconstruct(Xte))


def test_deep_autoencoder_beats_pca_with_the_same_code_size_on_digits():
    """The paper's comparison in small: 64-100-50-6 with a linear code, pretrained and
    fine-tuned on the cross-entropy, against PCA-6, on held-out digits by the paper's
    metric (squared error summed over pixels, mean over images)."""
    Xtr, Xte = _digits()
    pca_error = reconstruction_sse(Xte, PCA(6).fit(Xtr).reconstruct(Xte))
    ae = DeepAutoencoder([64, 100, 50, 6], seed=0)
    ae.pretrain(Xtr, epochs=5, batch_size=10, seed=0, verbose=False)
    pretrained_error = reconstruction_sse(Xte, ae.reconstruct(Xte))
    history = ae.fit(Xtr, epochs=15, batch_size=20, lr=1e-2, seed=0)
    error = reconstruction_sse(Xte, ae.reconstruct(Xte))
    assert history["loss"][-1] < history["loss"][0]
    assert error < pretrained_error
    assert error < 0.75 * pca_error, (error, pca_error)   # measured 1.16 against PCA's 1.91


def test_autoencoder_bad_input():
    with pytest.raises(ValueError, match="code must be 'gaussian'"):
        DeepAutoencoder([8, 4], code="linear")
    with pytest.raises(ValueError, match="without label units"):
        DeepAutoencoder.from_dbn(DBN([8, 4, 2], n_labels=3))
    with pytest.raises(TypeError, match="takes a neuronet.energy.DBN"):
        DeepAutoencoder.from_dbn([1, 2])
    ae = DeepAutoencoder([8, 4, 2], seed=0)
    with pytest.raises(ValueError, match="X must have 8 features"):
        ae.encode(np.zeros((3, 7)))
    with pytest.raises(ValueError, match="Z must have 2 features"):
        ae.decode(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="X must have 8 features"):
        ae.fit(np.zeros((3, 9)), epochs=1)
