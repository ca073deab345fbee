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
from ..layers.graph import _READOUTS, GraphConv, GraphPool
from ..losses import SoftmaxCrossEntropy
from ..module import Module
from ..optim import Adam
from ..random import make_rng
from ..train.batches import Batches
from ..train.loop import Loop
from ..train.supervised import SupervisedStep
from ..validation import check_choice, check_int

__all__ = ["GraphClassifier", "GraphBatches", "GraphStep", "train_graph_classifier", "cross_validate",
           "stratified_folds"]


class GraphClassifier(Module):
    """``GraphClassifier(in_features, n_classes, hidden=(32, 32, 32), aggregation='sum',
    readout='sum')``; ``forward(batch)`` takes a :class:`GraphBatch`, returns
    ``(n_graphs, n_classes)`` logits."""

    def __init__(self, in_features, n_classes=2, hidden=(32, 32, 32), aggregation="sum",
                 readout="sum", head=64, rng=None, seed=None, dtype=None):
        check_int(in_features, "in_features", 1)
        check_int(n_classes, "n_classes", 2)
        hidden = [check_int(h, "hidden", 1) for h in hidden]
        check_choice(readout, "readout", _READOUTS)
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


class GraphBatches(Batches):
    """The graphs ``indices`` of a :class:`~neuronet.data.graphs.GraphDataset`, gathered
    per batch into one :class:`GraphBatch` and paired with its labels."""

    def __init__(self, dataset, indices, batch_size: int, shuffle: bool = True):
        self.dataset, self.indices = dataset, np.asarray(indices)
        super().__init__(len(self.indices), batch_size, shuffle)

    def gather(self, idx):
        batch = self.dataset.batch(self.indices[idx])
        return batch, batch.y

    def size(self, batch) -> int:
        return len(batch[0])


class GraphStep(SupervisedStep):
    """Backprop on a graph batch (:class:`SupervisedStep`); validation on ``(dataset, indices)``
    gives ``loss`` and ``accuracy``."""

    def evaluate(self, data) -> dict:
        dataset, indices = data
        batch = dataset.batch(indices)
        self.model.eval()
        try:
            out = self.model.forward(batch)
            loss = self.loss.forward(out, batch.y)
        finally:
            self.model.train()
        return {"loss": loss, "accuracy": float((out.argmax(axis=1) == batch.y).mean())}


def train_graph_classifier(model, dataset, indices, epochs=100, batch_size=32, lr=None,
                           weight_decay=None, rng=None, seed=None, optimizer=None, callbacks=None,
                           validation=None, progress=False, resume_from=None):
    """Mini-batch Adam (``lr`` 0.01, ``weight_decay`` 0; or ``optimizer``, whose own they then
    are) on softmax cross-entropy over the graphs ``indices`` on the one loop; returns the
    per-epoch mean training losses. ``validation=(dataset, indices)`` adds
    ``val_loss``/``val_accuracy``; ``callbacks``, ``progress``, ``resume_from`` as for ``nt.fit``."""
    if optimizer is None:
        optimizer = Adam(model.parameters(), lr=0.01 if lr is None else lr, weight_decay=weight_decay or 0.0)
    elif lr is not None or weight_decay is not None:
        raise ValueError(f"give lr/weight_decay to the optimizer or leave out the optimizer, not "
                         f"both: optimizer={type(optimizer).__name__} has its own (got lr={lr}, "
                         f"weight_decay={weight_decay})")
    step = GraphStep(model, SoftmaxCrossEntropy(), optimizer)
    loop = Loop(step, epochs=epochs, rng=make_rng(rng, seed), callbacks=callbacks, progress=progress,
                validation=validation, resume_from=resume_from, desc="graph classifier epoch")
    history = loop.run(GraphBatches(dataset, indices, batch_size))
    return list(history["loss"])


def stratified_folds(labels, k, rng):
    """``k`` disjoint test folds, each with about the class proportions of ``labels``."""
    folds = [[] for _ in range(k)]
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        for i, part in enumerate(np.array_split(members, k)):
            folds[(i + c) % k].extend(part.tolist())
    return [np.sort(np.array(f, dtype=np.intp)) for f in folds]


def cross_validate(dataset, folds=10, epochs=100, batch_size=32, lr=None, weight_decay=None,
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
