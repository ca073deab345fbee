"""MNIST / Fashion-MNIST: lookup, checksums, errors, and the real files."""
from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest

from neuronet import data as D


def test_load_mnist_real(data_dir, monkeypatch):
    monkeypatch.setenv("NEURONET_DATA", str(data_dir))
    X, y = D.load_mnist("train", download=False)
    assert X.shape == (60000, 28, 28) and X.dtype == np.uint8
    assert y.shape == (60000,) and set(np.unique(y)) == set(range(10))
    assert y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]  # MNIST's first training labels
    Xt, yt = D.load_mnist("test", download=False)
    assert Xt.shape == (10000, 28, 28) and np.bincount(yt).sum() == 10000
    F, fy = D.load_fashion_mnist("test", download=False)
    assert F.shape == (10000, 28, 28) and fy[:3].tolist() == [9, 2, 1]
    x = D.to_float(Xt[:5], flatten=True)
    assert x.shape == (5, 784) and x.dtype == np.float32 and x.min() >= 0 and x.max() <= 1
    np.testing.assert_allclose(x[0], Xt[0].ravel() / 255.0, rtol=1e-6)
    assert all(s == "ok" for _, _, s in D.verify("mnist"))


def _copy_mnist(data_dir, dst, only=None):
    dst.mkdir(parents=True)
    for f in (data_dir / "mnist").iterdir():
        if only is None or f.name in only:
            shutil.copy(f, dst / f.name)


def test_wrong_checksum_names_file(data_dir, tmp_path, monkeypatch):
    folder = tmp_path / "mnist"
    _copy_mnist(data_dir, folder, only={"t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"})
    bad = folder / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(bad.read_bytes())
    raw[-20] ^= 0xFF
    bad.chmod(0o644)
    bad.write_bytes(bytes(raw))
    monkeypatch.setenv("NEURONET_DATA", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(D.ChecksumError, match="t10k-labels-idx1-ubyte.gz.*MD5") as e:
        D.load_mnist("test", download=False)
    assert "neuronet data fetch mnist" in str(e.value)
    status = dict((f, s) for f, _, s in D.verify("mnist"))
    assert status["t10k-labels-idx1-ubyte.gz"] == "bad checksum"
    assert status["t10k-images-idx3-ubyte.gz"] == "ok"
    assert status["train-images-idx3-ubyte.gz"] == "missing"


def test_raw_uncompressed_files_are_accepted(data_dir, tmp_path, monkeypatch):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (folder / name).write_bytes(gzip.decompress((data_dir / "mnist" / (name + ".gz")).read_bytes()))
    monkeypatch.setenv("NEURONET_DATA", str(tmp_path))
    X, y = D.load_mnist("test", download=False)
    assert X.shape == (10000, 28, 28) and y.shape == (10000,)


def test_missing_files_say_where_to_put_them(tmp_path, monkeypatch):
    monkeypatch.setenv("NEURONET_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(D.DataError) as e:
        D.load_mnist("train", download=False)
    msg = str(e.value)
    assert "train-images-idx3-ubyte.gz" in msg and str(tmp_path / "data" / "mnist") in msg
    assert "neuronet data fetch mnist" in msg


def test_failed_download_leaves_nothing(tmp_path, monkeypatch):
    """No network (an unreachable mirror): a clear error, no partial file in the cache."""
    monkeypatch.setenv("NEURONET_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    ds = D.DATASETS["mnist"]
    monkeypatch.setitem(D.DATASETS, "mnist", D.DataSet(
        ds.name, ds.home, ("http://127.0.0.1:9/",), ds.files))
    with pytest.raises(D.DataError, match="Download failed") as e:
        D.load_mnist("test", download=True)
    assert "t10k-images-idx3-ubyte.gz" in str(e.value)
    assert "t10k-labels-idx1-ubyte.gz" in str(e.value)  # every missing file is named
    cache = tmp_path / "cache" / "neuronet" / "mnist"
    assert not cache.exists() or list(cache.iterdir()) == []


def test_download_verifies_checksum_and_renames(tmp_path, monkeypatch, data_dir):
    """A mirror serving a wrong file is rejected; a right one lands under its final name."""
    import neuronet.data.download as M
    good = (data_dir / "mnist" / "t10k-labels-idx1-ubyte.gz").read_bytes()

    class Resp:
        def __init__(self, payload):
            self.payload, self.done = payload, False

        def read(self, n):
            if self.done:
                return b""
            self.done = True
            return self.payload

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

    served = {"http://bad/": good[:-5], "http://good/": good}
    monkeypatch.setattr(M.urllib.request, "urlopen",
                        lambda url, timeout: Resp(served[url.rsplit("/", 1)[0] + "/"]))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    ds = D.DATASETS["mnist"]
    f = ds.files["test"][1]
    bad_ds = D.DataSet(ds.name, ds.home, ("http://bad/",), ds.files)
    with pytest.raises(D.DataError, match="MD5"):
        M._download(bad_ds, f, tmp_path / "dl")
    assert list((tmp_path / "dl").iterdir()) == []
    ok_ds = D.DataSet(ds.name, ds.home, ("http://bad/", "http://good/"), ds.files)
    path = M._download(ok_ds, f, tmp_path / "dl")
    assert path.name == f.name and D.md5sum(path) == f.md5
    assert [p.name for p in (tmp_path / "dl").iterdir()] == [f.name]


def test_bad_split_and_name():
    with pytest.raises(ValueError, match="split must be one of"):
        D.load_mnist("validation", download=False)
    with pytest.raises(ValueError, match="unknown data set"):
        D.load_dataset("cifar", "train")
    with pytest.raises(TypeError, match="uint8"):
        D.to_float(np.zeros((2, 2), dtype=np.float32))
