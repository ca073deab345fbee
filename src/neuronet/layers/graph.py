"""Convolution on graphs (MISSION D4): neighbourhood convolution and graph pooling.

A batch of graphs is one big graph with no edges between its parts:
node features ``x (total_nodes, F)``, directed edges ``edge_index (2, E)``
(row 0 the source ``u``, row 1 the target ``v`` of ``u → v``; list both
directions for an undirected graph) and, for pooling, the graph each node
belongs to (``graph_index (total_nodes,)``, non-decreasing).

Neighbourhood sums are computed from a CSR layout built once with NumPy
(edges sorted by target; ``np.add.reduceat`` over each node's run of
incoming edges), never by a scatter (``np.add.at``), and without SciPy.
"""
from __future__ import annotations

import numpy as np

from ..backend import get_array_module, get_default_dtype
from ..module import Module, Parameter
from ..random import make_rng
from ..validation import as_float_array, check_features, check_int, check_ndim, check_upstream

__all__ = ["Adjacency", "GraphConv", "GraphPool"]

_AGGREGATIONS = ("sum", "mean")
_READOUTS = ("sum", "mean", "max")


def _segment_sum(values, starts, nonempty, n_out):
    """Row sums of consecutive runs of ``values``: run ``i`` starts at ``starts[i]``.

    ``np.add.reduceat`` returns a row (not zero) for an empty run, so only
    non-empty runs are reduced and the empty ones stay zero.
    """
    xp = get_array_module(values)
    out = xp.zeros((n_out,) + values.shape[1:], dtype=values.dtype)
    if values.shape[0]:
        out[nonempty] = np.add.reduceat(values, starts[nonempty], axis=0)
    return out


class _CSR:
    """Edges grouped by one endpoint: ``sum`` gathers the other endpoint's rows and
    adds them per group, each times the edge's multiplicity ``weight`` (to ``power``)."""

    def __init__(self, group, other, weight, n):
        order = np.argsort(group, kind="stable")
        self.other = other[order]
        self.weight = None if weight is None else weight[order]
        self.count = np.bincount(group, minlength=n)
        self.starts = np.concatenate([[0], np.cumsum(self.count)[:-1]]).astype(np.intp)
        self.nonempty = self.count > 0
        self.n = n

    def sum(self, x, power=1):
        """``out[g] = Σ_{edges (g, o)} weight^power · x[o]``."""
        vals = x[self.other]
        if self.weight is not None:
            vals *= (self.weight ** power)[:, None].astype(vals.dtype)
        return _segment_sum(vals, self.starts, self.nonempty, self.n)


class Adjacency:
    """Sparse adjacency ``A`` of ``n_nodes`` nodes from an edge list ``(2, E)``.

    ``A[v, u]`` = the number of edges ``u → v`` (repeated edges are merged into
    one entry of that weight), so ``(A x)[v] = Σ_{u ∈ N(v)} x[u]``.
    ``aggregate(x, 'mean')`` divides by the in-degree ``d_v = Σ_u A[v, u]``
    (``D⁻¹ A x``; nodes without neighbours get 0). ``aggregate_T`` applies the
    transpose (for the backward pass); ``power=2`` squares the entries of the
    aggregation matrix (for the curvature pass).
    """

    def __init__(self, edge_index, n_nodes):
        self.n_nodes = check_int(n_nodes, "n_nodes", 0)
        e = np.asarray(edge_index)
        if e.ndim != 2 or e.shape[0] != 2:
            raise ValueError(f"edge_index must have shape (2, E), got {tuple(e.shape)}")
        if e.dtype.kind not in "iu":
            raise TypeError(f"edge_index must hold integer node ids, got dtype {e.dtype}")
        if e.size and (e.min() < 0 or e.max() >= self.n_nodes):
            raise ValueError(f"edge_index holds node ids in [{e.min()}, {e.max()}], "
                             f"expected ids in [0, {self.n_nodes - 1}]")
        self.n_edges = e.shape[1]
        key = e[1].astype(np.int64) * max(self.n_nodes, 1) + e[0]
        uniq, mult = np.unique(key, return_counts=True)
        dst, src = (uniq // max(self.n_nodes, 1)).astype(np.intp), (uniq % max(self.n_nodes, 1)).astype(np.intp)
        weight = mult.astype(np.float64) if np.any(mult > 1) else None
        self._in = _CSR(dst, src, weight, self.n_nodes)     # incoming edges of each node
        self._out = _CSR(src, dst, weight, self.n_nodes)    # outgoing edges (for Aᵀ)
        self.in_degree = np.bincount(e[1], minlength=self.n_nodes)

    def _norm(self, mode, power):
        if mode == "sum":
            return None
        return 1.0 / np.maximum(self.in_degree, 1) ** power

    def aggregate(self, x, mode="sum"):
        """``A x`` (``'sum'``) or ``D⁻¹ A x`` (``'mean'``)."""
        s = self._in.sum(x)
        scale = self._norm(mode, 1)
        return s if scale is None else s * scale[:, None].astype(s.dtype)

    def aggregate_T(self, g, mode="sum", power=1):
        """``(Aᵒ)ᵀ g`` where ``Aᵒ`` is the aggregation matrix with entries raised to ``power``."""
        scale = self._norm(mode, power)
        if scale is not None:
            g = g * scale[:, None].astype(g.dtype)
        return self._out.sum(g, power)


def _as_adjacency(adj, n_nodes):
    if isinstance(adj, Adjacency):
        if adj.n_nodes != n_nodes:
            raise ValueError(f"adjacency is for {adj.n_nodes} nodes, the features have {n_nodes}")
        return adj
    return Adjacency(adj, n_nodes)


class GraphConv(Module):
    """Neighbourhood convolution of every vertex (Morris et al. 2019's GraphConv):

        ``y_v = x_v W_self + (AGG_{u ∈ N(v)} x_u) W_neigh + b``

    with AGG the sum (default) or the mean over the in-neighbours ``u → v``.
    Shared weights over all vertices: the graph analogue of a convolution kernel
    (the centre ``W_self`` and the neighbourhood ``W_neigh``).

    ``forward(x, adjacency)``: ``x (total_nodes, in_features)``, ``adjacency`` an
    :class:`Adjacency` or an edge list ``(2, E)``. Backward:
    ``∂E/∂W_self = xᵀ ε``, ``∂E/∂W_neigh = (A x)ᵀ ε``, ``∂E/∂x = ε W_selfᵀ + Aᵀ ε W_neighᵀ``.
    Curvature (diagonal Gauss-Newton, the self/neighbour cross term of a
    self-loop dropped): ``(x²)ᵀ d2y``, ``((A x)²)ᵀ d2y``,
    ``d2y (W_self²)ᵀ + (A²)ᵀ d2y (W_neigh²)ᵀ``.
    """

    def __init__(self, in_features, out_features, aggregation="sum", bias=True, rng=None,
                 seed=None, dtype=None):
        self.in_features = check_int(in_features, "in_features", 1)
        self.out_features = check_int(out_features, "out_features", 1)
        if aggregation not in _AGGREGATIONS:
            raise ValueError(f"aggregation must be one of {_AGGREGATIONS}, got {aggregation!r}")
        self.aggregation = aggregation
        dtype = np.dtype(dtype) if dtype is not None else get_default_dtype()
        gen = make_rng(rng, seed)
        limit = np.sqrt(6.0 / (2 * self.in_features + self.out_features))   # Glorot over [x, Ax]
        shape = (self.in_features, self.out_features)
        self.W_self = Parameter(gen.uniform(-limit, limit, shape).astype(dtype), name="W_self")
        self.W_neigh = Parameter(gen.uniform(-limit, limit, shape).astype(dtype), name="W_neigh")
        self.b = Parameter(np.zeros(self.out_features, dtype=dtype), name="b") if bias else None

    def forward(self, x, adjacency):
        x = as_float_array(x, self.W_self.data.dtype, "GraphConv input")
        check_ndim(x, 2, "GraphConv input", "(total_nodes, features)")
        check_features(x, self.in_features, name="GraphConv input")
        self._adj = _as_adjacency(adjacency, x.shape[0])
        self._x = x
        self._ax = self._adj.aggregate(x, self.aggregation)
        y = x @ self.W_self.data + self._ax @ self.W_neigh.data
        if self.b is not None:
            y += self.b.data
        return y

    def _upstream(self, d, name):
        d = as_float_array(d, self.W_self.data.dtype, name)
        x = getattr(self, "_x", None)
        return check_upstream(d, x, (0, 0) if x is None else (x.shape[0], self.out_features), name)

    def backward(self, dy):
        dy = self._upstream(dy, "GraphConv gradient")
        self.W_self.grad += self._x.T @ dy
        self.W_neigh.grad += self._ax.T @ dy
        if self.b is not None:
            self.b.grad += dy.sum(axis=0)
        return dy @ self.W_self.data.T + self._adj.aggregate_T(dy @ self.W_neigh.data.T,
                                                               self.aggregation)

    def backward_curvature(self, d2y):
        d2y = self._upstream(d2y, "GraphConv curvature")
        self.W_self.add_curv((self._x * self._x).T @ d2y)
        self.W_neigh.add_curv((self._ax * self._ax).T @ d2y)
        if self.b is not None:
            self.b.add_curv(d2y.sum(axis=0))
        ws, wn = self.W_self.data, self.W_neigh.data
        return d2y @ (ws * ws).T + self._adj.aggregate_T(d2y @ (wn * wn).T, self.aggregation,
                                                         power=2)


class GraphPool(Module):
    """Graph readout: one vector per graph from its nodes' features.

    ``'sum'``: ``h_g = Σ_{v ∈ g} x_v``; ``'mean'``: ``h_g = (1/|g|) Σ_{v ∈ g} x_v``;
    ``'max'``: ``h_g = max_{v ∈ g} x_v`` per feature (the gradient goes to the
    first maximal node). ``forward(x, graph_index, n_graphs=None)`` with
    ``graph_index (total_nodes,)`` non-decreasing (the nodes of a graph are
    consecutive, as in a batch); graphs without nodes read out 0.
    """

    def __init__(self, mode="sum"):
        if mode not in _READOUTS:
            raise ValueError(f"mode must be one of {_READOUTS}, got {mode!r}")
        self.mode = mode

    def forward(self, x, graph_index, n_graphs=None):
        xp = get_array_module(x)
        x = xp.asarray(x)
        if x.dtype.kind != "f":
            x = as_float_array(x, get_default_dtype(), "GraphPool input")
        check_ndim(x, 2, "GraphPool input", "(total_nodes, features)")
        gi = np.asarray(graph_index)
        if gi.shape != (x.shape[0],) or gi.dtype.kind not in "iu":
            raise ValueError(f"graph_index must be integers of shape ({x.shape[0]},), "
                             f"got {gi.dtype} {tuple(gi.shape)}")
        if gi.size and (gi.min() < 0 or np.any(np.diff(gi) < 0)):
            raise ValueError("graph_index must be non-negative and non-decreasing "
                             "(the nodes of each graph consecutive)")
        if n_graphs is None:
            n_graphs = int(gi.max()) + 1 if gi.size else 0
        n_graphs = check_int(n_graphs, "n_graphs", 0)
        count = np.bincount(gi, minlength=n_graphs)
        if count.size > n_graphs:
            raise ValueError(f"graph_index refers to graph {gi.max()}, but n_graphs = {n_graphs}")
        starts = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.intp)
        nonempty = count > 0
        self._gi, self._count, self._shape = gi, count, x.shape
        if self.mode == "max":
            y = xp.zeros((n_graphs, x.shape[1]), dtype=x.dtype)
            if x.shape[0]:
                y[nonempty] = np.maximum.reduceat(x, starts[nonempty], axis=0)
            self._first = self._first_max(x, y, gi, starts)
            return y
        y = _segment_sum(x, starts, nonempty, n_graphs)
        if self.mode == "mean":
            y *= (1.0 / np.maximum(count, 1))[:, None].astype(y.dtype)
        return y

    @staticmethod
    def _first_max(x, y, gi, starts):
        """Boolean ``(total_nodes, F)``: the first node of each graph reaching the max."""
        hit = (x == y[gi]).astype(np.intp)
        run = np.cumsum(hit, axis=0)
        before = np.concatenate([np.zeros((1, x.shape[1]), np.intp), run])[starts]  # run before graph
        return (hit == 1) & (run - before[gi] == 1)

    def _spread(self, g, power):
        count = getattr(self, "_count", None)
        check_upstream(g, count, (0, 0) if count is None else (len(count), self._shape[1]), "GraphPool gradient")
        if self.mode == "max":
            return self._first * g[self._gi]
        if self.mode == "mean":
            g = g * (1.0 / np.maximum(self._count, 1) ** power)[:, None].astype(g.dtype)
        return g[self._gi]

    def backward(self, dy):
        return self._spread(dy, 1)

    def backward_curvature(self, d2y):
        return self._spread(d2y, 2)
