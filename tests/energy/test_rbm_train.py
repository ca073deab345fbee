"""RBM training: gradient signs, likelihood rises, features help a classifier, resume."""
from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet.energy import RBM, ValidationStopping
from neuronet.energy import monitors as M

PAIRINGS = [("bernoulli", "bernoulli"), ("gaussian", "bernoulli"), ("gaussian", "gaussian"),
            ("poisson", "bernoulli")]


def structured_bits(n=300, seed=0, noise=0.05):
    """Four 6-bit prototypes with 5 % flipped bits: strong pairwise structure."""
    rng = np.random.default_rng(seed)
    protos = np.array([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1], [1, 0, 1, 0, 1, 0], [0, 1, 0, 1, 0, 1]], float)
    X = protos[rng.integers(0, 4, n)]
    flip = rng.random(X.shape) < noise
    return np.abs(X - flip)


def data_for(visible, n=200, seed=0):
    rng = np.random.default_rng(seed)
    if visible == "bernoulli":
        return structured_bits(n, seed)
    if visible == "poisson":
        return rng.poisson(structured_bits(n, seed) * 2 + 0.3).astype(float)
    z = rng.normal(size=(n, 2))
    X = np.concatenate([z, z + 0.3 * rng.normal(size=(n, 2)), -z], axis=1)
    return (X - X.mean(0)) / X.std(0)


def test_cd_training_raises_exact_log_likelihood():
    X = structured_bits()
    r = RBM(6, 4, seed=0).astype(np.float64)
    r.a.data[...] = r.visible.init_bias(X)
    independent = M.exact_log_likelihood(r, X)  # W ≈ 0: the best model without weights
    lls = []
    for _ in range(4):
        r.fit(X, epochs=15, batch_size=10, lr=0.1, verbose=False, seed=len(lls))
        lls.append(M.exact_log_likelihood(r, X))
    # the data's entropy is about 2.6 nats (4 prototypes, 5 % noise): CD gets close and stays
    assert min(lls) > independent + 1.0, (independent, lls)
    assert max(lls) > -2.8, lls


def test_pcd_training_raises_exact_log_likelihood():
    X = structured_bits(seed=1)
    r = RBM(6, 4, seed=1).astype(np.float64)
    r.a.data[...] = r.visible.init_bias(X)
    independent = M.exact_log_likelihood(r, X)
    # no momentum: with 0.9 the weights outrun the persistent chains on this tiny model
    r.fit(X, epochs=40, batch_size=10, persistent=True, n_chains=50, lr=0.05, momentum=0.0,
          verbose=False, seed=0)
    assert M.exact_log_likelihood(r, X) > independent + 0.8


@pytest.mark.parametrize("visible,hidden", PAIRINGS)
@pytest.mark.parametrize("persistent", [False, True])
def test_one_step_lowers_free_energy_gap(visible, hidden, persistent):
    """The CD gradient is ∂/∂θ [mean F(data) − mean F(negatives)]: a step of any
    optimiser along it lowers that difference (not necessarily F(data) alone)."""
    X = data_for(visible, 50)
    r = RBM(6, 4, visible, hidden, seed=0, init_std=0.1).astype(np.float64)
    r.fit(X, epochs=2, batch_size=10, lr=0.01, verbose=False, seed=0)
    for opt in (nt.optim.SGD(r.parameters(), lr=1e-3), nt.optim.Adam(r.parameters(), lr=1e-3)):
        r.zero_grad()
        r.gradient(X, k=1, persistent=persistent, n_chains=30, sample_visible=True, rng=np.random.default_rng(1))
        neg = r.negative_samples_.copy()
        gap = lambda: r.free_energy(X).mean() - r.free_energy(neg).mean()  # noqa: E731
        before = gap()
        # the gradient is exactly the derivative of the gap (finite differences on W[0, 0])
        eps, old = 1e-6, r.W.data[0, 0]
        r.W.data[0, 0] = old + eps
        up = gap()
        r.W.data[0, 0] = old - eps
        down = gap()
        r.W.data[0, 0] = old
        assert r.W.grad[0, 0] == pytest.approx((up - down) / (2 * eps), rel=1e-5, abs=1e-8)
        opt.step()
        assert gap() < before


def test_resume_from_checkpoint_is_identical(tmp_path):
    rng = np.random.default_rng(0)
    X = (rng.random((120, 12)) < 0.3).astype(np.float32)
    kw = dict(batch_size=10, persistent=True, n_chains=15, lr=0.05, verbose=False)
    straight = RBM(12, 5, seed=3)
    straight.fit(X, epochs=4, seed=7, **kw)
    first = RBM(12, 5, seed=3)
    first.fit(X, epochs=2, seed=7, checkpoint=tmp_path / "rbm.npz", **kw)
    resumed = RBM(12, 5, seed=99)
    history = resumed.fit(X, epochs=4, resume_from=tmp_path / "rbm.npz", **kw)
    assert history["epoch"] == [1, 2, 3, 4]  # the saved record continues
    for name in ("W", "a", "b"):
        np.testing.assert_array_equal(getattr(resumed, name).data, getattr(straight, name).data)
    np.testing.assert_array_equal(resumed.persistent_chains, straight.persistent_chains)
    loaded = nt.load(tmp_path / "rbm.npz")
    assert isinstance(loaded, RBM)
    np.testing.assert_array_equal(loaded.W.data, first.W.data)


def test_validation_stopping_restores_best():
    X = structured_bits(400)
    r = RBM(6, 30, seed=0)
    stop = ValidationStopping(monitor="val_recon_error", patience=1, restore_best=True)
    # a learning rate far too high makes the validation error rise at some point
    h = r.fit(X[:200], epochs=40, batch_size=10, lr=2.0, momentum=0.9, validation=X[200:],
              callbacks=[stop], verbose=False, seed=0)
    assert stop.stopped_epoch is not None and len(h["epoch"]) < 40
    assert r.reconstruction_error(X[200:]) == pytest.approx(stop.best, rel=1e-5)


def test_history_and_monitors():
    X = structured_bits(300)
    r = RBM(6, 8, seed=0)
    h = r.fit(X[:200], epochs=6, batch_size=20, validation=X[200:], verbose=False, seed=0)
    assert set(h) >= {"epoch", "recon_error", "val_recon_error", "free_energy_gap", "cd_recon_error"}
    assert h["recon_error"][-1] < h["recon_error"][0]
    pl = M.pseudo_likelihood(r, X, seed=0)
    assert pl.shape == (300,) and np.all(pl <= 0)
    assert np.isfinite(M.free_energy_gap(r, X[:200], X[200:]))


def test_pseudo_likelihood_equals_sklearn_score_samples():
    from sklearn.neural_network import BernoulliRBM

    rng = np.random.default_rng(0)
    X = (rng.random((50, 10)) < 0.4).astype(np.float64)
    r = RBM(10, 7, seed=0, init_std=0.5).astype(np.float64)
    r.a.data[...] = rng.normal(size=10)
    r.b.data[...] = rng.normal(size=7)
    sk = BernoulliRBM(n_components=7, random_state=3).fit(X[:5])  # fitted, then overwritten
    sk.components_, sk.intercept_visible_, sk.intercept_hidden_ = r.W.data.T.copy(), r.a.data.copy(), r.b.data.copy()
    index = np.random.RandomState(3).randint(0, 10, 50)  # what score_samples draws with random_state=3
    np.testing.assert_allclose(M.pseudo_likelihood(r, X, index=index), sk.score_samples(X), rtol=1e-10)


def test_any_optimizer_trains_and_float32_default():
    X = structured_bits(200).astype(np.float32)
    r = RBM(6, 8, seed=0)
    assert r.W.data.dtype == np.float32
    opt = nt.optim.Adam(r.parameters(), lr=0.03)
    r.fit(X, epochs=10, batch_size=10, optimizer=opt, verbose=False, seed=0)
    assert r.W.data.dtype == np.float32 and r.transform(X).dtype == np.float32
    assert M.exact_log_likelihood(r, X) > -3.6  # independent-bits model: about −4.1


def test_sample_and_reconstruct_shapes():
    r = RBM(6, 4, "gaussian", "bernoulli", seed=0)
    assert r.sample(7, steps=3).shape == (7, 6)
    assert r.reconstruct(np.zeros((3, 6))).shape == (3, 6)
    assert r.gibbs(np.zeros((2, 6)), k=2).shape == (2, 6)
    s = RBM(6, 4, "softmax:3", "bernoulli", seed=0).sample(5, steps=2)
    np.testing.assert_array_equal(s.reshape(5, 2, 3).sum(2), 1)


def test_to_layers_computes_the_conditional_means():
    X = structured_bits(20).astype(np.float32)
    r = RBM(6, 5, seed=0, init_std=0.5)
    r.b.data[...] = np.arange(5) * 0.1
    up = nt.Sequential(*r.to_layers())
    np.testing.assert_allclose(up(X), r.mean_hidden(X), rtol=1e-5, atol=1e-6)
    H = r.mean_hidden(X)
    down = nt.Sequential(*r.to_layers(decoder=True))
    np.testing.assert_allclose(down(H), r.mean_visible(H), rtol=1e-5, atol=1e-6)
    g = RBM(6, 5, "gaussian", "bernoulli", seed=0)
    assert len(g.to_layers(decoder=True)) == 1  # Gaussian means are linear


def test_training_loop_callbacks_work_with_rbm_fit():
    """The trainer's LR schedules drive RBM.fit through the same hooks."""
    X = structured_bits(100)
    r = RBM(6, 4, seed=0)
    opt = nt.optim.SGD(r.parameters(), lr=0.1)
    seen = []

    class Spy(nt.train.Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            seen.append((epoch, trainer.optimizer.lr, trainer.model is r))

    r.fit(X, epochs=4, batch_size=10, optimizer=opt, callbacks=[nt.train.StepLR(step=2, gamma=0.5), Spy()],
          verbose=False, seed=0)
    assert seen == [(1, 0.1, True), (2, 0.1, True), (3, 0.05, True), (4, 0.05, True)]


def test_joint_rbm_with_label_units_classifies_digits():
    """Pixels + a softmax label group; ŷ = argmin_y F([x, e_y]) (generative classifier)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from neuronet.energy import classify_by_free_energy

    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0)
    r = RBM(74, 100, "bernoulli*64+softmax:10*10", seed=0)
    r.fit(np.concatenate([Xtr, np.eye(10)[ytr]], axis=1), epochs=30, batch_size=10, lr=0.05,
          verbose=False, seed=0)
    pred, logp = classify_by_free_energy(r, Xte, 10, return_scores=True)
    assert (pred == yte).mean() > 0.9
    np.testing.assert_allclose(np.exp(logp).sum(1), 1, rtol=1e-6)
    with pytest.raises(ValueError, match="64 non-label visible units"):
        classify_by_free_energy(r, Xte[:, :10], 10)


def test_greedy_stack_unrolls_into_a_net_that_backprop_fine_tunes():
    """The interfaces compose as a deep belief net needs (MISSION C6/E5): each RBM is
    trained on the hidden means of the one below, ``to_layers`` turns the stack into
    a Sequential, and the engine's backprop then trains those copied weights."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0)
    layers, features = [], Xtr
    for n_in, n_out in ((64, 64), (64, 32)):
        r = RBM(n_in, n_out, seed=0)
        r.fit(features, epochs=10, batch_size=10, lr=0.05, verbose=False, seed=0)
        layers += r.to_layers()
        features = r.transform(features)
    np.testing.assert_allclose(nt.Sequential(*layers)(Xtr), features, rtol=1e-5, atol=1e-6)
    pretrained = layers[2].W.data.copy()
    net = nt.Sequential(*layers, nt.Dense(32, 10, seed=0))
    nt.fit(net, nt.SoftmaxCrossEntropy(), nt.optim.Adam(net.parameters(), lr=0.01), Xtr, ytr,
           epochs=15, batch_size=32, seed=0)
    net.eval()
    accuracy = float((net(Xte).argmax(axis=1) == yte).mean())
    assert accuracy > 0.93, accuracy
    assert not np.allclose(layers[2].W.data, pretrained)  # backprop reached the RBM layers
