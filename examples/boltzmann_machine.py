"""Boltzmann machine: learning a small distribution, and simulated annealing.

1. Learning: 6 visible units, data = three prototypes with 5 % of bits flipped;
   a machine with 3 hidden units learns them by the Boltzmann rule
   Δw_ij = η(⟨s_i s_j⟩_clamped − ⟨s_i s_j⟩_free), with the statistics either
   exact (enumeration) or sampled (Gibbs, persistent free chains). The exact
   KL(P_data‖P_model) is printed beside the best independent-units model.
   Then 4-bit parity, which needs the hidden units.
2. Annealing: a random 20-unit machine (2^20 states, ground state by
   enumeration); chains annealed from T = 10 to 0.05 (geometric and linear
   schedules) against chains sampled at T = 1 for the same number of sweeps.

    python examples/boltzmann_machine.py
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import neuronet as nt
from neuronet.energy.boltzmann import data_distribution, enumerate_states, kl_divergence


def learning(seed: int, epochs: int):
    rng = np.random.default_rng(seed)
    protos = np.array([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1], [1, 0, 1, 0, 1, 0]], float)
    X = protos[rng.integers(0, 3, 300)]
    X = np.abs(X - (rng.random(X.shape) < 0.05))
    m = X.mean(0)
    S = enumerate_states(6)
    kl_indep = kl_divergence(data_distribution(X), np.prod(S * m + (1 - S) * (1 - m), axis=1))
    print(f"data: 300 vectors of 6 bits (3 prototypes, 5 % noise); best independent model: "
          f"KL = {kl_indep:.3f} nats\n")
    print("| statistics | hidden | epochs | KL start | KL end | time (s) |")
    print("|---|---|---|---|---|---|")
    for method, hidden in (("exact", 0), ("exact", 3), ("gibbs", 3)):
        bm = nt.energy.BoltzmannMachine(6, hidden, init_std=0.1, seed=seed, dtype="float64")
        t = time.perf_counter()
        hist = bm.fit(X, epochs=epochs, lr=0.5, method=method, sweeps=5, n_chains=200, seed=seed + 1)
        print(f"| {method} | {hidden} | {epochs} | {hist['kl'][0]:.3f} | {hist['kl'][-1]:.3f} | "
              f"{time.perf_counter() - t:.1f} |")


def parity(seed: int, epochs: int):
    S = enumerate_states(4)
    X = S[S.sum(1) % 2 == 0]
    print("\n4-bit even parity (8 vectors): pairwise statistics are those of the uniform distribution,"
          "\nso only hidden units can lower KL below ln 2 = 0.693 (exact statistics, lr 1.0)\n")
    print("| hidden | seed | epochs | KL end |")
    print("|---|---|---|---|")
    for hidden in (0, 4):
        for s in range(seed, seed + 4):
            bm = nt.energy.BoltzmannMachine(4, hidden, init_std=1.0, seed=s, dtype="float64")
            hist = bm.fit(X, epochs=epochs, lr=1.0, method="exact", progress=False)
            print(f"| {hidden} | {s} | {epochs} | {hist['kl'][-1]:.3f} |")


def annealing(seed: int, n: int, sweeps: int, chains: int):
    rng = np.random.default_rng(seed)
    A = rng.normal(0, 1, size=(n, n))
    W = np.triu(A, 1)
    bm = nt.energy.BoltzmannMachine.from_weights(W + W.T, rng.normal(0, 0.5, n), dtype="float64")
    t = time.perf_counter()
    gs, e0 = bm.ground_state()
    print(f"\nrandom machine of {n} units (w ~ N(0, 1), b ~ N(0, 0.25)); ground state by enumeration of "
          f"2^{n} states: E = {e0:.3f} ({time.perf_counter() - t:.1f} s)\n")
    print(f"| {chains} chains, {sweeps} sweeps | reach the ground state | mean final energy |")
    print("|---|---|---|")
    runs = {
        "anneal, geometric T 10 → 0.05": nt.energy.geometric_schedule(10.0, 0.05, sweeps),
        "anneal, linear T 10 → 0.05": nt.energy.linear_schedule(10.0, 0.05, sweeps),
        "sample at T = 1": np.ones(sweeps),
        "sample at T = 0.05 (quench)": np.full(sweeps, 0.05),
    }
    for name, temps in runs.items():
        r = bm.anneal(chains, temps, rng=seed + 7)
        print(f"| {name} | {np.mean(np.all(r.states == gs, axis=1)):.3f} | {r.energies.mean():.3f} |")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--units", type=int, default=20)
    ap.add_argument("--sweeps", type=int, default=100)
    ap.add_argument("--chains", type=int, default=500)
    args = ap.parse_args(argv)
    learning(args.seed, args.epochs)
    parity(args.seed, 10 * args.epochs)
    annealing(args.seed, args.units, args.sweeps, args.chains)


if __name__ == "__main__":
    main()
