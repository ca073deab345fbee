"""A deep Boltzmann machine 784-500-1000 on MNIST (Salakhutdinov & Hinton 2009), end to end.

1. greedy pretraining of two RBMs with doubled weights (labels on the top RBM);
2. joint training: mean-field positive phase, 100 persistent chains (resumable: run the
   same command again to continue from ``OUT/dbm.npz``);
3. AIS estimate of log Z (odd layer summed out) and the mean-field bound on the test set;
4. the paper's fine-tuning net on [v, q(h²)], trained by backprop (``--dropout`` for the
   lecture table's last row);
5. pictures: first-layer filters and the persistent chains.

    python examples/dbm_mnist.py --rows 10000 --pretrain 2 --joint 1 --finetune 5   # minutes
    python examples/dbm_mnist.py --pretrain 100 200 --joint 300 --finetune 100     # the paper's (days)
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

import neuronet as nt
from neuronet.energy import DBM, ais_betas, ais_log_likelihood
from neuronet.viz import plot_filters, plot_samples


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=60000, help="training images")
    ap.add_argument("--pretrain", type=int, nargs="+", default=[5, 5], help="epochs of each RBM")
    ap.add_argument("--joint", type=int, default=2, help="epochs of joint training")
    ap.add_argument("--finetune", type=int, default=10, help="epochs of backprop")
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--ais-runs", type=int, default=100)
    ap.add_argument("--out", default="runs/dbm_mnist")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    (xi, y), (ti, yt) = nt.data.load_mnist("train"), nt.data.load_mnist("test")
    X, Xt = nt.data.to_float(xi[:args.rows], flatten=True), nt.data.to_float(ti, flatten=True)
    y, yt = y[:args.rows].astype(np.int64), yt.astype(np.int64)

    d = DBM([784, 500, 1000], n_labels=10, seed=0)
    ck = out / "dbm.npz"
    if not ck.exists():
        d.pretrain(X, y, epochs=args.pretrain, batch_size=100, seed=0, progress=True)
    d.fit(X, y, epochs=args.joint, batch_size=100, sparsity_target=[0.2, 0.1], sparsity_cost=1e-3, seed=0,
          progress=True, checkpoint=ck, resume_from=ck if ck.exists() else None)
    plot_filters(d.W1.data, path=out / "filters.png", title="DBM first-layer filters")
    plot_samples(d.conditional_mean(0, [None, d.persistent_chains[1]]), path=out / "chains.png",
                 title="persistent chains, E[v | h1]")

    est = ais_log_likelihood(d, Xt[:2000], data=X, n_runs=args.ais_runs, betas=ais_betas(), seed=0)
    print(f"AIS: log Z = {est.ais.log_z:.2f}; test bound (labels summed out) {est.mean:.2f} nats")

    net = d.to_network(10, dropout=args.dropout, input_dropout=0.2 if args.dropout else 0.0, seed=0)
    A, At = d.augment(X), d.augment(Xt)
    opt = nt.optim.Momentum(net.parameters(), lr=0.05, momentum=0.9)
    nt.fit(net, nt.SoftmaxCrossEntropy(), opt, A, y, epochs=args.finetune, batch_size=100, seed=0,
           validation=(At, yt), progress=True, callbacks=[nt.ExponentialLR(0.9)])
    errors = int((nt.predict(net, At).argmax(1) != yt).sum())
    print(f"fine-tuned: {errors} test errors ({errors / 100:.2f} %)")
    (out / "summary.json").write_text(json.dumps({"test_errors": errors, "log_z": est.ais.log_z,
                                                  "test_bound_nats": est.mean}, indent=2))


if __name__ == "__main__":
    main()
