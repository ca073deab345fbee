"""Saved files under faults and hostile input: partial writes, wrong dtypes, bad JSON."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import neuronet as nt
from neuronet.io import CheckpointError


def _rewrite(path, out, meta=None, **arrays):
    """A copy of a checkpoint with its JSON description or some arrays replaced."""
    with np.load(path, allow_pickle=False) as z:
        d = {k: z[k] for k in z.files}
    if meta is not None:
        d["__meta__"] = np.array(meta)
    d.update(arrays)
    np.savez(out, **d)
    return out


@pytest.fixture
def saved(tmp_path):
    net = nt.Sequential(nt.Dense(4, 3, seed=0), nt.ReLU(), nt.Dense(3, 2, seed=1))
    return nt.save(tmp_path / "m.npz", net)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.float16, np.complex64])
def test_parameters_of_other_dtypes_are_refused(saved, tmp_path, dtype):
    with np.load(saved) as z:
        arrays = {k: z[k].astype(dtype) for k in z.files if k.startswith("model/")}
    bad = _rewrite(saved, tmp_path / "bad.npz", **arrays)
    with pytest.raises(CheckpointError, match=f"bad.npz.*float32 or float64.*{np.dtype(dtype)}"):
        nt.load(bad)


def _nested(depth):
    out = []
    for _ in range(depth):
        out = [out]
    return out


@pytest.mark.parametrize("meta, words", [
    ("[1, 2]", "format"),
    (json.dumps({"format": "neuronet-checkpoint/1"}), "no model spec"),
    (json.dumps({"format": "neuronet-checkpoint/1", "spec": [1]}), "no model spec"),
    (json.dumps({"format": "neuronet-checkpoint/1", "spec": {"type": "Dense", "args": {}},
                 "epoch": "three"}), "'epoch'.*must be a int"),
    ("[" * 100000 + "]" * 100000, "corrupt or nested too deeply|nests deeper"),
    (json.dumps({"format": "neuronet-checkpoint/1", "spec": {"a": _nested(80)}}),
     "nests deeper than 64"),
])
def test_metadata_of_the_wrong_form_or_depth_is_refused(saved, tmp_path, meta, words):
    bad = _rewrite(saved, tmp_path / "bad.npz", meta=meta)
    with pytest.raises(CheckpointError, match=words):
        nt.load(bad)


def test_metadata_that_is_not_a_string_is_refused(saved, tmp_path):
    bad = _rewrite(saved, tmp_path / "bad.npz", __meta__=np.zeros(3))
    with pytest.raises(CheckpointError, match="must be one JSON string"):
        nt.load(bad)


_WRITER = """
import sys, numpy as np, neuronet as nt
net = nt.Sequential(nt.Dense(600, 600, seed=int(sys.argv[2])))
print("ready", flush=True)
while True:
    nt.save(sys.argv[1], net)
"""


def test_kill_9_during_saves_keeps_a_loadable_file_and_the_next_save_cleans_up(tmp_path):
    """Killed at random moments while saving over and over: the file always loads (the
    previous or the new version, never half of one), and the partial file that the kill
    leaves is removed by the next save to the same path."""
    path = tmp_path / "model.npz"
    nt.save(path, nt.Sequential(nt.Dense(600, 600, seed=0)))
    rng = np.random.default_rng(0)
    for trial in range(4):
        p = subprocess.Popen([sys.executable, "-c", _WRITER, str(path), str(trial + 1)],
                             stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == "ready"
        time.sleep(float(rng.uniform(0.05, 0.4)))
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        assert nt.load(path).parameters()[0].shape == (600, 600)
    nt.save(path, nt.Sequential(nt.Dense(600, 600, seed=9)))
    leftovers = [f.name for f in tmp_path.iterdir() if f.name != "model.npz"]
    assert leftovers == []
