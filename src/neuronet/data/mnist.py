"""MNIST and Fashion-MNIST: find, verify, download and load the IDX files.

Lookup order for each file (``.gz`` as published, or the raw IDX after gunzip):

1. ``$NEURONET_DATA/<name>/`` and ``$NEURONET_DATA/`` itself;
2. the user cache ``$XDG_CACHE_HOME/neuronet/<name>/`` (default ``~/.cache/neuronet``).

A missing file is downloaded into the cache from the official location (or a
mirror), checked against its published MD5 and only then renamed into place,
so no half-written file is ever left.  Every file found is checked too: a wrong
checksum, a truncated file or an HTML page saved as ``.gz`` is an error that
names the file.
"""
from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .idx import IDXError, read_idx

__all__ = ["DATASETS", "DataError", "ChecksumError", "load_mnist", "load_fashion_mnist",
           "load_dataset", "to_float", "cache_dir", "data_dirs", "find_file",
           "fetch", "verify", "md5sum"]


class DataError(RuntimeError):
    """A data file is missing or cannot be used; the message says what to do."""


class ChecksumError(DataError):
    """A data file's MD5 differs from the published one."""


@dataclass(frozen=True)
class DataFile:
    name: str          # the published .gz name
    md5: str           # MD5 of the .gz
    raw_md5: str       # MD5 of the IDX file after gunzip

    @property
    def raw_name(self) -> str:
        return self.name[:-3]


@dataclass(frozen=True)
class DataSet:
    name: str
    home: str
    mirrors: tuple[str, ...]
    files: dict = field(default_factory=dict)   # split -> (images DataFile, labels DataFile)

    def all_files(self):
        for images, labels in self.files.values():
            yield images
            yield labels


DATASETS: dict[str, DataSet] = {
    "mnist": DataSet(
        name="mnist",
        home="http://yann.lecun.com/exdb/mnist/",
        mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/",
                 "http://yann.lecun.com/exdb/mnist/"),
        files={
            "train": (DataFile("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                               "6bbc9ace898e44ae57da46a324031adb"),
                      DataFile("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432",
                               "a25bea736e30d166cdddb491f175f624")),
            "test": (DataFile("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3",
                              "2646ac647ad5339dbf082846283269ea"),
                     DataFile("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c",
                              "27ae3e4e09519cfbb04c329615203637")),
        }),
    "fashion-mnist": DataSet(
        name="fashion-mnist",
        home="https://github.com/zalandoresearch/fashion-mnist",
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        files={
            "train": (DataFile("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                               "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
                      DataFile("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe",
                               "9018921c3c673c538a1fc5bad174d6f9")),
            "test": (DataFile("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79",
                              "8181f5470baa50b63fa0f6fddb340f0a"),
                     DataFile("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310",
                              "15d484375f8d13e6eb1aabb0c3f46965")),
        }),
}


# ------------------------------------------------------------------ places
def cache_dir() -> Path:
    """The user cache: ``$XDG_CACHE_HOME/neuronet``, default ``~/.cache/neuronet``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "neuronet"


def data_dirs(name: str) -> list[Path]:
    """Folders searched for data set ``name``, in order."""
    dirs = []
    env = os.environ.get("NEURONET_DATA")
    if env:
        dirs += [Path(env) / name, Path(env)]
    dirs.append(cache_dir() / name)
    return dirs


def _dataset(name: str) -> DataSet:
    key = name.lower().replace("_", "-")
    if key not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}")
    return DATASETS[key]


def md5sum(path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def find_file(ds: DataSet, f: DataFile):
    """``(path, expected md5)`` of the first copy of ``f`` found, or ``None``."""
    for d in data_dirs(ds.name):
        if (d / f.name).is_file():
            return d / f.name, f.md5
        if (d / f.raw_name).is_file():
            return d / f.raw_name, f.raw_md5
    return None


def _check(path: Path, expected: str, ds: DataSet) -> None:
    got = md5sum(path)
    if got != expected:
        raise ChecksumError(
            f"{path}: MD5 {got} differs from the published {expected}; the file is corrupt, "
            f"truncated or not the {ds.name} file. Delete it and run `neuronet data fetch {ds.name}` "
            f"(or copy the original from {ds.home}).")


def _missing_message(ds: DataSet, missing, reason: str = "") -> str:
    where = data_dirs(ds.name)
    lines = [f"{ds.name}: file(s) not found: {', '.join(f.name for f in missing)}."]
    if reason:
        lines.append(f"Download failed: {reason}")
    lines.append("Looked in: " + ", ".join(str(d) for d in where) + ".")
    lines.append(f"Put the files (from {ds.home}) into {where[0]} "
                 f"(or set NEURONET_DATA to a folder holding {ds.name}/), "
                 f"or run `neuronet data fetch {ds.name}` with network access.")
    return "\n".join(lines)


# --------------------------------------------------------------- download
def _download(ds: DataSet, f: DataFile, dest_dir: Path, timeout: float = 30.0) -> Path:
    """Fetch ``f`` into ``dest_dir``: temp name, MD5 check, then rename."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / f.name
    tmp = dest_dir / f".{f.name}.part{os.getpid()}"
    errors = []
    for base in ds.mirrors:
        url = base + f.name
        try:
            with urllib.request.urlopen(url, timeout=timeout) as r, open(tmp, "wb") as out:
                for chunk in iter(lambda: r.read(1 << 20), b""):
                    out.write(chunk)
            got = md5sum(tmp)
            if got != f.md5:
                raise ChecksumError(f"{url}: MD5 {got}, expected {f.md5}")
            os.replace(tmp, dest)
            return dest
        except (urllib.error.URLError, OSError, ChecksumError, ValueError) as e:
            errors.append(f"{url}: {e}")
        finally:
            if tmp.exists():
                tmp.unlink()
    raise DataError(_missing_message(ds, [f], "; ".join(errors)))


def _ensure(ds: DataSet, files, download: bool, timeout: float = 30.0) -> dict:
    """``{file name: path}`` for ``files``: found copies verified, missing ones downloaded.

    Any failure names every file still missing and where to put it.
    """
    paths, missing = {}, []
    for f in files:
        found = find_file(ds, f)
        if found is None:
            missing.append(f)
            continue
        _check(found[0], found[1], ds)
        paths[f.name] = found[0]
    if missing and not download:
        raise DataError(_missing_message(ds, missing))
    for i, f in enumerate(missing):
        try:
            paths[f.name] = _download(ds, f, cache_dir() / ds.name, timeout)
        except DataError as e:
            reason = str(e).split("Download failed: ", 1)[-1].split("\n", 1)[0]
            raise DataError(_missing_message(ds, missing[i:], reason)) from None
    return paths


def fetch(name: str, download: bool = True, timeout: float = 30.0) -> dict:
    """Make every file of data set ``name`` available; returns ``{file name: path}``.

    Files already present are verified; missing ones are downloaded into the
    cache when ``download`` (else :class:`DataError` says where to put them).
    """
    ds = _dataset(name)
    return _ensure(ds, list(ds.all_files()), download, timeout)


def verify(name: str) -> list[tuple[str, str, str]]:
    """``(file, path or '', status)`` for each file: ``ok``, ``missing`` or ``bad checksum``."""
    ds = _dataset(name)
    out = []
    for f in ds.all_files():
        found = find_file(ds, f)
        if found is None:
            out.append((f.name, "", "missing"))
            continue
        status = "ok" if md5sum(found[0]) == found[1] else "bad checksum"
        out.append((f.name, str(found[0]), status))
    return out


# ------------------------------------------------------------------ load
def load_dataset(name: str, split: str = "train", download: bool = True):
    """``(images uint8 (N, 28, 28), labels uint8 (N,))`` of ``split`` ('train' or 'test')."""
    ds = _dataset(name)
    if split not in ds.files:
        raise ValueError(f"split must be one of {sorted(ds.files)}, got {split!r}")
    fi, fl = ds.files[split]
    paths = _ensure(ds, [fi, fl], download)
    pi, pl = paths[fi.name], paths[fl.name]
    images, labels = read_idx(pi), read_idx(pl)
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise IDXError(f"{pi} / {pl}: expected images (N, 28, 28) and labels (N,), got "
                       f"{images.shape} and {labels.shape}")
    return images, labels


def load_mnist(split: str = "train", download: bool = True):
    """MNIST digits: ``(images uint8 (N, 28, 28), labels uint8 (N,))``, N = 60000 or 10000."""
    return load_dataset("mnist", split, download)


def load_fashion_mnist(split: str = "train", download: bool = True):
    """Fashion-MNIST (Zalando): same shapes and types as :func:`load_mnist`."""
    return load_dataset("fashion-mnist", split, download)


def to_float(images, flatten: bool = False, dtype=np.float32):
    """``x = pixel / 255`` in [0, 1]; ``flatten`` gives ``(N, 784)`` for an MLP."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise TypeError(f"to_float expects uint8 pixels, got {images.dtype}")
    x = images.astype(dtype)
    x *= np.dtype(dtype).type(1.0 / 255.0)
    return x.reshape(len(x), -1) if flatten else x
