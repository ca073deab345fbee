"""Deep belief net: the stack, greedy pretraining, to_network, the greedy bound (issue 14)."""
from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from conftest import pretrained_vs_random
from neuronet.energy import DBN, RBM, exact_gradient, exact_log_likelihood, log_partition
from neuronet.energy.monitors import free_energy64


def _digits():
    (Xtr, ytr), (Xte, yte) = nt.data.load_digits("train"), nt.data.load_digits("test")
    return Xtr, Xte, ytr, yte


def _bits(n=300, seed=0):
    """Three 8-bit prototypes with 10 % of the bits flipped: a distribution worth modelling."""
    r = np.random.default_rng(seed)
    protos = np.array([[1, 1, 1, 1, 0, 0, 0, 0], [0, 0, 1, 1, 1, 1, 0, 0], [1, 0, 1, 0, 1, 0, 1, 0]])
    X = protos[r.integers(0, 3, n)]
    return np.abs(X - (r.random(X.shape) < 0.1)).astype(np.float64)


def test_to_network_computes_transform_and_copies_the_weights():
    Xtr, _, _, _ = _digits()
    dbn = DBN([64, 40, 20, 6], hidden=["bernoulli", "bernoulli", "gaussian"], seed=0, dtype=np.float64)
    dbn.pretrain(Xtr, epochs=2, batch_size=20, seed=0, verbose=False,
                 layers=[{}, {}, {"lr": 0.001}])  # a linear (Gaussian) top layer, as rbmhidlinear.m
    net = dbn.to_network()
    np.testing.assert_allclose(net(Xtr), dbn.transform(Xtr), rtol=0, atol=1e-12)
    assert [type(m).__name__ for m in net.layers] == ["Dense", "Sigmoid", "Dense", "Sigmoid", "Dense"]
    for r, dense in zip(dbn.rbms, net.layers[::2]):
        np.testing.assert_array_equal(dense.W.data, r.W.data)
        assert dense.W.data is not r.W.data
    head = dbn.to_network(n_out=10, seed=0)
    assert head(Xtr[:5]).shape == (5, 10) and len(head.layers) == 6
    # the top layer's features are linear (Gaussian units): not confined to (0, 1)
    assert dbn.transform(Xtr).min() < 0 or dbn.transform(Xtr).max() > 1


def test_greedy_bound_by_exact_enumeration_on_an_8_6_8_stack():
    """Hinton et al. (2006) §4: with the second RBM the first turned over, the bound equals
    the first RBM's exact log-likelihood; training the second RBM on samples of Q(h|v)
    by maximum likelihood raises it, and it stays below the two-layer net's exact log p(v).
    (The argument is about the likelihood gradient: CD-1 from the turned-over start,
    10 epochs at lr 0.05, LOWERED this bound, −3.953 → −3.996, when measured.)"""
    X = _bits()
    r1 = RBM(8, 6, seed=0, dtype=np.float64)
    r1.fit(X, epochs=30, batch_size=10, lr=0.1, verbose=False, seed=0)
    flipped = RBM(6, 8, dtype=np.float64)
    flipped.W.data[...], flipped.a.data[...], flipped.b.data[...] = r1.W.data.T, r1.b.data, r1.a.data
    dbn = DBN.from_rbms([r1, flipped])
    before = dbn.log_likelihood_bound(X)
    exact = exact_log_likelihood(r1, X)
    assert before == pytest.approx(exact, abs=1e-10)

    # maximum likelihood for the second RBM on samples of Q(h|v) over the data
    H = dbn.rbms[0].sample_hidden(np.repeat(X, 10, axis=0), rng=np.random.default_rng(1))
    r2 = dbn.rbms[1]
    for _ in range(100):
        g = exact_gradient(r2, H)
        for name in "Wab":
            getattr(r2, name).data -= 0.5 * g[name]
    after = dbn.log_likelihood_bound(X)
    assert after > before + 0.1, (before, after)

    # the bound is below the stack's exact log p(v) = log Σ_h p₂(h) P₁(v|h)
    r1, r2 = dbn.rbms
    Hs = r1.hidden.states(6, 0, 64)
    log_p2 = -free_energy64(r2, Hs) - log_partition(r2)
    P = 1 / (1 + np.exp(-(Hs @ r1.W.data.T + r1.a.data)))
    log_pv_h = X @ np.log(P).T + (1 - X) @ np.log1p(-P).T
    log_p = np.logaddexp.reduce(log_pv_h + log_p2, axis=1).mean()
    assert after <= log_p + 1e-12 and log_p - after < 0.5


def test_pretraining_helps_backprop_on_digits():
    """The lecture's DBN: a pretrained 64-100-100 stack with an output layer, fine-tuned
    by nt.fit, against the same net from random initialisation at equal epochs."""
    Xtr, Xte, ytr, yte = _digits()
    dbn = DBN([64, 100, 100], seed=0)
    hist = dbn.pretrain(Xtr, epochs=10, batch_size=10, seed=0, verbose=False)
    assert hist[0]["recon_error"][-1] < hist[0]["recon_error"][0]
    accuracies = pretrained_vs_random(dbn.to_network(n_out=10, seed=1), Xtr, ytr, Xte, yte, [64, 100, 100, 10])
    assert accuracies["pretrained"] > 0.93, accuracies
    assert accuracies["pretrained"] > accuracies["random"] + 0.1, accuracies  # measured 0.95 against 0.62


def test_pretrain_checkpoints_each_layer_and_resumes(tmp_path):
    Xtr, _, _, _ = _digits()
    full = DBN([64, 30, 10], seed=0)
    full.pretrain(Xtr, epochs=3, batch_size=50, seed=0, verbose=False)
    part = DBN([64, 30, 10], seed=0)

    class Interrupt(nt.Callback):  # stops the run like Ctrl-C after layer 2's first epoch
        def on_epoch_end(self, trainer, epoch, logs):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        part.pretrain(Xtr, epochs=3, batch_size=50, seed=0, verbose=False, checkpoint=tmp_path,
                      layers=[{}, {"callbacks": [Interrupt()]}])
    assert (tmp_path / "dbn.npz").exists() and (tmp_path / "layer1.npz").exists()
    resumed = DBN([64, 30, 10], seed=5)              # other weights: everything comes from the files
    resumed.pretrain(Xtr, epochs=3, batch_size=50, seed=0, verbose=False, checkpoint=tmp_path, resume=True)
    for a, b in zip(full.parameters(), resumed.parameters()):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-6, atol=1e-7)
    loaded = nt.load(tmp_path / "dbn.npz")
    np.testing.assert_allclose(loaded.transform(Xtr[:10]), resumed.transform(Xtr[:10]), rtol=1e-6)


def test_bad_input_is_refused_with_clear_messages():
    with pytest.raises(ValueError, match="at least 2 layer widths"):
        DBN([784])
    with pytest.raises(ValueError, match=r"sizes\[1\] must be >= 1"):
        DBN([784, 0])
    with pytest.raises(ValueError, match="one value or a list of 2"):
        DBN([8, 6, 4], hidden=["bernoulli"])
    with pytest.raises(ValueError, match="don't chain: rbms\\[0\\] has 6 hidden units but rbms\\[1\\] has 5"):
        DBN.from_rbms([RBM(8, 6), RBM(5, 3)])
    dbn = DBN([8, 6, 4], seed=0)
    with pytest.raises(ValueError, match="X must have 8 features"):
        dbn.transform(np.zeros((3, 7)))
    with pytest.raises(ValueError, match="X must have 8 features"):
        dbn.pretrain(np.zeros((3, 9)), epochs=1, verbose=False)
    with pytest.raises(ValueError, match="no label units"):
        dbn.pretrain(np.zeros((3, 8)), y=[0, 1, 1], epochs=1, verbose=False)
    with pytest.raises(ValueError, match="needs label units"):
        dbn.predict(np.zeros((3, 8)))
    with pytest.raises(ValueError, match="NaN"):
        dbn.transform(np.full((2, 8), np.nan))
    labelled = DBN([8, 6, 4], n_labels=3, seed=0)
    with pytest.raises(ValueError, match="needs labels y"):
        labelled.pretrain(np.zeros((3, 8)), epochs=1, verbose=False)
    with pytest.raises(ValueError, match=r"labels in 0\.\.2, got values in 0\.\.3"):
        labelled.pretrain(np.zeros((3, 8)), y=np.array([0, 1, 3]), epochs=1, verbose=False)
    with pytest.raises(ValueError, match="label must be an integer class"):
        labelled.sample(2, label=5, steps=1)
    with pytest.raises(ValueError, match="exactly two RBMs"):
        DBN([8, 6, 4, 2]).log_likelihood_bound(np.zeros((2, 8)))
