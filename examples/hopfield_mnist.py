"""Hopfield associative memory on binarised MNIST digits: stored, noisy, recalled.

Digits are strongly correlated (they share most background pixels), so the
plain Hebb rule mixes them into spurious states; the pseudo-inverse and Storkey
rules decorrelate and recall them. Saves hopfield_mnist.png (rows: stored,
noisy probes, recall by each rule) and hopfield_energy.png (energy per sweep).

    NEURONET_DATA=/work/shared/datasets python examples/hopfield_mnist.py
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import neuronet as nt


def digits(n_per_class: int, classes, rng):
    """One (or more) binarised test digits per class, as ±1 vectors of 784 pixels."""
    images, labels = nt.data.load_mnist("test")
    pick = np.concatenate([rng.choice(np.flatnonzero(labels == c), n_per_class, replace=False)
                           for c in classes])
    return np.where(images[pick].reshape(len(pick), -1) > 127, 1.0, -1.0), labels[pick]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--classes", type=int, nargs="+", default=[0, 1, 2, 3, 4, 5, 6, 7])
    ap.add_argument("--noise", type=float, default=0.2, help="fraction of pixels flipped in a probe")
    ap.add_argument("--probes", type=int, default=50, help="noisy probes per stored digit (for the numbers)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("."))
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)

    xi, labels = digits(1, args.classes, rng)
    P, n = xi.shape
    targets = np.repeat(xi, args.probes, axis=0)
    noisy = nt.energy.flip_bits(targets, args.noise, rng)
    print(f"{P} digits ({', '.join(map(str, labels))}) stored in N = {n} neurons (α = {P / n:.4f}); "
          f"{args.probes} probes per digit with {args.noise:.0%} of pixels flipped, seed {args.seed}")
    mean_overlap = (xi @ xi.T / n)[~np.eye(P, dtype=bool)].mean()
    print(f"mean overlap between stored digits: {mean_overlap:.3f} (random patterns: ~0)")
    print("\n| rule | stored digits that are fixed points | probes recalled exactly | "
          "probes ending nearest their own digit | mean final overlap |")
    print("|---|---|---|---|---|")
    shown = [xi, noisy[::args.probes]]
    names = ["stored", f"probe ({args.noise:.0%} flipped)"]
    energies = None
    for rule in ("hebb", "storkey", "pseudoinverse"):
        net = nt.energy.Hopfield(n, rule=rule).store(xi)
        fixed = np.mean(np.all(net.update_sync(xi) == xi, axis=1))
        res = net.recall(noisy, rng=rng, max_sweeps=50)
        exact = np.mean(np.all(res.states == targets, axis=1))
        m = res.states @ xi.T / n
        nearest = np.mean(np.argmax(m, axis=1) == np.repeat(np.arange(P), args.probes))
        own = np.mean(np.sum(res.states * targets, axis=1) / n)
        print(f"| {rule} | {fixed:.2f} | {exact:.3f} | {nearest:.3f} | {own:.3f} |")
        shown.append(res.states[::args.probes])
        names.append(f"recall: {rule}")
        if rule == "pseudoinverse":
            energies = res.energies[:, ::args.probes]
    args.out.mkdir(parents=True, exist_ok=True)
    nt.viz.plot_hopfield_recall(shown, (28, 28), labels=names, path=args.out / "hopfield_mnist.png")
    nt.viz.plot_hopfield_energy(energies, labels=[str(c) for c in labels],
                                path=args.out / "hopfield_energy.png")
    print(f"\npictures: {args.out / 'hopfield_mnist.png'}, {args.out / 'hopfield_energy.png'}")


if __name__ == "__main__":
    main()
