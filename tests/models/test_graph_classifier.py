"""Graph convolution, graph readouts, the TU loader and the MUTAG classifier."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import neuronet as nt
from neuronet.data.graphs import GraphDataset, load_tu
from neuronet.models.graph_classifier import GraphClassifier, cross_validate, stratified_folds

from conftest import second_diff

TOL = 1e-6
numgrad = nt.numerical_gradient

# a small batch: two graphs (nodes 0-3, 4-6), one isolated node (3), a repeated edge
EDGES = np.array([[0, 1, 1, 2, 2, 0, 4, 5, 5, 6, 0],
                  [1, 0, 2, 1, 0, 2, 5, 4, 6, 5, 1]])
N_NODES = 7
GRAPH_INDEX = np.array([0, 0, 0, 0, 1, 1, 1])


def torch_graphconv(x, W_self, W_neigh, b, edges, aggregation):
    src, dst = torch.tensor(edges[0]), torch.tensor(edges[1])
    agg = torch.zeros(x.shape[0], x.shape[1], dtype=x.dtype).index_add(0, dst, x[src])
    if aggregation == "mean":
        deg = torch.zeros(x.shape[0], dtype=x.dtype).index_add(
            0, dst, torch.ones(len(src), dtype=x.dtype))
        agg = agg / deg.clamp(min=1)[:, None]
    return x @ W_self + agg @ W_neigh + b


def make_conv(aggregation, rng, fin=3, fout=4):
    layer = nt.GraphConv(fin, fout, aggregation=aggregation, rng=rng).astype(np.float64)
    layer.b.data[...] = rng.standard_normal(fout)
    return layer


@pytest.mark.parametrize("aggregation", ["sum", "mean"])
def test_graphconv_matches_torch_index_add(aggregation, rng):
    layer = make_conv(aggregation, rng)
    x = rng.standard_normal((N_NODES, 3))
    y = layer.forward(x, EDGES)
    dy = rng.standard_normal(y.shape)
    dx = layer.backward(dy)
    xt = torch.tensor(x, requires_grad=True)
    ws = torch.tensor(layer.W_self.data, requires_grad=True)
    wn = torch.tensor(layer.W_neigh.data, requires_grad=True)
    bt = torch.tensor(layer.b.data, requires_grad=True)
    yt = torch_graphconv(xt, ws, wn, bt, EDGES, aggregation)
    yt.backward(torch.tensor(dy))
    np.testing.assert_allclose(y, yt.detach().numpy(), atol=TOL)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=TOL)
    np.testing.assert_allclose(layer.W_self.grad, ws.grad.numpy(), atol=TOL)
    np.testing.assert_allclose(layer.W_neigh.grad, wn.grad.numpy(), atol=TOL)
    np.testing.assert_allclose(layer.b.grad, bt.grad.numpy(), atol=TOL)
    # the isolated node 3 sees only itself
    np.testing.assert_allclose(y[3], x[3] @ layer.W_self.data + layer.b.data)


@pytest.mark.parametrize("aggregation", ["sum", "mean"])
def test_graphconv_finite_differences_and_curvature(aggregation, rng):
    layer = make_conv(aggregation, rng)
    adj = nt.Adjacency(EDGES, N_NODES)
    x = rng.standard_normal((N_NODES, 3))
    dy = rng.standard_normal((N_NODES, 4))
    layer.forward(x, adj)
    layer.zero_grad()
    dx = layer.backward(dy)

    def energy():
        return float(np.sum(dy * layer.forward(x, adj)))

    np.testing.assert_allclose(dx, numgrad(energy, x), atol=TOL)
    for p in layer.parameters():
        np.testing.assert_allclose(p.grad, numgrad(energy, p.data), atol=TOL, err_msg=p.name)

    # curvature: E = ½Σ c y² is quadratic in each weight: Gauss-Newton is exact there
    c = rng.uniform(0.5, 2.0, (N_NODES, 4))
    layer.forward(x, adj)
    layer.zero_curv()
    d2x = layer.backward_curvature(c)

    def quad():
        return float(0.5 * np.sum(c * layer.forward(x, adj) ** 2))

    for p in layer.parameters():
        np.testing.assert_allclose(p.curv, second_diff(quad, p.data), atol=1e-5, rtol=1e-5)
    # for x the edges have no self-loops here, so W_self and W_neigh paths do not mix
    np.testing.assert_allclose(d2x, second_diff(quad, x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_graphpool_matches_torch_scatter(mode, rng):
    pool = nt.GraphPool(mode)
    x = rng.standard_normal((N_NODES, 3))
    gi = np.array([0, 0, 0, 2, 2, 3, 3])         # graph 1 empty
    y = pool.forward(x, gi, n_graphs=4)
    dy = rng.standard_normal(y.shape)
    dx = pool.backward(dy)
    xt = torch.tensor(x, requires_grad=True)
    reduce = {"sum": "sum", "mean": "mean", "max": "amax"}[mode]
    idx = torch.tensor(gi)[:, None].expand(-1, 3)
    yt = torch.zeros(4, 3, dtype=torch.float64).scatter_reduce(0, idx, xt, reduce=reduce,
                                                                include_self=False)
    yt.backward(torch.tensor(dy))
    np.testing.assert_allclose(y, yt.detach().numpy(), atol=TOL)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=TOL)
    assert np.all(y[1] == 0)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_graphpool_finite_differences_and_curvature(mode, rng):
    pool = nt.GraphPool(mode)
    x = rng.standard_normal((N_NODES, 2))
    dy = rng.standard_normal((2, 2))
    pool.forward(x, GRAPH_INDEX)
    dx = pool.backward(dy)
    np.testing.assert_allclose(dx, numgrad(lambda: float(np.sum(dy * pool.forward(x, GRAPH_INDEX))),
                                           x), atol=TOL)
    c = rng.uniform(0.5, 2.0, (2, 2))
    pool.forward(x, GRAPH_INDEX)
    d2x = pool.backward_curvature(c)
    quad = lambda: float(0.5 * np.sum(c * pool.forward(x, GRAPH_INDEX) ** 2))  # noqa: E731
    np.testing.assert_allclose(d2x, second_diff(quad, x), atol=1e-5)


def test_graphpool_max_tie_goes_to_first_node():
    pool = nt.GraphPool("max")
    x = np.array([[1.0], [1.0], [0.0], [2.0], [2.0]])
    pool.forward(x, np.array([0, 0, 0, 1, 1]))
    dx = pool.backward(np.array([[3.0], [5.0]]))
    np.testing.assert_array_equal(dx[:, 0], [3.0, 0.0, 0.0, 5.0, 0.0])


def test_graph_bad_inputs(rng):
    layer = nt.GraphConv(3, 2)
    with pytest.raises(ValueError, match=r"shape \(2, E\)"):
        layer.forward(np.zeros((4, 3)), np.zeros((3, 5), dtype=int))
    with pytest.raises(ValueError, match=r"ids in \[0, 3\]"):
        layer.forward(np.zeros((4, 3)), np.array([[0, 4], [1, 2]]))
    with pytest.raises(ValueError, match="3 features"):
        layer.forward(np.zeros((4, 2)), np.array([[0], [1]]))
    with pytest.raises(TypeError, match="integer"):
        nt.Adjacency(np.array([[0.0], [1.0]]), 2)
    with pytest.raises(ValueError, match="aggregation"):
        nt.GraphConv(3, 2, aggregation="median")
    with pytest.raises(ValueError, match="non-decreasing"):
        nt.GraphPool().forward(np.zeros((3, 2)), np.array([1, 0, 1]))
    with pytest.raises(ValueError, match="mode"):
        nt.GraphPool("min")


# ------------------------------------------------------------------ data
def test_tu_loader_reads_mutag(data_dir):
    ds = load_tu("MUTAG", data_dir / "mutag")
    assert len(ds) == 188
    assert ds.node_features.shape == (3371, 7)               # 7 atom types, one-hot
    assert ds.edge_index.shape == (2, 7442)
    assert ds.classes == [-1, 1] and np.bincount(ds.labels).tolist() == [63, 125]
    np.testing.assert_array_equal(ds.node_features.sum(axis=1), 1)


def test_tu_loader_small_files_and_batch(tmp_path):
    # two graphs: a triangle (nodes 1-3) and an edge (nodes 4-5), 1-based ids
    (tmp_path / "T_A.txt").write_text("1, 2\n2, 1\n2, 3\n3, 2\n3, 1\n1, 3\n4, 5\n5, 4\n")
    (tmp_path / "T_graph_indicator.txt").write_text("1\n1\n1\n2\n2\n")
    (tmp_path / "T_graph_labels.txt").write_text("3\n7\n")
    (tmp_path / "T_node_labels.txt").write_text("0\n2\n2\n0\n5\n")
    ds = load_tu("T", tmp_path)
    assert ds.labels.tolist() == [0, 1] and ds.classes == [3, 7]
    assert ds.node_features.shape == (5, 3)
    b = ds.batch([1, 0])
    assert b.n_graphs == 2 and b.y.tolist() == [1, 0]
    assert b.graph_index.tolist() == [0, 0, 1, 1, 1]
    np.testing.assert_array_equal(b.x[0], [1, 0, 0])          # node 4 (label 0) comes first
    edges = set(map(tuple, b.edge_index.T.tolist()))
    assert edges == {(0, 1), (1, 0), (2, 3), (3, 2), (3, 4), (4, 3), (4, 2), (2, 4)}
    assert b.adjacency.in_degree.tolist() == [1, 1, 2, 2, 2]


def test_tu_loader_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="T_A.txt"):
        load_tu("T", tmp_path)
    (tmp_path / "T_A.txt").write_text("1, 9\n")
    (tmp_path / "T_graph_indicator.txt").write_text("1\n1\n")
    (tmp_path / "T_graph_labels.txt").write_text("0\n")
    with pytest.raises(ValueError, match=r"node ids must be in \[1, 2\]"):
        load_tu("T", tmp_path)
    with pytest.raises(ValueError, match="different graphs"):
        GraphDataset(np.ones((2, 1)), [[0], [1]], [0, 1], [0, 1])


def test_stratified_folds_partition(rng):
    labels = np.array([0] * 63 + [1] * 125)
    folds = stratified_folds(labels, 10, rng)
    allidx = np.concatenate(folds)
    assert np.array_equal(np.sort(allidx), np.arange(188))
    for f in folds:
        assert 5 <= (labels[f] == 0).sum() <= 7


def test_graph_classifier_gradients_end_to_end(rng):
    # continuous features: symmetric nodes with equal features would tie in the max readout
    ds = GraphDataset(rng.standard_normal((7, 3)), EDGES, GRAPH_INDEX, [0, 1])
    batch = ds.batch([0, 1], dtype=np.float64)
    model = GraphClassifier(3, 2, hidden=(4, 3), head=5, rng=rng, readout="max").astype(np.float64)
    dy = rng.standard_normal((2, 2))
    model.forward(batch)
    model.zero_grad()
    dx = model.backward(dy)
    energy = lambda: float(np.sum(dy * model.forward(batch)))  # noqa: E731
    for p in model.parameters():
        np.testing.assert_allclose(p.grad, numgrad(energy, p.data), atol=1e-6, err_msg=p.name)
    np.testing.assert_allclose(dx, numgrad(energy, batch.x), atol=1e-6)


def test_mutag_classifier_beats_majority_class(data_dir):
    """10-fold CV on MUTAG (majority class: 125/188 = 66.5 %), a short run."""
    ds = load_tu("MUTAG", data_dir / "mutag")
    acc = cross_validate(ds, folds=10, epochs=40, seed=0)
    majority = np.bincount(ds.labels).max() / len(ds)
    assert acc.mean() > majority + 0.1, (acc.mean(), acc.std())


@pytest.mark.slow
def test_mutag_classifier_full_cv(data_dir):
    """The number in docs/parts/results_conv.md: 100 epochs per fold."""
    ds = load_tu("MUTAG", data_dir / "mutag")
    acc = cross_validate(ds, folds=10, epochs=100, seed=0)
    print(f"MUTAG 10-fold accuracy {100 * acc.mean():.1f} ± {100 * acc.std():.1f} %")
    assert acc.mean() > 0.8
