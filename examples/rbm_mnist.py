"""A 784×500 Bernoulli RBM on MNIST trained by CD-1 and by PCD, scored by AIS.

Reproduces the setting of Salakhutdinov & Murray (2008), "On the quantitative
analysis of deep belief networks": binarised MNIST (each pixel on with
probability equal to its grey level, drawn once with a fixed seed), 500 hidden
units; the test log-likelihood is estimated by annealed importance sampling from
the base-rate model (100 runs). Their CD-1 model scored −125.5 nats per test
image.

    python examples/rbm_mnist.py --methods cd1 --epochs 50   # CD-1, lr 0.005: -127.2 nats
    python examples/rbm_mnist.py --methods pcd --epochs 25   # PCD-1, lr 0.02: -108.1 nats

writes, per method, the model (``.npz``, resumable: run again to continue),
filters, samples, reconstructions and training curves (PNG), and a JSON
summary with the AIS log-likelihoods.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from neuronet.energy import ais_betas, ais_log_likelihood
from neuronet.energy.ais import DEFAULT_SEGMENTS
from neuronet.viz import plot_filters, plot_rbm_history, plot_reconstructions, plot_samples

# the recipe lives in the registered reproductions (`neuronet reproduce rbm-cd1` / `rbm-pcd`)
from neuronet.reproduce.rbm_mnist import PAPER_SEGMENTS, binarised_mnist, train_rbm  # noqa: E402


def train(method, Xtr, Xval, args, out):
    ckpt = out / f"rbm_{method}.npz"
    if ckpt.exists():
        print(f"[{method}] resuming from {ckpt}", flush=True)
    t = time.perf_counter()
    r, history = train_rbm(method, Xtr, Xval, hidden=args.hidden, epochs=args.epochs,
                           batch_size=args.batch_size, cd_lr=args.cd_lr, pcd_lr=args.pcd_lr,
                           weight_decay=args.weight_decay, seed=args.seed, checkpoint=ckpt,
                           resume_from=ckpt if ckpt.exists() else None, verbose=not args.quiet)
    return r, history, time.perf_counter() - t


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--hidden", type=int, default=500)
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--cd-lr", type=float, default=0.005)
    ap.add_argument("--pcd-lr", type=float, default=0.02)
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--methods", default="cd1,pcd")
    ap.add_argument("--ais-runs", type=int, default=100)
    ap.add_argument("--ais-schedule", choices=("paper", "default"), default="paper")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="runs/rbm_mnist")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    Xtrain, Xtest = binarised_mnist(args.seed)
    Xtr, Xval = Xtrain[:50000], Xtrain[50000:]
    betas = ais_betas(PAPER_SEGMENTS if args.ais_schedule == "paper" else DEFAULT_SEGMENTS)
    summary = {"epochs": args.epochs, "hidden": args.hidden, "batch_size": args.batch_size,
               "cd_lr": args.cd_lr, "pcd_lr": args.pcd_lr, "weight_decay": args.weight_decay,
               "ais_runs": args.ais_runs, "ais_betas": len(betas), "results": {}}
    for method in args.methods.split(","):
        r, history, seconds = train(method, Xtr, Xval, args, out)
        t = time.perf_counter()
        ll = ais_log_likelihood(r, Xtest, data=Xtr, n_runs=args.ais_runs, betas=betas, seed=args.seed)
        ais_s = time.perf_counter() - t
        print(f"[{method}] {ll}  (log Z = {ll.ais.log_z:.2f}; train {seconds:.0f} s, AIS {ais_s:.0f} s)", flush=True)
        summary["results"][method] = {
            "test_log_likelihood": ll.mean, "low": ll.low, "high": ll.high, "log_z": ll.ais.log_z,
            "train_log_likelihood": float(ais_log_likelihood(r, Xtr[:10000], result=ll.ais).mean),
            "train_seconds": seconds, "ais_seconds": ais_s, "epochs_run": len(history["epoch"]),
            "final_recon_error": history["recon_error"][-1],
            "final_val_recon_error": history["val_recon_error"][-1],
            "final_free_energy_gap": history["free_energy_gap"][-1]}
        plot_filters(r, (28, 28), n=100, path=out / f"filters_{method}.png", title=f"RBM filters ({method})")
        plot_samples(r.sample(100, steps=1000, rng=1, return_mean=True), path=out / f"samples_{method}.png",
                     title=f"samples after 1000 Gibbs steps ({method})")
        plot_reconstructions(Xtest[:10], r.reconstruct(Xtest[:10]), path=out / f"reconstructions_{method}.png")
        plot_rbm_history(history, path=out / f"curves_{method}.png", title=f"RBM {method}")
        with open(out / "summary.json", "w") as f:
            json.dump(summary, f, indent=2)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
