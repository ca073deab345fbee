"""The generative DBN of Hinton, Osindero & Teh (2006): labels joined to the top RBM (issue 14)."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import neuronet as nt

from neuronet.energy import DBN


def _randomised(dbn, seed=0):
    r = np.random.default_rng(seed)
    for p in dbn.parameters():
        p.data[...] = r.normal(0, 1.0, p.shape)
    return dbn


def test_predict_proba_is_the_exact_posterior_of_an_enumerable_top_rbm():
    """P(y | x) from free energies equals Σ_h e^{−E([x¹, e_y], h)} / Σ_{c,h} e^{−E([x¹, e_c], h)},
    summed here over all 2⁴ hidden states of the top RBM by brute force."""
    dbn = _randomised(DBN([7, 5, 4], n_labels=3, dtype=np.float64))
    X = (np.random.default_rng(1).random((6, 7)) < 0.5).astype(np.float64)
    top = dbn.rbms[1]
    pen = 1 / (1 + np.exp(-(X @ dbn.rbms[0].W.data + dbn.rbms[0].b.data)))  # the up-pass x¹
    H = np.array(list(itertools.product([0, 1], repeat=4)), dtype=np.float64)
    exact = np.zeros((len(X), 3))
    for y in range(3):
        v = np.concatenate([pen, np.tile(np.eye(3)[y], (len(X), 1))], axis=1)
        for h in H:
            exact[:, y] += np.exp(-top.energy(v, np.tile(h, (len(X), 1))))
    exact /= exact.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(dbn.predict_proba(X), exact, rtol=1e-10)
    np.testing.assert_array_equal(dbn.predict(X), exact.argmax(1))
    assert np.ptp(exact) > 0.3  # the weights matter: not a uniform posterior


def test_sampling_with_a_label_clamps_it():
    """A one-RBM 'DBN' (data + labels ↔ hidden) with a label that decides the data: sampling
    class c gives data of class c."""
    dbn = DBN([4, 6], n_labels=2, dtype=np.float64, seed=0)
    top = dbn.rbms[0]
    top.W.data[...] = 0
    top.W.data[:2, 0], top.W.data[2:4, 1] = 6, 6          # hidden 0 ↔ units 0-1, hidden 1 ↔ units 2-3
    top.W.data[4, :2], top.W.data[5, :2] = (8, -20), (-20, 8)     # label 0 ↔ hidden 0, label 1 ↔ hidden 1
    top.a.data[:4], top.b.data[:] = -4, -5
    for c, on in ((0, slice(0, 2)), (1, slice(2, 4))):
        s = dbn.sample(200, label=c, steps=20, seed=c)
        assert s.shape == (200, 4)
        assert s[:, on].mean() > 0.8 and np.delete(s, np.r_[on], axis=1).mean() < 0.2
    with pytest.raises(ValueError, match="label must be an integer class"):
        dbn.sample(2, label=-1)


def _digits():
    (Xtr, ytr), (Xte, yte) = nt.data.load_digits("train"), nt.data.load_digits("test")
    return Xtr, Xte, ytr, yte


def test_generative_dbn_on_digits_classifies_fine_tunes_up_down_and_samples_classes(tmp_path):
    """Hinton et al. (2006) in small: 64-50-[100+10 labels]-100 pretrained greedily, then
    up-down fine-tuned. Up-down lowers the generative reconstruction error of the data,
    keeps the free-energy classifier, and class-clamped samples are recognised as their
    class; a run interrupted and resumed from its checkpoint equals an uninterrupted one."""

    Xtr, Xte, ytr, yte = _digits()
    dbn = DBN([64, 50, 100], n_labels=10, seed=0)
    dbn.pretrain(Xtr, ytr, epochs=5, batch_size=10, seed=0, verbose=False)
    assert all(np.array_equal(g.W.data, r.W.data.T) for g, r in zip(dbn.generative, dbn.rbms))
    pretrained = float((dbn.predict(Xte) == yte).mean())
    assert pretrained > 0.85, pretrained
    state = {k: v.copy() for k, v in dbn.state_dict().items()}
    history = dbn.fit_updown(Xtr, ytr, epochs=3, batch_size=20, k=3, seed=0, validation=(Xte, yte))
    assert history["loss"][-1] < history["loss"][0]
    assert 1 - history["val_error"][-1] > pretrained - 0.02, (pretrained, history["val_error"])
    s = dbn.sample(50, label=np.arange(50) % 10, steps=100, seed=0)
    assert (dbn.predict(s) == np.arange(50) % 10).mean() > 0.7

    again = DBN([64, 50, 100], n_labels=10, seed=0)
    again.load_state_dict(state)
    with pytest.raises(KeyboardInterrupt):
        again.fit_updown(Xtr, ytr, epochs=3, batch_size=20, k=3, seed=0,
                         callbacks=[nt.ModelCheckpoint(tmp_path / "again.npz"), _StopAfter(1)])
    resumed = DBN([64, 50, 100], n_labels=10, seed=3)
    resumed.fit_updown(Xtr, ytr, epochs=3, batch_size=20, k=3, seed=0, resume_from=tmp_path / "again.npz")
    for a, b in zip(dbn.parameters(), resumed.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    with pytest.raises(ValueError, match="at least two RBMs with label units"):
        DBN([8, 6, 4]).fit_updown(np.zeros((2, 8)), np.zeros(2, dtype=int))


class _StopAfter:
    """A callback that interrupts training (like Ctrl-C) at the end of epoch ``n``."""

    def __new__(cls, n):
        import neuronet as nt

        class Stop(nt.train.Callback):
            def on_epoch_end(self, trainer, epoch, logs):
                if epoch == n:
                    raise KeyboardInterrupt

        return Stop()
