"""The data-set registry: every data set the library reads (MNIST, Fashion-MNIST,
tiny-shakespeare, MUTAG), its files, checksums, mirrors, and where it is looked for.

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

import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["DATASETS", "DataError", "ChecksumError", "DataFile", "DataSet", "cache_dir", "data_dirs"]



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
