"""The recurrent tasks of examples/: adding problem, MNIST by rows, character LM.

Fast versions (small budgets) assert real learning; the full runs behind the numbers
in docs/parts/results_recurrent.md are marked ``slow``.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

import neuronet as nt

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _example(name):
    spec = importlib.util.spec_from_file_location(f"_example_{name}", EXAMPLES / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def adding():
    return _example("adding_problem")


@pytest.fixture
def real_data(data_dir, monkeypatch):
    monkeypatch.setenv("NEURONET_DATA", str(data_dir))
    return data_dir


# ------------------------------------------------------------ adding problem
def test_adding_data(adding):
    X, y = adding.make_adding(500, 30, np.random.default_rng(0))
    assert X.shape == (500, 30, 2) and y.shape == (500, 1)
    assert np.all(X[:, :, 1].sum(1) == 2)
    assert np.all(X[:, :15, 1].sum(1) == 1)                    # one marker in each half
    np.testing.assert_allclose(y[:, 0], (X[:, :, 0] * X[:, :, 1]).sum(1), rtol=1e-6)
    assert abs(np.var(y) - adding.BASELINE) < 0.03              # predicting the mean: MSE 1/6


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gated_nets_solve_the_adding_problem_at_T20(adding, cell):
    r = adding.run(cell, T=20, n_hidden=32, n_train=2000, n_val=500, epochs=5, batch_size=20,
                   lr=1e-2, seed=0, progress=False)
    assert r["val_mse"][-1] < 0.01 < adding.BASELINE


def test_plain_rnn_learns_the_adding_problem_at_short_T(adding):
    r = adding.run("rnn", T=10, n_hidden=32, n_train=2000, n_val=500, epochs=8, batch_size=20,
                   lr=1e-2, seed=0, progress=False)
    assert min(r["val_mse"]) < 0.05


@pytest.mark.slow
def test_adding_problem_T100_lstm_succeeds_plain_rnn_fails(adding):
    lstm = adding.run("lstm", T=100, epochs=10, seed=0, progress=False)
    assert min(lstm["val_mse"]) < 0.01
    rnn = adding.run("rnn", T=100, epochs=10, seed=0, progress=False)
    assert min(rnn["val_mse"]) > 0.1                           # stays near the 0.167 baseline


# ------------------------------------------------------------ MNIST row by row
def test_mnist_rows_learns_quickly(real_data):
    mnist_rows = _example("mnist_rows")
    r = mnist_rows.run("lstm", n_hidden=64, epochs=1, n_train=5000, batch_size=50, lr=3e-3,
                       progress=False)
    assert r["test_accuracy"] > 0.6                            # chance: 0.1


def test_mnist_rows_checkpoint_resumes(real_data, tmp_path):
    mnist_rows = _example("mnist_rows")
    ck = tmp_path / "rows.npz"
    mnist_rows.run("gru", n_hidden=16, epochs=1, n_train=500, batch_size=50, checkpoint=ck,
                   progress=False)
    assert nt.io.load_checkpoint(ck).epoch == 1
    r = mnist_rows.run("gru", n_hidden=16, epochs=2, n_train=500, batch_size=50, checkpoint=ck,
                       progress=False)
    assert r["history"]["epoch"][-1] == 2 and nt.io.load_checkpoint(ck).epoch == 2


@pytest.mark.slow
def test_mnist_rows_full(real_data):
    mnist_rows = _example("mnist_rows")
    r = mnist_rows.run("lstm", n_hidden=128, epochs=5, progress=False)
    assert r["test_accuracy"] > 0.975                          # measured 0.9826 (docs)


# ------------------------------------------------------------ character LM
def test_char_lm_on_shakespeare_beats_uniform(real_data):
    char_lm = _example("char_lm")
    text = nt.data.load_tinyshakespeare()[:60000]
    model, vocab, hist = char_lm.train(text, n_hidden=64, steps=120, seq_len=50, n_streams=16,
                                       lr=1e-2, val_every=1000, progress=False)
    uniform = np.log(vocab.size)
    assert hist.val_loss[-1] < 0.7 * uniform                   # ln V ≈ 4.1 nats
    s = model.sample(vocab, "ROMEO:\n", 100, temperature=0.8, seed=0)
    assert s.startswith("ROMEO:\n") and len(s) == 107 and set(s) <= set(vocab.chars)


@pytest.mark.slow
def test_char_lm_full_budget(real_data):
    char_lm = _example("char_lm")
    model, vocab, hist = char_lm.train(steps=1500, progress=False)
    assert hist.val_loss[-1] < 1.85                           # measured 1.79 (docs)
