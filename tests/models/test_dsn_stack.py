"""Deep Stacking Network: the stack, training module by module, checkpoints, bad input (issue 16)."""
from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet.data.toy import load_digits
from neuronet.gradcheck import numerical_gradient
from neuronet.models.dsn import DSN


@pytest.fixture(scope="module")
def digits():
    return load_digits("train"), load_digits("test")


def _fit(digits, **kw):
    (X, y), (Xt, yt) = digits
    dsn = DSN(64, 10, 100, kw.pop("n_modules", 3), ridge=1.0, seed=0, warm_start=kw.pop("warm_start", True))
    recs = dsn.fit(X, y, finetune_iters=kw.pop("iters", 15), finetune_lr=50.0, validation=(Xt, yt), **kw)
    return dsn, recs


def test_stack_is_concat_chain_and_backprop_matches_finite_differences(rng):
    dsn = DSN(4, 2, [3, 5, 2], 3, seed=1, dtype=np.float64)
    for b in dsn.blocks:
        b.U.data[...] = rng.normal(size=b.U.shape)
        b.b.data[...] = rng.normal(size=b.b.shape)
    assert [b.W.shape for b in dsn.blocks] == [(4, 3), (6, 5), (8, 2)]
    x, dy = rng.normal(size=(5, 4)), rng.normal(size=(5, 2))
    # the stack's output is the top module on [x, y_1, y_2]
    y1 = dsn.blocks[0].forward(x)
    y2 = dsn.blocks[1].forward(np.hstack([x, y1]))
    np.testing.assert_allclose(dsn.forward(x), dsn.blocks[2].forward(np.hstack([x, y1, y2])))
    dsn.forward(x)
    dsn.zero_grad()
    dsn.backward(dy)
    E = lambda: float((dsn.forward(x) * dy).sum())  # noqa: E731
    for name, p in dsn.named_parameters():
        np.testing.assert_allclose(p.grad, numerical_gradient(E, p.data), rtol=1e-6, atol=1e-9,
                                   err_msg=name)


def test_adding_a_module_never_raises_the_training_error(digits):
    dsn, recs = _fit(digits, n_modules=4)
    # the training error the modules minimise, ‖y_m − t‖²/N, never rises (warm start + keep-best
    # make this exact); the classification error follows it but is not bound to, so it is only
    # required to end below where it started
    J = [r["objective"] for r in recs]
    err = [r["train_error"] for r in recs]
    assert all(b <= a + 1e-9 for a, b in zip(J, J[1:])), J
    assert J[-1] < 0.8 * J[0]                 # and stacking does lower it
    assert err[-1] < 0.6 * err[0], err
    # the records agree with the trained stack
    (X, y), _ = digits
    np.testing.assert_allclose(dsn.errors(X, y), err)


def test_warm_start_reproduces_the_lower_module_before_finetuning(digits):
    (X, y), _ = digits
    dsn = DSN(64, 10, 60, 2, ridge=0.5, seed=0)
    recs = dsn.fit(X, y, finetune_iters=0)
    # zero weights on the new input: the same hidden units, the same U, the same objective
    assert recs[1]["objective"] == pytest.approx(recs[0]["objective"], rel=1e-5)
    np.testing.assert_allclose(dsn.blocks[1].U.data, dsn.blocks[0].U.data, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("warm_start", [True, False])
def test_three_modules_beat_the_first_on_held_out_digits(digits, warm_start):
    dsn, recs = _fit(digits, warm_start=warm_start)
    assert recs[2]["val_error"] < recs[0]["val_error"], [r["val_error"] for r in recs]
    assert recs[2]["val_error"] < 0.05
    (_, _), (Xt, yt) = digits
    assert dsn.score(Xt, yt) == pytest.approx(1 - recs[2]["val_error"])


def test_predict_proba_and_predict_agree(digits):
    dsn, _ = _fit(digits, n_modules=2, iters=3)
    (_, _), (Xt, _) = digits
    P = dsn.predict_proba(Xt)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(P.argmax(axis=1), dsn.predict(Xt))
    np.testing.assert_allclose(dsn.decision_function(Xt), nt.predict(dsn, Xt), rtol=1e-5, atol=1e-6)


def test_real_valued_targets(rng):
    X = rng.uniform(-2, 2, size=(400, 2))
    T = np.c_[np.sin(X[:, 0]) * X[:, 1], np.cos(X[:, 1])]
    dsn = DSN(2, 2, 40, 2, ridge=1e-3, targets="values", seed=0, dtype=np.float64)
    recs = dsn.fit(X, T, finetune_iters=20, finetune_lr=5.0)
    assert recs[-1]["train_error"] <= recs[0]["train_error"]
    assert dsn.score(X, T) > 0.98
    assert dsn.predict(X).shape == (400, 2)
    with pytest.raises(ValueError, match="targets='classes'"):
        dsn.predict_proba(X)


def test_checkpoint_after_each_module_and_resume_skips_finished(digits, tmp_path, monkeypatch):
    (X, y), _ = digits
    path = tmp_path / "dsn.npz"
    full = DSN(64, 10, 40, 3, seed=2)
    full.fit(X, y, finetune_iters=3, finetune_lr=50.0, checkpoint=path)
    assert nt.load(path).blocks[2].U.data.shape == (40, 10)

    calls = []
    real = DSN._fit_module

    def interrupted(self, m, *a):
        calls.append(m)
        if m == 2 and len(calls) == 3:
            raise KeyboardInterrupt
        return real(self, m, *a)

    monkeypatch.setattr(DSN, "_fit_module", interrupted)
    path2 = tmp_path / "dsn2.npz"
    with pytest.raises(KeyboardInterrupt):
        DSN(64, 10, 40, 3, seed=2).fit(X, y, finetune_iters=3, finetune_lr=50.0, checkpoint=path2)
    resumed = DSN(64, 10, 40, 3, seed=2)
    recs = resumed.fit(X, y, finetune_iters=3, finetune_lr=50.0, checkpoint=path2, resume=True)
    assert calls == [0, 1, 2, 2]              # modules 1 and 2 were not trained again
    assert [r["module"] for r in recs] == [1, 2, 3]
    for a, b in zip(full.parameters(), resumed.parameters()):
        np.testing.assert_array_equal(a.data, b.data)


def test_backprop_over_the_stack_lowers_the_squared_error(digits, tmp_path):
    (X, y), (Xt, yt) = digits
    dsn = DSN(64, 10, 50, 2, seed=0)
    dsn.fit(X, y, finetune_iters=2, finetune_lr=50.0)
    T = np.eye(10)[y]
    before = nt.evaluate(dsn, nt.MSE(), X, T, metrics=())["loss"]
    dsn.fit(X, y, finetune_iters=2, finetune_lr=50.0, backprop_epochs=3,
            checkpoint=tmp_path / "d.npz")
    after = nt.evaluate(dsn, nt.MSE(), X, T, metrics=())["loss"]
    assert after < before
    assert len(dsn.backprop_history_["loss"]) == 3
    assert (tmp_path / "d.backprop.npz").exists()


def test_backprop_callbacks_reach_the_loop(digits):
    (X, y), _ = digits
    dsn = DSN(64, 10, 20, 2, seed=0)
    dsn.fit(X[:200], y[:200], finetune_iters=1, finetune_lr=50.0, backprop_epochs=3,
            optimizer=nt.optim.Adam(dsn.parameters(), lr=1e-3), callbacks=[nt.ExponentialLR(0.5)])
    np.testing.assert_allclose(dsn.backprop_history_["lr"], [1e-3, 5e-4, 2.5e-4])


def test_save_and_load_give_the_same_predictions(digits, tmp_path):
    dsn, _ = _fit(digits, n_modules=2, iters=2)
    (_, _), (Xt, _) = digits
    nt.save(tmp_path / "m.npz", dsn)
    back = nt.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(back.decision_function(Xt), dsn.decision_function(Xt))


def test_bad_input_is_refused_with_clear_messages(digits):
    (X, y), _ = digits
    with pytest.raises(ValueError, match="n_modules must be >= 1, got 0"):
        DSN(64, 10, 20, 0)
    with pytest.raises(ValueError, match="ridge must be >= 0, got -1"):
        DSN(64, 10, 20, 2, ridge=-1.0)
    with pytest.raises(ValueError, match="one size per module"):
        DSN(64, 10, [20, 30], 3)
    dsn = DSN(64, 10, 20, 2)
    with pytest.raises(ValueError, match=r"y must have one row per row of X \(1347\), got 1346 rows"):
        dsn.fit(X, y[:-1])
    with pytest.raises(ValueError, match="X must have 64 features"):
        dsn.fit(X[:, :10], y)
    with pytest.raises(ValueError, match=r"class labels in y must be in \[0, 10\)"):
        dsn.fit(X, y + 5)
    with pytest.raises(ValueError, match="y must have 10 columns"):
        dsn.fit(X, np.zeros((len(X), 3)))
    with pytest.raises(ValueError, match="X contains NaN"):
        dsn.fit(np.full_like(X, np.nan), y)
    with pytest.raises(ValueError, match="finetune_lr must be > 0"):
        dsn.fit(X, y, finetune_lr=0.0)
    with pytest.raises(TypeError, match="X must be a numeric array"):
        dsn.fit(np.array([["a"] * 64]), [0])


def test_rbm_initialisation_of_the_lower_weights(digits):
    from neuronet.energy.rbm import RBM
    (X, y), _ = digits
    dsn = DSN(64, 10, 30, 1, seed=0)
    dsn.fit(X, y, finetune_iters=0, rbm_epochs=2, seed=5)
    rbm = RBM(64, 30, seed=5)
    rbm.fit(X, epochs=2, batch_size=100, verbose=False, seed=5)
    # with no fine-tuning step the module keeps the RBM's weights, and U is fitted on its features
    np.testing.assert_allclose(dsn.blocks[0].W.data, rbm.W.data)
    np.testing.assert_allclose(dsn.blocks[0].b.data, rbm.b.data)
    assert dsn.score(X, y) > 0.7
