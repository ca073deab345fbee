"""AIS for the DBM (odd layers summed out) against the exact partition function."""
from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from dbm_models import random_dbm
from neuronet.energy import ais_betas, ais_log_likelihood, ais_log_partition


def make_dbm(sizes, n_labels=0, seed=0, scale=1.0):
    return random_dbm(sizes, n_labels, seed, scale)


@pytest.mark.parametrize("sizes,n_labels", [([6, 4, 3], 0), ([5, 4, 3, 2], 0), ([6, 5, 4], 3),
                                            ([12, 10, 8], 0)])
def test_ais_within_a_tenth_of_a_nat_of_exact(sizes, n_labels):
    d = make_dbm(sizes, n_labels)
    data = (np.random.default_rng(1).random((50, sizes[0])) < 0.3).astype(float)
    exact = nt.energy.log_partition(d)
    res = ais_log_partition(d, data=data, n_runs=100, betas=ais_betas(((0.5, 2e-3), (1.0, 1e-3))), seed=2)
    assert abs(res.log_z - exact) < 0.1, (res, exact)
    assert res.log_z_low - 0.02 <= exact <= res.log_z_high + 0.02
    # base rate: log(1 + e^{logit p}) = −log(1 − p) per pixel, log 2 per hidden unit, log K for labels
    p = np.clip(data.mean(0), 1e-3, 1 - 1e-3)
    assert res.log_z_base == pytest.approx(-np.log1p(-p).sum() + sum(sizes[1:]) * np.log(2)
                                           + (np.log(n_labels) if n_labels else 0.0))


def test_few_temperatures_are_worse_than_many():
    """The estimator's error shrinks as the path gets finer (what makes it AIS, not luck)."""
    d = make_dbm([12, 10, 8], scale=1.5)
    exact = nt.energy.log_partition(d)
    coarse = ais_log_partition(d, n_runs=50, betas=np.linspace(0, 1, 5), seed=0)
    fine = ais_log_partition(d, n_runs=50, betas=ais_betas(((0.5, 1e-3), (1.0, 5e-4))), seed=0)
    assert abs(fine.log_z - exact) < 0.1
    assert abs(coarse.log_z - exact) > 3 * abs(fine.log_z - exact)


def test_ais_log_likelihood_is_the_bound_with_the_estimated_log_z():
    d = make_dbm([6, 4, 3])
    X = (np.random.default_rng(3).random((20, 6)) < 0.5).astype(float)
    est = ais_log_likelihood(d, X, n_runs=100, betas=ais_betas(((1.0, 2e-3),)), seed=4)
    assert est.mean == pytest.approx(d.log_likelihood_bound(X, est.ais.log_z))
    assert est.low <= est.mean <= est.high
    assert est.mean <= nt.energy.exact_log_likelihood(d, X) + 0.1


def test_bad_ais_arguments():
    d = make_dbm([6, 4, 3])
    with pytest.raises(ValueError, match="n_runs must be >= 2"):
        ais_log_partition(d, n_runs=1)
    with pytest.raises(ValueError, match="betas must rise"):
        ais_log_partition(d, betas=[0.0, 0.7, 0.5, 1.0])
    with pytest.raises(ValueError, match="6 visible units"):
        ais_log_partition(d, base_visible_bias=np.zeros(5))


def test_float32_products_keep_the_estimate():
    """The products in float32, the log-weights in float64: the same runs land within 0.02 nat."""
    d = make_dbm([12, 10, 8])
    betas = ais_betas(((0.5, 2e-3), (1.0, 1e-3)))
    r64 = ais_log_partition(d, n_runs=50, betas=betas, seed=5)
    r32 = ais_log_partition(d, n_runs=50, betas=betas, seed=5, dtype=np.float32)
    assert abs(r32.log_z - nt.energy.log_partition(d)) < 0.1
    assert abs(r32.log_z - r64.log_z) < 0.05
