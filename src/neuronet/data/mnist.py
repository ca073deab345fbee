"""The data-set registry: find, verify and download every data set the library
reads (MNIST, Fashion-MNIST, tiny-shakespeare, MUTAG); the MNIST loaders.

Lookup order for each file of data set ``<name>``:

1. ``$NEURONET_DATA/<name>/`` (for MNIST and Fashion-MNIST also ``$NEURONET_DATA/``
   itself; the other sets have generic file names such as ``input.txt``);
2. the user cache ``$XDG_CACHE_HOME/neuronet/<name>/`` (default ``~/.cache/neuronet``).

A missing file is downloaded into the cache from the official location (or a
mirror), either as it is published or out of the published zip archive (only the
registered member names, never a path from the archive), checked against its
MD5 and only then renamed into place, so no half-written or unverified file is
ever left.  Every file found is checked too: a wrong checksum, a truncated file
or an HTML page saved in its place is an error that names the file.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from .idx import IDXError, read_idx

__all__ = ["DATASETS", "DataError", "ChecksumError", "load_mnist", "load_fashion_mnist",
           "load_dataset", "to_float", "cache_dir", "data_dirs", "find_file",
           "fetch", "verify", "md5sum"]

# an extracted member larger than this is refused (a corrupt or hostile archive)
MAX_MEMBER_BYTES = 1 << 30


class DataError(RuntimeError):
    """A data file is missing or cannot be used; the message says what to do."""


class ChecksumError(DataError):
    """A data file's MD5 differs from the published one."""


@dataclass(frozen=True)
class DataFile:
    """One published file and its MD5; for a ``.gz`` file also the MD5 of its
    gunzipped contents (``raw_md5``), so an unpacked copy is accepted too."""
    name: str
    md5: str
    raw_md5: str | None = None

    @property
    def raw_name(self) -> str | None:
        return self.name[:-3] if self.raw_md5 and self.name.endswith(".gz") else None


@dataclass(frozen=True)
class DataSet:
    """A registered data set: its files grouped by split (``'train'``/``'test'``,
    or ``'all'``), downloaded from ``mirror + file name`` or, when ``archive`` is
    set, extracted from the zip ``mirror + archive`` (members
    ``archive_dir/<file name>``).  ``flat``: the files may also lie directly in
    ``$NEURONET_DATA``."""
    name: str
    home: str
    mirrors: tuple[str, ...]
    files: dict = field(default_factory=dict)   # split -> tuple of DataFile
    archive: str | None = None
    archive_dir: str = ""
    flat: bool = True

    def all_files(self):
        for group in self.files.values():
            yield from group

    def dirs(self) -> list[Path]:
        return data_dirs(self.name, self.flat)

    def source(self) -> str:
        if self.archive:
            return f"{self.mirrors[0]}{self.archive}, folder {self.archive_dir}/"
        return self.home


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
    "tinyshakespeare": DataSet(
        name="tinyshakespeare",
        home="https://github.com/karpathy/char-rnn/tree/master/data/tinyshakespeare",
        mirrors=("https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/",),
        files={"all": (DataFile("input.txt", "6fb458f1232090904fb40fe944165e91"),)},
        flat=False),
    "mutag": DataSet(
        name="mutag",
        home="https://chrsmrrs.github.io/datasets/ (TU Dortmund graph data sets)",
        mirrors=("https://www.chrsmrrs.com/graphkerneldatasets/",),
        files={"all": (DataFile("MUTAG_A.txt", "073286d1cb221c0a77c9f6be1f81f4f6"),
                       DataFile("MUTAG_graph_indicator.txt", "30cde5dae8e80ce469bf94783f6b3e66"),
                       DataFile("MUTAG_graph_labels.txt", "bea332baacf1ed2f413cc1da507c8811"),
                       DataFile("MUTAG_node_labels.txt", "73d20730024a67a91e6ed9562ea3adc8"),
                       DataFile("MUTAG_edge_labels.txt", "7af5d1935aacb713d94def71b92a2738"),
                       DataFile("README.txt", "c0d86cb5e85c78a988586095acf8b32c"))},
        archive="MUTAG.zip", archive_dir="MUTAG", flat=False),
}

IDX_DATASETS = ("mnist", "fashion-mnist")   # the ones load_dataset reads


# ------------------------------------------------------------------ places
def cache_dir() -> Path:
    """The user cache: ``$XDG_CACHE_HOME/neuronet``, default ``~/.cache/neuronet``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "neuronet"


def data_dirs(name: str, flat: bool = True) -> list[Path]:
    """Folders searched for data set ``name``, in order (``flat``: ``$NEURONET_DATA`` too)."""
    dirs = []
    env = os.environ.get("NEURONET_DATA")
    if env:
        dirs.append(Path(env) / name)
        if flat:
            dirs.append(Path(env))
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
    for d in ds.dirs():
        if (d / f.name).is_file():
            return d / f.name, f.md5
        if f.raw_name and (d / f.raw_name).is_file():
            return d / f.raw_name, f.raw_md5
    return None


def _check(path: Path, expected: str, ds: DataSet) -> None:
    got = md5sum(path)
    if got != expected:
        raise ChecksumError(
            f"{path}: MD5 {got} differs from the published {expected}; the file is corrupt, "
            f"truncated or not the {ds.name} file. Delete it and run `neuronet data fetch {ds.name}` "
            f"(or copy the original from {ds.source()}).")


def _missing_message(ds: DataSet, missing, reason: str = "") -> str:
    where = ds.dirs()
    lines = [f"{ds.name}: file(s) not found: {', '.join(f.name for f in missing)}."]
    if reason:
        lines.append(f"Download failed: {reason}")
    lines.append("Looked in: " + ", ".join(str(d) for d in where) + ".")
    lines.append(f"Put the files (from {ds.source()}) into {where[0]} "
                 f"(or set NEURONET_DATA to a folder holding {ds.name}/), "
                 f"or run `neuronet data fetch {ds.name}` with network access.")
    return "\n".join(lines)


class DownloadError(DataError):
    """No mirror gave a verified copy; ``reason`` lists what each one did."""

    def __init__(self, ds: DataSet, missing, reason: str):
        super().__init__(_missing_message(ds, missing, reason))
        self.reason = reason


# --------------------------------------------------------------- download
def _part(dest_dir: Path, name: str) -> Path:
    """The temporary name a file is written under before it is verified."""
    return dest_dir / f".{name}.part{os.getpid()}"


def _verify_part(tmp: Path, f: DataFile, source: str) -> None:
    got = md5sum(tmp)
    if got != f.md5:
        raise ChecksumError(f"{source}: MD5 {got}, expected {f.md5}")


def _from_mirrors(ds: DataSet, remote: str, files, dest_dir: Path, place, timeout: float):
    """Download ``mirror + remote`` to a temporary file in ``dest_dir`` and return
    ``place(tmp, url)`` for the first mirror where that succeeds; the temporary
    file is always removed.  ``files``: the data files this download provides."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    tmp = _part(dest_dir, remote)
    errors = []
    for base in ds.mirrors:
        url = base + remote
        try:
            with urllib.request.urlopen(url, timeout=timeout) as r, open(tmp, "wb") as out:
                shutil.copyfileobj(r, out, 1 << 20)
            return place(tmp, url)
        except (urllib.error.URLError, OSError, DataError, ValueError, zipfile.BadZipFile) as e:
            errors.append(f"{url}: {e}")
        finally:
            if tmp.exists():
                tmp.unlink()
    raise DownloadError(ds, files, "; ".join(errors))


def _download(ds: DataSet, f: DataFile, dest_dir: Path, timeout: float = 30.0) -> Path:
    """Fetch ``f`` into ``dest_dir``: temp name, MD5 check, then rename."""
    def place(tmp, url):
        _verify_part(tmp, f, url)
        os.replace(tmp, dest_dir / f.name)
        return dest_dir / f.name
    return _from_mirrors(ds, f.name, [f], dest_dir, place, timeout)


def _safe_member(name: str) -> bool:
    """A zip member name that stays inside the folder it is unpacked into."""
    return not (name.startswith("/") or "\\" in name or ":" in name
                or ".." in PurePosixPath(name).parts)


def _extract(archive: Path, source: str, ds: DataSet, files, dest_dir: Path) -> dict:
    """Unpack ``files`` from the zip ``archive`` into ``dest_dir``: each registered
    member to a temporary name, all MD5-checked, then all renamed.  An archive with
    any member name that could leave its folder (absolute, ``..``) is refused."""
    parts = {}
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
            unsafe = [i.filename for i in infos if not _safe_member(i.filename)]
            if unsafe:
                raise DataError(f"{source}: unsafe member name(s) {unsafe[:3]}; archive refused")
            members = {i.filename: i for i in infos if not i.is_dir()}
            for f in files:
                member = f"{ds.archive_dir}/{f.name}" if ds.archive_dir else f.name
                info = members.get(member)
                if info is None:
                    raise DataError(f"{source}: no member {member}")
                if info.file_size > MAX_MEMBER_BYTES:
                    raise DataError(f"{source}: member {member} claims {info.file_size} bytes; refused")
                parts[f.name] = _part(dest_dir, f.name)
                with zf.open(info) as src, open(parts[f.name], "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
                _verify_part(parts[f.name], f, f"{source}:{member}")
        for name, tmp in parts.items():
            os.replace(tmp, dest_dir / name)
        return {name: dest_dir / name for name in parts}
    finally:
        for tmp in parts.values():
            if tmp.exists():
                tmp.unlink()


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
    dest = cache_dir() / ds.name
    if missing and ds.archive:  # one download gives them all: unpack every absent file
        absent = missing + [g for g in ds.all_files()
                            if g not in missing and g.name not in paths and find_file(ds, g) is None]
        got = _from_mirrors(ds, ds.archive, missing, dest,
                            lambda tmp, url: _extract(tmp, url, ds, absent, dest), timeout)
        paths.update((f.name, got[f.name]) for f in missing)
        return paths
    for i, f in enumerate(missing):
        try:
            paths[f.name] = _download(ds, f, dest, timeout)
        except DownloadError as e:
            raise DownloadError(ds, missing[i:], e.reason) from None
    return paths


def fetch(name: str, download: bool = True, timeout: float = 30.0, files=None) -> dict:
    """Make the files of data set ``name`` available; returns ``{file name: path}``.

    Files already present are verified; missing ones are downloaded into the
    cache when ``download`` (else :class:`DataError` says where to put them).
    ``files``: only these file names (default: all of the data set's files).
    """
    ds = _dataset(name)
    chosen = list(ds.all_files())
    if files is not None:
        wanted = set(files)
        unknown = wanted - {f.name for f in chosen}
        if unknown:
            raise ValueError(f"{ds.name} has no file(s) {sorted(unknown)}; its files: "
                             f"{', '.join(f.name for f in chosen)}")
        chosen = [f for f in chosen if f.name in wanted]
    return _ensure(ds, chosen, download, timeout)


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
    if ds.name not in IDX_DATASETS:
        raise ValueError(f"load_dataset reads the IDX image sets {', '.join(IDX_DATASETS)}, got "
                         f"{name!r} (load_tinyshakespeare() and load_tu('MUTAG') read the others)")
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
