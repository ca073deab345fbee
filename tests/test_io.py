"""Checkpoints: .npz + JSON, no pickle, atomic, and clear errors."""
from __future__ import annotations

import json

import numpy as np
import pytest

import neuronet as nt
from neuronet.io import CheckpointError


class Tabled(nt.Module):
    """A test module whose constructor takes an array, a tuple and a nested module."""

    def __init__(self, table, shape=(2, 3), inner=None, name="t"):
        self.table = np.asarray(table)
        self.shape_ = tuple(shape)
        self.inner = inner
        self.W = nt.Parameter(np.ones(self.shape_, dtype=nt.get_default_dtype()) * self.table.sum())

    def forward(self, x):
        return x


def test_round_trip_nested_modules_arrays_tuples(tmp_path):
    table = np.array([[True, False], [False, True]])
    model = nt.Sequential(nt.Dense(3, 4, seed=0), nt.ReLU(), nt.Dropout(0.3, seed=1),
                          Tabled(table, (2, 5), inner=nt.Sequential(nt.Dense(2, 2, seed=3)), name="x"))
    model[0].W.data[...] = np.arange(12, dtype=np.float32).reshape(3, 4)
    model[3].inner[0].b.data[:] = [7, 8]
    model[0].W.set_mask(np.arange(12).reshape(3, 4) % 2 == 0)
    path = nt.save(tmp_path / "m.npz", model, extra={"note": "hi", "pair": (1, 2), "arr": np.eye(2)})
    ck = nt.load_checkpoint(path)
    m2 = ck.model
    assert type(m2[3]) is Tabled and m2[3].shape_ == (2, 5)
    np.testing.assert_array_equal(m2[3].table, table)
    assert m2[3].table.dtype == bool
    for (n1, p1), (n2, p2) in zip(model.named_parameters(), m2.named_parameters()):
        assert n1 == n2 and np.array_equal(p1.data, p2.data) and p1.data.dtype == p2.data.dtype
    np.testing.assert_array_equal(m2[0].W.mask, model[0].W.mask)
    assert ck.extra["pair"] == (1, 2) and ck.extra["note"] == "hi"
    np.testing.assert_array_equal(ck.extra["arr"], np.eye(2))
    # the dropout generator continues where the saved one was
    assert model[2].forward(np.ones((4, 3))).tolist() == m2[2].forward(np.ones((4, 3))).tolist()
    # nothing in the file needs pickle
    with np.load(path, allow_pickle=False) as z:
        assert all(z[k].dtype != object for k in z.files)


def test_float64_model_and_optimizer_state(tmp_path):
    net = nt.Sequential(nt.Dense(2, 3, seed=0), nt.Tanh(), nt.Dense(3, 1, seed=1)).astype(np.float64)
    opt = nt.optim.Adam(net.parameters(), lr=0.01)
    for _ in range(3):
        net.zero_grad()
        net.backward(np.ones((5, 1)) * 0.1 + 0 * net.forward(np.random.default_rng(0).random((5, 2))))
        opt.step()
    nt.save(tmp_path / "a.npz", net, opt, epoch=3)
    net2 = nt.Sequential(nt.Dense(2, 3, seed=5), nt.Tanh(), nt.Dense(3, 1, seed=6)).astype(np.float64)
    opt2 = nt.optim.Adam(net2.parameters(), lr=0.5)
    ck = nt.restore(tmp_path / "a.npz", net2, opt2)
    assert ck.epoch == 3 and opt2.t == 3 and opt2.lr == 0.01
    assert net2[0].W.data.dtype == np.float64
    np.testing.assert_array_equal(net2[2].W.data, net[2].W.data)
    for k, v in opt.state_dict()["state"].items():
        np.testing.assert_array_equal(opt2.state_dict()["state"][k], v)
    assert nt.load(tmp_path / "a.npz")[0].W.data.dtype == np.float64


def _rewrite(src, dst, fn):
    with np.load(src, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    fn(arrays)
    np.savez(dst, **arrays)


def test_object_arrays_are_refused(tmp_path):
    p = tmp_path / "evil.npz"
    np.savez(p, __meta__=np.array(json.dumps({"format": "neuronet-checkpoint/1"})),
             payload=np.array([{"a": 1}], dtype=object))
    with pytest.raises(CheckpointError, match="object arrays.*pickle") as e:
        nt.load(p)
    assert str(p) in str(e.value)


def test_missing_keys_and_mismatched_shapes(tmp_path):
    net = nt.Sequential(nt.Dense(2, 3, seed=0), nt.Dense(3, 1, seed=1))
    src = nt.save(tmp_path / "ok.npz", net)
    _rewrite(src, tmp_path / "missing.npz", lambda a: a.pop("model/layers.1.W"))
    with pytest.raises(CheckpointError, match=r"missing \['layers.1.W'\]"):
        nt.load(tmp_path / "missing.npz")

    def reshape(a):
        a["model/layers.0.W"] = np.zeros((5, 3), dtype=np.float32)
    _rewrite(src, tmp_path / "shape.npz", reshape)
    with pytest.raises(CheckpointError, match=r"'layers.0.W' should have shape \(2, 3\).*\(5, 3\)"):
        nt.load(tmp_path / "shape.npz")
    _rewrite(src, tmp_path / "nometa.npz", lambda a: a.pop("__meta__"))
    with pytest.raises(CheckpointError, match="__meta__"):
        nt.load(tmp_path / "nometa.npz")
    with pytest.raises(CheckpointError, match="parameter 'layers.0.W' has shape"):
        nt.restore(src, nt.Sequential(nt.Dense(4, 3), nt.Dense(3, 1)))


def test_unknown_class_and_foreign_files(tmp_path):
    net = nt.Sequential(nt.Dense(2, 3, seed=0))
    src = nt.save(tmp_path / "ok.npz", net)

    def rename(a):
        meta = json.loads(str(a["__meta__"][()]))
        meta["spec"]["args"]["*layers"][0]["__module__"]["type"] = "os.system"
        a["__meta__"] = np.array(json.dumps(meta))
    _rewrite(src, tmp_path / "cls.npz", rename)
    with pytest.raises(CheckpointError, match="unknown module class 'os.system'"):
        nt.load(tmp_path / "cls.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip file at all")
    with pytest.raises(CheckpointError, match="junk.npz.*not a readable"):
        nt.load(tmp_path / "junk.npz")
    raw = src.read_bytes()
    (tmp_path / "trunc.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CheckpointError, match="trunc.npz"):
        nt.load(tmp_path / "trunc.npz")
    with pytest.raises(FileNotFoundError, match="nothere.npz"):
        nt.load(tmp_path / "nothere.npz")


def test_unsaveable_arguments_are_named(tmp_path):
    with pytest.raises(TypeError, match="cannot save a function"):
        nt.save(tmp_path / "f.npz", Tabled(np.eye(2), inner=None, name=lambda: 0))
    with pytest.raises(TypeError, match="object arrays"):
        nt.save(tmp_path / "g.npz", Tabled(np.array([1, 2], dtype=object)))
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(TypeError, match="takes a Module"):
        nt.save(tmp_path / "h.npz", {"W": np.eye(2)})
