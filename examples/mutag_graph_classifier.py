"""Graph classification on MUTAG (188 molecules, mutagenic or not) with GraphConv.

Three neighbourhood convolutions h_v <- ReLU(h_v W_self + sum_{u in N(v)} h_u W_neigh + b),
a sum readout of every layer's node features, a dense head; stratified 10-fold
cross-validation, each fold scored once after the last epoch.

    NEURONET_DATA=../shared/datasets python examples/mutag_graph_classifier.py [--epochs 100]
    neuronet reproduce mutag      # the same recipe as a registered reproduction, beside GIN's number
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from neuronet.data.graphs import load_tu
from neuronet.models.graph_classifier import cross_validate


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=None, help="folder with MUTAG_*.txt (default $NEURONET_DATA/mutag)")
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--readout", default="sum", choices=["sum", "mean", "max"])
    ap.add_argument("--aggregation", default="sum", choices=["sum", "mean"])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    ds = load_tu("MUTAG", args.root)
    majority = np.bincount(ds.labels).max() / len(ds)
    t0 = time.perf_counter()
    acc = cross_validate(ds, folds=args.folds, epochs=args.epochs, seed=args.seed,
                         readout=args.readout, aggregation=args.aggregation)
    print(f"MUTAG: {len(ds)} graphs, {ds.n_features} node labels; majority class {100 * majority:.1f} %")
    print(f"{args.folds}-fold CV accuracy: {100 * acc.mean():.1f} ± {100 * acc.std():.1f} % "
          f"(folds: {', '.join(f'{100 * a:.0f}' for a in acc)}); {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
