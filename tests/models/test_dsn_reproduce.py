"""dsn-mnist's quick run: the per-module record and the MLP comparison come back (issue 16)."""
from __future__ import annotations

import types

import neuronet.reproduce as R


def test_dsn_mnist_quick_run(tmp_path, data_dir):
    ctx = types.SimpleNamespace(quick=True, seed=0, out=tmp_path, resume=False, progress=False,
                                checkpoint=lambda n: tmp_path / f"{n}.npz",
                                picture=lambda n: tmp_path / n, log=lambda s: None, config={})
    entry = R.get("dsn-mnist")
    res = entry.run(ctx)
    assert set(entry.published) <= set(res) and set(entry.target) <= set(res)
    assert len(res["test_error_pct_per_module"]) == res["modules"] == 2
    assert res["objective_per_module"][1] <= res["objective_per_module"][0]
    assert abs(res["mlp_weights"] - res["dsn_weights"]) <= 795       # one hidden unit's worth
    assert 0 <= res["mlp_test_error_pct"] <= 100 and 0 <= res["test_error_pct"] <= 100
    assert (tmp_path / "dsn-mnist.npz").exists()
    assert ctx.config["hidden"] == res["hidden"] and ctx.config["ridge"] == 1.0
