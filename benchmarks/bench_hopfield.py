"""Hopfield batched recall and Boltzmann-machine Gibbs sweeps against straightforward loops.

1. Recall: N = 1000 neurons, P = 100 Hebb patterns (α = 0.1), 1000 probes with
   10 % of bits flipped, asynchronous updates to a fixed point. Ours:
   ``Hopfield.recall`` (all probes at once, local fields kept and changed by
   rank-1 terms per flipped neuron, in blocks closed by one GEMM). Reference:
   the textbook loop, one probe at a time, one neuron at a time,
   ``s_i = sgn(w_i·s − θ_i)`` (a length-N dot per update), same sweep rule
   (random order per sweep, stop after a sweep without change).
2. Gibbs: a Boltzmann machine of 64 units, 1000 chains, 20 sweeps at T = 1.
   Ours: ``BoltzmannMachine.gibbs`` (all chains at once). Reference: one
   chain at a time, one unit at a time, ``p = σ((b_i + w_i·s)/T)``.

The references are O(probes) Python loops: they run on ``--ref-probes`` probes
(chains) and their time is scaled linearly to the full count (the loop's cost
per probe does not depend on the others). Both sides run in the same process,
interleaved; best of ``--repeat``. Ratio = reference time / our time.

    python benchmarks/bench_hopfield.py
    python benchmarks/bench_hopfield.py --threads 2 --json out.json
"""
from __future__ import annotations

import argparse

from _report import add_run_options, best_time, machine, pin_threads, write_json


def _parse():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--probes", type=int, default=1000)
    ap.add_argument("--ref-probes", type=int, default=20)
    ap.add_argument("--units", type=int, default=64, help="Boltzmann machine units")
    ap.add_argument("--chains", type=int, default=1000)
    ap.add_argument("--ref-chains", type=int, default=20)
    ap.add_argument("--sweeps", type=int, default=20)
    add_run_options(ap, repeat=3)
    return ap.parse_args()


def reference_recall(W, theta, probes, rng, max_sweeps=100):
    """One probe at a time, one neuron at a time: the loop in every textbook."""
    out = probes.copy()
    for s in out:
        for _ in range(max_sweeps):
            changed = False
            for i in rng.permutation(len(s)):
                new = 1.0 if W[i] @ s > theta[i] else -1.0
                if new != s[i]:
                    s[i] = new
                    changed = True
            if not changed:
                break
    return out


def reference_gibbs(W, b, S, T, sweeps, rng):
    """One chain at a time, one unit at a time."""
    import numpy as np

    for s in S:
        for _ in range(sweeps):
            for i in rng.permutation(len(s)):
                p = 1.0 / (1.0 + np.exp(-(b[i] + W[i] @ s) / T))
                s[i] = 1.0 if rng.random() < p else 0.0
    return S


def main():
    args = _parse()
    pin_threads(args.threads)
    import numpy as np

    import neuronet as nt

    rng = np.random.default_rng(0)
    n, B = args.n, args.probes
    P = n // 10
    xi = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=(P, n))
    net = nt.energy.Hopfield(n).store(xi)
    targets = xi[rng.integers(0, P, B)]
    probes = nt.energy.flip_bits(targets, 0.1, rng)
    W, th = net.W.data, net.theta.data
    ours_res = net.recall(probes, seed=1)
    ref_out = reference_recall(W, th, probes[:args.ref_probes], np.random.default_rng(1))
    k = args.ref_probes

    def exact_frac(out):
        return float(np.mean(np.all(out == targets[:k], axis=1)))
    t_ours = best_time(lambda: net.recall(probes, seed=1), args.repeat)
    t_ref = best_time(lambda: reference_recall(W, th, probes[:args.ref_probes], np.random.default_rng(1)),
                  max(1, args.repeat - 1)) * B / args.ref_probes
    rows = [dict(task=f"Hopfield async recall, N={n}, P={P}, {B} probes (10 % noise), to a fixed point "
                      f"({ours_res.sweeps} sweeps)",
                 ours_s=t_ours, reference_s=t_ref, ratio=t_ref / t_ours,
                 note=f"reference timed on {k} probes, scaled; exact recall on those probes: "
                      f"ours {exact_frac(ours_res.states[:k]):.0%}, reference {exact_frac(ref_out):.0%} "
                      f"(same dynamics, different random unit orders)")]
    exact = float(np.mean(np.all(ours_res.states == targets, axis=1)))

    m = args.units
    A = rng.normal(0, 0.3, size=(m, m))
    Wb = np.triu(A, 1)
    bm = nt.energy.BoltzmannMachine.from_weights(Wb + Wb.T, rng.normal(0, 0.5, m))
    S0 = bm.random_states(args.chains, rng)
    temps = np.ones(args.sweeps)
    t_ours = best_time(lambda: bm.gibbs(S0.copy(), temps, rng=np.random.default_rng(2)), args.repeat)
    W64, b64 = bm.W.data.astype(np.float64), bm.b.data.astype(np.float64)
    t_ref = best_time(lambda: reference_gibbs(W64, b64, S0[:args.ref_chains].astype(np.float64).copy(), 1.0,
                                          args.sweeps, np.random.default_rng(2)),
                  max(1, args.repeat - 1)) * args.chains / args.ref_chains
    rows.append(dict(task=f"Boltzmann machine Gibbs, {m} units, {args.chains} chains, {args.sweeps} sweeps",
                     ours_s=t_ours, reference_s=t_ref, ratio=t_ref / t_ours,
                     note=f"reference timed on {args.ref_chains} chains, scaled"))

    print(f"threads={args.threads}, numpy {np.__version__}, {machine()}")
    print(f"(our recall: {exact:.1%} of the {B} probes end exactly on their stored pattern)\n")
    print("| task | ours (s) | per-probe loop reference (s) | ratio (reference / ours) | note |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['task']} | {r['ours_s']:.3f} | {r['reference_s']:.2f} | {r['ratio']:.0f}× | {r['note']} |")
    write_json(args.json, dict(threads=args.threads, rows=rows), indent=1)


if __name__ == "__main__":
    main()
