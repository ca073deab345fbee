"""Graph data sets in the TU Dortmund text format (MUTAG and friends), and batches.

A data set ``DS`` is a folder of comma-separated text files, ids 1-based:

* ``DS_A.txt``: one edge ``u, v`` per line (both directions for undirected graphs);
* ``DS_graph_indicator.txt``: for node ``i``, the graph it belongs to;
* ``DS_graph_labels.txt``: the class of graph ``g``;
* ``DS_node_labels.txt`` (optional): the label of node ``i`` (one-hot encoded as
  the node features; without it every node gets the feature 1).

All graphs are kept as one block-diagonal graph; :meth:`GraphDataset.batch`
cuts out any subset as a :class:`GraphBatch` with renumbered nodes.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..backend import get_default_dtype
from .download import fetch
from .registry import DATASETS

__all__ = ["GraphBatch", "GraphDataset", "load_tu"]


@dataclass
class GraphBatch:
    """Several graphs as one: ``x (total_nodes, F)``, ``edge_index (2, E)`` (0-based,
    within the batch), ``graph_index (total_nodes,)`` non-decreasing, ``y (n_graphs,)``."""

    x: np.ndarray
    edge_index: np.ndarray
    graph_index: np.ndarray
    n_graphs: int
    y: np.ndarray | None = None
    _adjacency: object = None

    @property
    def adjacency(self):
        """The batch's :class:`~neuronet.layers.graph.Adjacency` (built once)."""
        if self._adjacency is None:
            from ..layers.graph import Adjacency
            self._adjacency = Adjacency(self.edge_index, self.x.shape[0])
        return self._adjacency

    def __len__(self):
        return self.n_graphs


class GraphDataset:
    """All graphs of a data set; nodes of each graph consecutive, edges grouped by graph.

    ``node_features (total_nodes, F)``, ``edge_index (2, E)`` (0-based global
    ids), ``graph_index (total_nodes,)``, ``labels (n_graphs,)`` as class indices
    ``0..K-1`` (``classes`` keeps the original labels).
    """

    def __init__(self, node_features, edge_index, graph_index, labels, classes=None, name=""):
        self.node_features = np.asarray(node_features)
        self.edge_index = np.asarray(edge_index, dtype=np.intp).reshape(2, -1)
        self.graph_index = np.asarray(graph_index, dtype=np.intp)
        self.labels = np.asarray(labels, dtype=np.intp)
        self.classes = classes
        self.name = name
        n_graphs = self.labels.shape[0]
        if np.any(np.diff(self.graph_index) < 0):
            raise ValueError("graph_index must be non-decreasing (nodes of a graph consecutive)")
        self.node_count = np.bincount(self.graph_index, minlength=n_graphs)
        self.node_ptr = np.concatenate([[0], np.cumsum(self.node_count)])
        edge_graph = self.graph_index[self.edge_index[0]]
        if np.any(edge_graph != self.graph_index[self.edge_index[1]]):
            raise ValueError("an edge joins nodes of two different graphs")
        order = np.argsort(edge_graph, kind="stable")
        self.edge_index = self.edge_index[:, order]
        self.edge_count = np.bincount(edge_graph, minlength=n_graphs)
        self.edge_ptr = np.concatenate([[0], np.cumsum(self.edge_count)])

    def __len__(self):
        return self.labels.shape[0]

    @property
    def n_features(self) -> int:
        return self.node_features.shape[1]

    @property
    def n_classes(self) -> int:
        return int(self.labels.max()) + 1

    def batch(self, indices, dtype=None) -> GraphBatch:
        """The graphs ``indices`` as one :class:`GraphBatch` (nodes renumbered from 0)."""
        idx = np.asarray(indices, dtype=np.intp).ravel()
        if idx.size and (idx.min() < 0 or idx.max() >= len(self)):
            raise IndexError(f"graph indices must be in [0, {len(self) - 1}]")
        ncount, ecount = self.node_count[idx], self.edge_count[idx]
        new_ptr = np.concatenate([[0], np.cumsum(ncount)])
        node_ids = _ranges(self.node_ptr[idx], ncount)
        edge_ids = _ranges(self.edge_ptr[idx], ecount)
        # an edge of graph idx[k] moves by new_ptr[k] − node_ptr[idx[k]]
        shift = np.repeat(new_ptr[:-1] - self.node_ptr[idx], ecount)
        dtype = np.dtype(dtype) if dtype is not None else get_default_dtype()
        return GraphBatch(x=self.node_features[node_ids].astype(dtype),
                          edge_index=self.edge_index[:, edge_ids] + shift,
                          graph_index=np.repeat(np.arange(idx.size), ncount),
                          n_graphs=int(idx.size), y=self.labels[idx])


def _ranges(starts, counts):
    """Concatenation of ``arange(s, s + c)`` for every pair, without a Python loop."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.intp)
    offsets = np.repeat(np.cumsum(counts) - counts, counts)
    return np.repeat(starts, counts) + np.arange(total) - offsets


def _read_ints(path: Path, columns: int = 1) -> np.ndarray:
    try:
        a = np.loadtxt(path, delimiter=",", dtype=np.int64, ndmin=2)
    except ValueError as e:
        raise ValueError(f"{path}: not a comma-separated integer table ({e})") from None
    if a.shape[1] != columns:
        raise ValueError(f"{path}: expected {columns} column(s), got {a.shape[1]}")
    return a if columns > 1 else a[:, 0]


_TU_PARTS = ("A", "graph_indicator", "graph_labels", "node_labels")


def _tu_files(name: str, root, download: bool) -> tuple[str, dict]:
    """``(name, {part: path})``: from ``root``, or for a registered data set (MUTAG)
    the verified files from ``$NEURONET_DATA``/the cache, downloaded when missing."""
    if root is None:
        ds = DATASETS.get(name.lower())
        if ds is not None and ds.archive_dir:
            name = ds.archive_dir  # the file names' spelling, e.g. MUTAG
            paths = fetch(ds.name, download=download,
                          files=[f"{name}_{k}.txt" for k in _TU_PARTS])
            return name, {k: paths[f"{name}_{k}.txt"] for k in _TU_PARTS}
        base = os.environ.get("NEURONET_DATA")
        if not base:
            raise FileNotFoundError(f"give root= (the folder with {name}_A.txt) or set NEURONET_DATA")
        root = Path(base) / name.lower()
    root = Path(root)
    return name, {k: root / f"{name}_{k}.txt" for k in _TU_PARTS}


def load_tu(name: str = "MUTAG", root=None, download: bool = True) -> GraphDataset:
    """Load the TU data set ``name`` from ``root`` (a folder holding ``name_A.txt`` …).

    Without ``root``: MUTAG is found (MD5-checked) in ``$NEURONET_DATA/mutag`` or
    the cache ``~/.cache/neuronet/mutag`` and downloaded there when missing
    (``download=False``: a ``DataError`` says which files to put where); other
    names are read from ``$NEURONET_DATA/<name lower-case>``. Node labels become
    one-hot features; graph labels (e.g. −1/1) become class indices 0..K−1.
    """
    name, files = _tu_files(name, root, download)
    for k in ("A", "graph_indicator", "graph_labels"):
        if not files[k].is_file():
            raise FileNotFoundError(f"TU data set {name}: missing {files[k]} (the TU format needs "
                                    f"{name}_A.txt, {name}_graph_indicator.txt and "
                                    f"{name}_graph_labels.txt)")
    edges = _read_ints(files["A"], 2).T - 1
    graph_index = _read_ints(files["graph_indicator"]) - 1
    raw_labels = _read_ints(files["graph_labels"])
    n_nodes = graph_index.shape[0]
    if edges.size and (edges.min() < 0 or edges.max() >= n_nodes):
        raise ValueError(f"{files['A']}: node ids must be in [1, {n_nodes}]")
    if graph_index.min() < 0 or graph_index.max() >= raw_labels.shape[0]:
        raise ValueError(f"{files['graph_indicator']}: graph ids must be in [1, {raw_labels.shape[0]}]")
    if files["node_labels"].is_file():
        node_labels = _read_ints(files["node_labels"])
        if node_labels.shape[0] != n_nodes:
            raise ValueError(f"{files['node_labels']}: {node_labels.shape[0]} lines, expected {n_nodes}")
        values, inv = np.unique(node_labels, return_inverse=True)
        features = np.eye(values.size, dtype=np.float32)[inv]
    else:
        features = np.ones((n_nodes, 1), dtype=np.float32)
    classes, labels = np.unique(raw_labels, return_inverse=True)
    return GraphDataset(features, edges, graph_index, labels, classes=classes.tolist(), name=name)
