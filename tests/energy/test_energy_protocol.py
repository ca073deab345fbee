"""The energy-model protocol (energy/base.py): one set of names, return types and RNG ownership
across RBM, Boltzmann machine and Hopfield net."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from neuronet.energy import RBM, BoltzmannMachine, EnergyModel, Hopfield


def _models():
    hop = Hopfield(8, seed=0)
    hop.store(np.array([[1, -1, 1, -1, 1, -1, 1, -1], [1, 1, 1, 1, -1, -1, -1, -1]]))
    return {"rbm": RBM(6, 3, seed=0, init_std=0.5).astype(np.float64),
            "bm": BoltzmannMachine(4, 2, init_std=0.5, seed=0, dtype="float64"), "hopfield": hop}


@pytest.mark.parametrize("name", ["rbm", "bm", "hopfield"])
def test_sample_and_rng_are_owned_by_the_model(name):
    model = _models()[name]
    assert isinstance(model, EnergyModel) and isinstance(model.rng, np.random.Generator)
    width = {"rbm": 6, "bm": 6, "hopfield": 8}[name]
    model.rng = 11
    first = model.sample(5, 3)
    model.rng = 11  # an int reseeds the model's own generator
    again = model.sample(5, 3)
    assert first.shape == (5, width) and np.array_equal(first, again)
    different = model.sample(5, 3)  # the generator moved on
    assert not np.array_equal(first, different) or name == "hopfield"
    given = np.random.default_rng(4)
    state = model.rng.bit_generator.state
    model.sample(5, 3, rng=given)  # an explicit generator leaves the model's alone
    assert model.rng.bit_generator.state == state


@pytest.mark.parametrize("name", ["rbm", "bm", "hopfield"])
def test_energy_returns_one_value_per_row(name):
    model = _models()[name]
    S = model.sample(7, 2)
    E = model.energy(S[:, :6], model.sample_hidden(S)) if name == "rbm" else model.energy(S)
    assert E.shape == (7,) and np.all(np.isfinite(E))


def test_rbm_free_energy_is_the_enumerated_log_sum_over_hiddens():
    rbm = _models()["rbm"]
    rbm.a.data[...] = np.linspace(-1, 1, 6)
    rbm.b.data[...] = [0.3, -0.2, 0.1]
    V = (np.random.default_rng(1).random((5, 6)) < 0.5).astype(float)
    H = np.array(list(itertools.product([0.0, 1.0], repeat=3)))
    for v, f in zip(V, rbm.free_energy(V)):
        E = rbm.energy(np.repeat(v[None], len(H), 0), H)
        assert f == pytest.approx(-np.log(np.exp(-E).sum()), rel=1e-12)


def test_what_a_model_cannot_give_is_named():
    m = _models()
    with pytest.raises(NotImplementedError, match="Hopfield has no free energy"):
        m["hopfield"].free_energy(np.ones((1, 8)))
    with pytest.raises(NotImplementedError, match="BoltzmannMachine has no free energy"):
        m["bm"].free_energy(np.ones((1, 4)))
    with pytest.raises(NotImplementedError, match="Hopfield has no hidden representation"):
        m["hopfield"].transform(np.ones((1, 8)))


def test_transform_and_reconstruct():
    m = _models()
    X = (np.random.default_rng(2).random((4, 6)) < 0.5).astype(float)
    assert m["rbm"].transform(X).shape == (4, 3) and m["rbm"].reconstruct(X).shape == (4, 6)
    noisy = np.array([[1, -1, 1, -1, 1, -1, 1, 1]])  # the first pattern, last bit flipped
    np.testing.assert_array_equal(m["hopfield"].reconstruct(noisy), [[1, -1, 1, -1, 1, -1, 1, -1]])
