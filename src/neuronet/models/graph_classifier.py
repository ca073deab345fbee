"""A graph classifier (MISSION D4): neighbourhood convolutions, a readout, a dense head.

    h⁰ = x;  hˡ = ReLU(GraphConv_l(hˡ⁻¹, A))  for l = 1..L
    g = READOUT([h¹, …, hᴸ])   (the readout of every layer's features, concatenated,
                                 as in Xu et al. 2019's GIN, so shallow patterns count too)
    logits = Dense(ReLU(Dense(g)))

Trained with ``nt.SoftmaxCrossEntropy`` on :class:`~neuronet.data.graphs.GraphBatch`
mini-batches (:func:`train_graph_classifier`); :func:`cross_validate` runs
stratified k-fold cross-validation.
"""
from __future__ import annotations

import numpy as np

from ..layers.activations import ReLU
from ..layers.dense import Dense
from ..layers.graph import GraphConv, GraphPool
from ..losses import SoftmaxCrossEntropy
from ..module import Module
from ..optim import Adam
from ..random import make_rng
from ..validation import check_int

__all__ = ["GraphClassifier", "train_graph_classifier", "cross_validate", "stratified_folds"]


class GraphClassifier(Module):
    """``GraphClassifier(in_features, n_classes, hidden=(32, 32, 32), aggregation='sum',
    readout='sum')``; ``forward(batch)`` takes a :class:`GraphBatch`, returns
    ``(n_graphs, n_classes)`` logits."""

    def __init__(self, in_features, n_classes=2, hidden=(32, 32, 32), aggregation="sum",
                 readout="sum", head=64, rng=None, seed=None, dtype=None):
        check_int(in_features, "in_features", 1)
        check_int(n_classes, "n_classes", 2)
        hidden = [check_int(h, "hidden", 1) for h in hidden]
        gen = make_rng(rng, seed)
        sizes = [in_features] + hidden
        self.convs = [GraphConv(a, b, aggregation=aggregation, rng=gen, dtype=dtype)
                      for a, b in zip(sizes[:-1], sizes[1:])]
        self.acts = [ReLU() for _ in hidden]
        self.pool = GraphPool(readout)
        self.head = [Dense(sum(hidden), head, rng=gen, dtype=dtype), ReLU(),
                     Dense(head, n_classes, rng=gen, dtype=dtype)]
        self._widths = hidden

    def forward(self, batch):
        adj = batch.adjacency
        h, feats = batch.x, []
        for conv, act in zip(self.convs, self.acts):
            h = act.forward(conv.forward(h, adj))
            feats.append(h)
        out = self.pool.forward(np.concatenate(feats, axis=1), batch.graph_index, batch.n_graphs)
        for layer in self.head:
            out = layer.forward(out)
        return out

    def _back(self, d, curvature):
        step = "backward_curvature" if curvature else "backward"
        for layer in reversed(self.head):
            d = getattr(layer, step)(d)
        d_feats = np.split(getattr(self.pool, step)(d), np.cumsum(self._widths)[:-1], axis=1)
        dh = d_feats[-1]
        for i in range(len(self.convs) - 1, -1, -1):
            dh = getattr(self.convs[i], step)(getattr(self.acts[i], step)(dh))
            if i:
                dh = dh + d_feats[i - 1]
        return dh

    def backward(self, dy):
        """Back through head, readout and every convolution; returns ``∂E/∂x`` of the nodes."""
        return self._back(dy, False)

    def backward_curvature(self, d2y):
        return self._back(d2y, True)

    def predict(self, batch):
        return self.forward(batch).argmax(axis=1)


def train_graph_classifier(model, dataset, indices, epochs=100, batch_size=32, lr=0.01,
                           weight_decay=0.0, rng=None, seed=None):
    """Mini-batch Adam on softmax cross-entropy over the graphs ``indices``; returns the losses."""
    gen = make_rng(rng, seed)
    indices = np.asarray(indices)
    loss = SoftmaxCrossEntropy()
    opt = Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    history = []
    for _ in range(epochs):
        order = gen.permutation(indices)
        total = 0.0
        for s in range(0, order.size, batch_size):
            batch = dataset.batch(order[s:s + batch_size])
            opt.zero_grad()
            total += loss.forward(model.forward(batch), batch.y) * len(batch)
            model.backward(loss.backward())
            opt.step()
        history.append(total / order.size)
    return history


def stratified_folds(labels, k, rng):
    """``k`` disjoint test folds, each with about the class proportions of ``labels``."""
    folds = [[] for _ in range(k)]
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        for i, part in enumerate(np.array_split(members, k)):
            folds[(i + c) % k].extend(part.tolist())
    return [np.sort(np.array(f, dtype=np.intp)) for f in folds]


def cross_validate(dataset, folds=10, epochs=100, batch_size=32, lr=0.01, weight_decay=0.0,
                   seed=0, **model_kw):
    """Stratified ``folds``-fold cross-validation; returns the test accuracy of each fold.

    Each fold trains a fresh :class:`GraphClassifier` for ``epochs`` on the other
    folds and is scored once, after the last epoch (no model selection on the test fold).
    """
    gen = make_rng(seed=seed)
    accs = []
    for test in stratified_folds(dataset.labels, folds, gen):
        train = np.setdiff1d(np.arange(len(dataset)), test)
        model = GraphClassifier(dataset.n_features, dataset.n_classes, rng=gen, **model_kw)
        train_graph_classifier(model, dataset, train, epochs, batch_size, lr, weight_decay, rng=gen)
        test_batch = dataset.batch(test)
        accs.append(float((model.predict(test_batch) == test_batch.y).mean()))
    return np.array(accs)
