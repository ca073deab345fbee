"""Deep belief nets on MNIST, the three ways of lecture 004.

1. discriminative: a 784-500-500-2000 DBN pretrained greedily by CD-1 (Hinton's
   rbm.m recipe), an output layer added, the whole net fine-tuned by backprop;
2. generative (Hinton, Osindero & Teh 2006): the top RBM joined to 10 label units,
   up-down fine-tuning, classification by free energy, and samples of each class;
3. the deep autoencoder (Hinton & Salakhutdinov 2006) against PCA.

    python examples/dbn_mnist.py --part classifier --pretrain-epochs 5 --epochs 12
    python examples/dbn_mnist.py --part generative --n-train 20000
    python examples/dbn_mnist.py --part autoencoder --sizes 784 1000 500 250 30

Pretraining is checkpointed per layer and epoch in ``--out``: run the same command
again after an interruption and it continues. Pictures land in ``--out``.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import neuronet as nt
from neuronet.data import PCA, reconstruction_sse
from neuronet.energy import DBN
from neuronet.models import DeepAutoencoder


def load(n_train):
    X, y = nt.data.load_mnist("train")
    Xt, yt = nt.data.load_mnist("test")
    return (nt.data.to_float(X[:n_train], flatten=True), y[:n_train].astype(np.int64),
            nt.data.to_float(Xt, flatten=True), yt.astype(np.int64))


def classifier(args, X, y, Xt, yt):
    dbn = DBN(args.sizes or [784, 500, 500, 2000], seed=args.seed)
    dbn.pretrain(X, epochs=args.pretrain_epochs, batch_size=100, seed=args.seed,
                 checkpoint=args.out / "classifier", resume=True)
    nt.viz.plot_layer_filters(dbn, path=args.out / "dbn_filters.png")
    net = dbn.to_network(n_out=10, seed=args.seed)
    nt.fit(net, nt.SoftmaxCrossEntropy(), nt.optim.Momentum(net.parameters(), lr=0.1, momentum=0.9),
           X, y, epochs=args.epochs, batch_size=100, seed=args.seed, progress=True,
           callbacks=[nt.ExponentialLR(0.8)])
    net.eval()
    print(f"DBN + backprop: test error {100 * (net(Xt).argmax(1) != yt).mean():.2f} %")


def generative(args, X, y, Xt, yt):
    dbn = DBN(args.sizes or [784, 500, 500, 2000], n_labels=10, seed=args.seed)
    dbn.pretrain(X, y, epochs=args.pretrain_epochs, batch_size=100, seed=args.seed,
                 checkpoint=args.out / "generative", resume=True)
    print(f"greedy: test error {100 * (dbn.predict(Xt) != yt).mean():.2f} % (free energy)")
    dbn.fit_updown(X, y, epochs=args.epochs, batch_size=100, k=3, seed=args.seed, progress=True)
    print(f"up-down: test error {100 * (dbn.predict(Xt) != yt).mean():.2f} %")
    samples = dbn.sample(100, label=np.repeat(np.arange(10), 10), steps=1000, seed=args.seed)
    nt.viz.plot_samples(samples, n_cols=10, path=args.out / "dbn_samples_by_class.png",
                        title="samples of classes 0-9 (one row each)")


def autoencoder(args, X, y, Xt, yt):
    sizes = args.sizes or [784, 1000, 500, 250, 30]
    ae = DeepAutoencoder(sizes, seed=args.seed)
    ae.pretrain(X, epochs=args.pretrain_epochs, batch_size=100, seed=args.seed)
    ae.fit(X, epochs=args.epochs, batch_size=100, lr=1e-3, seed=args.seed, progress=True)
    pca = PCA(sizes[-1]).fit(X)
    errors = {"deep autoencoder": reconstruction_sse(Xt, ae.reconstruct(Xt)),
              f"PCA-{sizes[-1]}": reconstruction_sse(Xt, pca.reconstruct(Xt))}
    print(", ".join(f"{k}: {v:.2f}" for k, v in errors.items()), "(squared error per test image)")
    nt.viz.plot_reconstruction_rows(Xt, {"deep autoencoder": ae.reconstruct(Xt[:10]),
                                         f"PCA-{sizes[-1]}": pca.reconstruct(Xt[:10])},
                                    path=args.out / "autoencoder_reconstructions.png")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--part", choices=("classifier", "generative", "autoencoder"), default="classifier")
    p.add_argument("--sizes", type=int, nargs="+", help="layer widths, data first")
    p.add_argument("--pretrain-epochs", type=int, default=5)
    p.add_argument("--epochs", type=int, default=10, help="fine-tuning epochs")
    p.add_argument("--n-train", type=int, default=60000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("runs/dbn_mnist"))
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    globals()[args.part](args, *load(args.n_train))
    print(f"{(time.perf_counter() - t0) / 60:.1f} min")


if __name__ == "__main__":
    main()
