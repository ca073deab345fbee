"""The energy models' array-module dispatch, checked without a GPU.

The CuPy path itself runs only in tests/energy/test_energy_gpu.py (skipped without
CuPy). Here: the pieces of that path that are plain Python run on NumPy — the dense
sweep a GPU uses against the CPU's sparse one, the device-generator bookkeeping with
NumPy standing in for CuPy, and a static check that the training and sampling
functions call no NumPy routine on data arrays.
"""
from __future__ import annotations

import ast
import inspect
import textwrap
import types

import numpy as np
import pytest

from neuronet import random as nr
from neuronet.energy import annealing

# ------------------------------------------------------------------ the GPU's sweep on the CPU


def _fields(S, W, b):
    return S @ W + b


@pytest.mark.parametrize("block", [1, 3, 64])
def test_dense_sweep_equals_the_sparse_one(block):
    """``_dense_sweep`` (every update dense, as on a GPU) leaves the same states and fields."""
    rng = np.random.default_rng(0)
    n, B = 11, 7
    A = rng.normal(size=(n, n))
    W = np.triu(A, 1) + np.triu(A, 1).T
    b = rng.normal(size=n)
    S0 = (rng.random((B, n)) < 0.5).astype(np.float64)
    order = rng.permutation(n)
    Z = rng.normal(size=(n, B))  # thresholds: some units flip in some chains only

    def decide(h, s, i):
        return (h > Z[i]) * 1.0

    S1, S2 = S0.copy(), S0.copy()
    H1, H2 = _fields(S1, W, b), _fields(S2, W, b)
    annealing.sequential_sweep(S1, W, H1, order, decide, block=block)
    annealing._dense_sweep(S2, W, H2, order, decide, block, np)
    np.testing.assert_array_equal(S2, S1)
    assert not np.array_equal(S1, S0)  # the sweep did something
    np.testing.assert_allclose(H2, H1, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(H2, _fields(S2, W, b), rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------ device generators


def _fake_device_module():
    """NumPy dressed as a second array module: ``generator_for`` treats it as a device."""
    return types.SimpleNamespace(random=np.random)


def test_generator_for_numpy_is_the_host_generator():
    rng = np.random.default_rng(3)
    assert nr.generator_for(rng, np) is rng


def test_device_generator_is_seeded_once_from_the_host_and_reseeded_after_a_restore():
    xp = _fake_device_module()
    rng = np.random.default_rng(5)
    state = nr.rng_state(rng)
    g = nr.generator_for(rng, xp)
    assert g is not rng and nr.generator_for(rng, xp) is g  # one stream per host generator
    first = g.random(4)
    # the seed is one draw of the host generator: the same seed gives the same device stream
    twin = np.random.default_rng(5)
    np.testing.assert_array_equal(nr.generator_for(twin, xp).random(4), first)
    nr.set_rng_state(rng, state)  # a resume: the device stream restarts from the restored host
    again = nr.generator_for(rng, xp)
    assert again is not g
    np.testing.assert_array_equal(again.random(4), first)


# ------------------------------------------------------------------ no NumPy on data arrays

#: functions of a training step or a sampler: every array operation must come from ``xp``
#: (``get_array_module``); ``np.`` is allowed for dtypes, annotations and the error-state
#: context, and on a line marked ``# host`` (index orders, schedules: small host values)
HOT_PATHS = {
    "neuronet.energy.cd": ["ContrastiveDivergence.statistics", "ContrastiveDivergence._gibbs_step",
                           "ContrastiveDivergence._finish", "_hidden_statistics", "visible_step",
                           "start_chains", "buffers", "write_gradient"],
    "neuronet.energy.rbm_step": ["RBMStep.compute", "RBMStep.load_state_dict"],
    "neuronet.energy.rbm": ["RBM.hidden_input", "RBM.visible_input", "RBM.energy", "RBM.free_energy",
                            "RBM.gibbs", "RBM.sample", "RBM.transform", "RBM.reconstruct",
                            "RBM.reconstruction_error"],
    "neuronet.energy.annealing": ["sample_bernoulli", "gibbs_sweep", "_dense_sweep"],
    "neuronet.energy.units": ["BernoulliUnits.mean", "BernoulliUnits.sample", "BernoulliUnits.log_partition",
                              "GaussianUnits.sample", "PoissonUnits.mean", "PoissonUnits.sample",
                              "PoissonUnits.log_partition", "_softplus", "_xlogx"],
    "neuronet.energy.units_grouped": ["SoftmaxUnits.mean", "SoftmaxUnits.sample",
                                      "SoftmaxUnits.log_partition", "CompositeUnits.mean",
                                      "CompositeUnits.sample", "CompositeUnits.init_bias"],
    "neuronet.energy.boltzmann": ["BoltzmannMachine._energy", "BoltzmannMachine.random_states",
                                  "BoltzmannMachine.sampled_statistics",
                                  "BoltzmannMachine.accumulate_gradient"],
    "neuronet.energy.hopfield": ["Hopfield.store", "Hopfield._energy", "Hopfield._threshold",
                                 "Hopfield._sweep", "_storkey"],
    "neuronet.energy.ais": ["ais_log_partition"],
    "neuronet.energy.monitors": ["pseudo_likelihood", "classify_by_free_energy", "free_energy64"],
    "neuronet.energy.dbn": ["DBN._up", "_with_labels"],
    "neuronet.energy.dbn_generative": ["predict_proba", "sample"],
    "neuronet.energy.dbn_updown": ["UpDownStep.compute", "UpDownStep._delta"],
    "neuronet.energy.dbm": ["DBM.layer_input", "DBM.gibbs", "DBM.random_states", "DBM.energy"],
    "neuronet.energy.dbm_mean_field": ["mean_field"],
    "neuronet.energy.dbm_pretrain": ["DoubledRBMStep.compute", "DoubledRBMStep.hidden_mean", "DoubledRBMStep.visible_mean"],
    "neuronet.energy.dbm_train": ["DBMStep.compute", "DBMStep._write_gradient", "DBMStep._add_sparsity",
                                  "_reconstruction_error"],
}
ALLOWED = {"float32", "float64", "int64", "dtype", "errstate", "ndarray", "bool_", "random"}


def _numpy_uses(module_name, qualname):
    module = __import__(module_name, fromlist=["_"])
    obj = module
    for part in qualname.split("."):
        obj = getattr(obj, part)
    source = textwrap.dedent(inspect.getsource(obj))
    lines = source.splitlines()
    return sorted({f"np.{node.attr} (line {node.lineno})" for node in ast.walk(ast.parse(source))
                   if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                   and node.value.id == "np" and node.attr not in ALLOWED
                   and "# host" not in lines[node.lineno - 1]})


@pytest.mark.parametrize("module_name", sorted(HOT_PATHS))
def test_training_and_sampling_code_calls_no_numpy_routine(module_name):
    found = {q: u for q in HOT_PATHS[module_name] if (u := _numpy_uses(module_name, q))}
    assert not found, f"{module_name}: NumPy routines on the array-module path (use xp): {found}"


def test_the_static_check_sees_a_numpy_call():
    """The check above is not vacuous: it finds the ``np.`` routines of a host-only function."""
    assert _numpy_uses("neuronet.energy.annealing", "geometric_schedule")


# ------------------------------------------------------------------ chains follow the parameters


def test_astype_and_to_convert_the_persistent_chains():
    """``Module.astype``/``to`` convert a model's ``_state_arrays`` with its parameters."""
    from neuronet.energy import RBM, BoltzmannMachine

    X = (np.random.default_rng(0).random((40, 6)) < 0.5).astype(np.float32)
    rbm = RBM(6, 3, seed=0)
    rbm.fit(X, epochs=1, batch_size=10, persistent=True, verbose=False, seed=1)
    bm = BoltzmannMachine(6, 2, seed=0)
    bm.fit(X, epochs=1, n_chains=7, progress=False, seed=1)
    for model, name in ((rbm, "persistent_chains"), (bm, "_chains")):
        assert getattr(model, name).dtype == np.float32
        model.astype(np.float64).to("cpu")
        chains = getattr(model, name)
        assert chains.dtype == np.float64 and isinstance(chains, np.ndarray), name
    rbm.fit(X, epochs=1, batch_size=10, persistent=True, verbose=False)  # and training goes on
    assert rbm.persistent_chains.dtype == np.float64
