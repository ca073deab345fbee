"""RBM.fit as the CD/PCD step on the one loop: exact resume, callbacks, one weight cost,
conflicting arguments, and the step's loss is the surrogate whose gradient it writes."""
from __future__ import annotations

import io

import numpy as np
import pytest

import neuronet as nt
from neuronet.energy import RBM
from neuronet.energy.cd import ContrastiveDivergence, write_gradient

X = (np.random.default_rng(0).random((90, 12)) < 0.3).astype(np.float64)
KW = dict(batch_size=10, n_chains=15, k=2, momentum_switch_epoch=2, validation=X[:30], verbose=False)


def _rbm(seed=3):
    return RBM(12, 5, seed=seed).astype(np.float64)


@pytest.mark.parametrize("persistent", [False, True], ids=["CD", "PCD"])
def test_resumed_run_is_bit_identical(tmp_path, persistent):
    """2 epochs, a checkpoint, 3 more from it (across the momentum switch) = 5 straight."""
    straight = _rbm()
    h_straight = straight.fit(X, epochs=5, persistent=persistent, seed=7, **KW)
    first = _rbm()
    first.fit(X, epochs=2, persistent=persistent, seed=7, callbacks=[nt.ModelCheckpoint(tmp_path / "r.npz")],
              **KW)
    resumed = _rbm(seed=99)  # another generator: the checkpoint's must replace it
    h = resumed.fit(X, epochs=5, persistent=persistent, resume_from=tmp_path / "r.npz", **KW)
    for name in ("W", "a", "b"):
        assert np.array_equal(getattr(resumed, name).data, getattr(straight, name).data), name
    assert h["epoch"] == [1, 2, 3, 4, 5]
    for key in ("loss", "recon_error", "val_recon_error", "free_energy_gap"):
        assert h[key] == h_straight[key], key
    assert resumed.rng.bit_generator.state == straight.rng.bit_generator.state
    if persistent:
        assert np.array_equal(resumed.persistent_chains, straight.persistent_chains)
    assert resumed.n_updates_ == straight.n_updates_ == 5 * 9


def test_checkpoint_progress_and_early_stopping_callbacks(tmp_path):
    r = _rbm()
    out = io.StringIO()
    stop = nt.EarlyStopping(monitor="val_recon_error", patience=1)
    ck = nt.ModelCheckpoint(tmp_path / "r{epoch}.npz")
    h = r.fit(X[30:], epochs=60, batch_size=10, lr=2.0, momentum=0.9, validation=X[:30], seed=0,
              callbacks=[stop, ck, nt.ProgressBar(file=out, interval=0)], verbose=False)
    assert stop.stopped_epoch is not None and len(h["epoch"]) == stop.stopped_epoch < 60
    assert r.reconstruction_error(X[:30]) == pytest.approx(stop.best, rel=1e-12)  # best weights back
    assert "RBM epoch 1/60" in out.getvalue() and "Q=" in out.getvalue()
    assert len(ck.saved) == stop.stopped_epoch
    loaded = nt.load(ck.saved[0])
    assert isinstance(loaded, RBM) and loaded.W.data.shape == (12, 5)


def test_momentum_switches_at_the_given_epoch():
    seen = []

    class Spy(nt.Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            seen.append(trainer.optimizer.momentum)
    _rbm().fit(X, epochs=4, callbacks=[Spy()], seed=0, **KW)
    assert seen == [0.5, 0.5, 0.9, 0.9]


def test_weight_cost_is_the_optimizers_and_only_on_the_weights():
    """One SGD step of fit(weight_decay=λ): W := W − η(∇_W + λW), biases without λ."""
    lam, lr = 0.3, 0.05
    r, twin = _rbm(), _rbm()
    for m in (r, twin):  # biases away from 0, or a cost on them would go unseen
        m.a.data[...] = np.linspace(-1, 1, 12)
        m.b.data[...] = np.linspace(0.5, -0.5, 5)
    W0, a0, b0 = r.W.data.copy(), r.a.data.copy(), r.b.data.copy()
    r.fit(X, epochs=1, batch_size=len(X), lr=lr, momentum=0.0, weight_decay=lam, shuffle=False,
          init_visible_bias=False, verbose=False)
    twin.zero_grad()
    twin.gradient(X)  # the same generator state: the same negative particles
    np.testing.assert_allclose(r.W.data, W0 - lr * (twin.W.grad + lam * W0), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(r.a.data, a0 - lr * twin.a.grad, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(r.b.data, b0 - lr * twin.b.grad, rtol=1e-12, atol=1e-15)
    assert isinstance(r.optimizer_, nt.optim.SGD) and r.optimizer_.weight_decay == lam


def test_conflicting_and_bad_arguments_are_named():
    r = _rbm()
    opt = nt.optim.Adam(r.parameters(), lr=0.01)
    with pytest.raises(ValueError, match=r"lr.*optimizer=Adam.*lr=123"):
        r.fit(X, lr=123, optimizer=opt, verbose=False)
    with pytest.raises(ValueError, match=r"weight_decay.*optimizer"):
        r.fit(X, weight_decay=1e-3, optimizer=opt, verbose=False)
    with pytest.raises(ValueError, match=r"momentum.*optimizer"):
        r.fit(X, momentum=0.5, optimizer=opt, verbose=False)
    with pytest.raises(ValueError, match=r"momentum must be >= 0, got -0.5"):
        r.fit(X, momentum=-0.5, verbose=False)
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\), got 1"):
        r.fit(X, momentum=1.0, verbose=False)
    with pytest.raises(ValueError, match="l1 must be >= 0"):
        r.fit(X, l1=-1.0, verbose=False)
    with pytest.raises(TypeError, match=r"optimizer must be an nt.optim optimizer \(with step\(\)\), got str"):
        r.fit(X, optimizer="adam", verbose=False)
    with pytest.raises(ValueError, match=r"lr.*optimizer=Adam"):
        r.partial_fit(X[:10], opt, lr=0.1)
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        r.fit(X, epochs=0, verbose=False)


@pytest.mark.parametrize("persistent", [False, True], ids=["CD", "PCD"])
def test_loss_is_the_energy_gap_whose_gradient_is_written(persistent):
    r = _rbm()
    r.W.data[...] = np.random.default_rng(1).normal(0, 0.5, r.W.data.shape)
    cd = ContrastiveDivergence(k=2, persistent=persistent, n_chains=7, sample_visible=True)
    buf, _ = cd.statistics(r, X[:10].copy(), np.random.default_rng(2))
    N = 10
    Vb, Hb = buf["V"].copy(), buf["H"].copy()

    def gap():
        return r.energy(Vb[:N], Hb[:N]).mean() - r.energy(Vb[N:], Hb[N:]).mean()
    assert write_gradient(r, buf, add=False) == pytest.approx(gap(), rel=1e-12)
    for name, idx in (("W", (3, 2)), ("a", (4,)), ("b", (1,))):
        p = getattr(r, name)
        old, eps = p.data[idx], 1e-6
        p.data[idx] = old + eps
        up = gap()
        p.data[idx] = old - eps
        down = gap()
        p.data[idx] = old
        assert p.grad[idx] == pytest.approx((up - down) / (2 * eps), rel=1e-6, abs=1e-9), name


def test_partial_fit_without_an_optimizer_is_one_sgd_step_with_the_weight_cost():
    lam, lr = 0.2, 0.05
    r, twin = _rbm(), _rbm()
    r.b.data[...] = twin.b.data[...] = 0.3
    W0, b0 = r.W.data.copy(), r.b.data.copy()
    metrics = r.partial_fit(X[:10], lr=lr, weight_decay=lam)
    twin.zero_grad()
    twin.gradient(X[:10])
    np.testing.assert_allclose(r.W.data, W0 - lr * (twin.W.grad + lam * W0), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(r.b.data, b0 - lr * twin.b.grad, rtol=1e-12, atol=1e-15)
    assert set(metrics) == {"loss", "cd_recon_error"} and np.isfinite(metrics["loss"])
