"""Every speed comparison, measured fairly, and the tables of ``docs/benchmarks.md`` regenerated.

    python benchmarks/run_all.py [--cases mlp,lenet,...] [--threads 1,2] [--rounds 5]
                                 [--json out.json] [--block current] [--no-write]

Method. Each library runs **in its own process** (``_worker.py``), started fresh for
every timing, with its thread count set before its BLAS / OpenMP pools start, so no
library's spinning pool slows the other. For each case and thread count the
libraries run in turns, ``--rounds`` times, the order reversed every round (A B,
B A, ...), so that load from other jobs hits them alike. A process reports the
median of its timed steps (after warm-up). Round ``r`` gives the pair ratio
``time(neuronet) / time(peer)``; the table shows the **median of the per-pair
ratios with their min–max**, the machine, the BLAS and its threads, and each
process's peak memory growth beside the size of the arrays the step needs.

``--baseline OTHER/src`` compares neuronet with neuronet from another source tree
(peer ``neuronet-base``, same method): how each change was measured.

``floor`` rows time the same step's matrix products alone (NumPy, preallocated
outputs): where a target is missed, the floor says how much is element-wise work.
The markdown lands between ``<!-- bench:BLOCK:begin -->`` and
``<!-- bench:BLOCK:end -->`` in ``docs/benchmarks.md`` (added at the end if absent).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from _report import load_average, machine

HERE = Path(__file__).resolve().parent
DOC = HERE.parent / "docs" / "benchmarks.md"

#: case -> (title, peers, steps per process, target text)
CASES = {
    "mlp": ("MLP 784-1024-1024-10 training step, batch 128, momentum SGD", ["torch", "floor"], 20, "≤ 1.0"),
    "lenet": ("LeNet-5 training step, batch 64, momentum SGD", ["torch"], 20, "≤ 1.0"),
    "lstm": ("LSTM 128→256, T=50, N=64, forward + backward (input is data)", ["torch"], 6, "≤ 1.0"),
    "rbm-pcd1-b10": ("RBM 784×500 MNIST, PCD-1 batch 10, one epoch", ["sklearn-f64", "sklearn-f32"], 1,
                     "≤ 0.2 (f64), ≤ 0.5 (f32)"),
    "rbm-cd1-b100": ("RBM 784×500 MNIST, CD-1 batch 100, one epoch", ["sklearn-f64", "sklearn-f32", "floor"], 1,
                     "≤ 0.2 (f64), ≤ 0.5 (f32)"),
}


#: ``--baseline SRC``: the peer "neuronet-base" is neuronet run from another source tree (a change's A/B)
BASELINE = {"src": None, "env": {}, "base_env": {}}


def run_worker(case, lib, threads, steps, rows):
    env = dict(os.environ)
    env.update(BASELINE["base_env"] if lib == "neuronet-base" else BASELINE["env"] if lib == "neuronet" else {})
    src = BASELINE["src"] if lib == "neuronet-base" else str(HERE.parent / "src")
    env["PYTHONPATH"] = os.pathsep.join([src, str(HERE), env.get("PYTHONPATH", "")])
    cmd = [sys.executable, str(HERE / "_worker.py"), case, "neuronet" if lib == "neuronet-base" else lib,
           "--threads", str(threads), "--steps", str(steps),
           "--rows", str(rows), "--warmup", "1" if case.startswith("rbm") else "3"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if out.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(case, threads, rounds, rows):
    """``rounds`` alternating rounds of neuronet and every peer, each in a fresh process."""
    libs = ["neuronet"] + (["neuronet-base"] if BASELINE["src"] else CASES[case][1])
    steps = CASES[case][2]
    res = {lib: [] for lib in libs}
    for r in range(rounds):
        for lib in (libs if r % 2 == 0 else libs[::-1]):
            res[lib].append(run_worker(case, lib, threads, steps, rows))
            print(f"  {case} {threads}t round {r + 1}: {lib} {res[lib][-1]['seconds'] * 1e3:.1f} ms", flush=True)
    return res


def summarise(res):
    """Per peer: median time, the median and range of per-round ratios neuronet / peer, memory."""
    ours = [x["seconds"] for x in res["neuronet"]]
    rows = {}
    for lib, runs in res.items():
        ratios = [o / x["seconds"] for o, x in zip(ours, runs)]
        rows[lib] = {"median_s": statistics.median(x["seconds"] for x in runs),
                     "ratio": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios),
                     "rss_growth_mb": statistics.median(x["rss_growth_mb"] for x in runs),
                     "needed_mb": runs[0]["needed_mb"]}
    return rows


def blas_line(threads) -> str:
    code = ("from _report import pin_threads; pin_threads(%d); import numpy, torch, threadpoolctl, sklearn;"
            "i=[f\"{x['internal_api']} {x.get('version')} {x.get('architecture')}\" for x in "
            "threadpoolctl.threadpool_info() if x['user_api']=='blas' and 'numpy' in x['filepath']];"
            "print(f'NumPy {numpy.__version__} ({i[0] if i else \"?\"}), PyTorch {torch.__version__}, "
            "scikit-learn {sklearn.__version__}')" % threads)
    out = subprocess.run([sys.executable, "-c", code], cwd=HERE, capture_output=True, text=True)
    return out.stdout.strip() or out.stderr.strip()[-200:]


def fast_kernels_line() -> str:
    code = "import neuronet.kernels as k; print(k.describe())"
    env = dict(os.environ, PYTHONPATH=str(HERE.parent / "src"))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else "NumPy (no kernels module)"


def markdown(results, rounds, rows):
    lines = [
        f"Machine: {machine()}, {os.cpu_count()} logical CPUs, load average {load_average():.1f} at the end; "
        f"{blas_line(1)}; neuronet element-wise kernels: {fast_kernels_line()}. Each library in its own "
        f"process, {rounds} alternating rounds; ratio = time neuronet / time peer (below 1: neuronet faster), "
        f"median of the per-round ratios [min–max]. RBM epochs on the first {rows} MNIST images. "
        "Memory: peak RSS growth of the process while building and running the step / the arrays the step "
        "needs.",
        "",
        "| case | threads | peer | neuronet | peer time | **ratio** [min–max] | target "
        "| memory neuronet / peer / needed (MB) |",
        "|---|---|---|---:|---:|---|---|---|",
    ]
    for (case, threads), summ in results.items():
        title, peers, _, target = CASES[case]
        peers = [p for p in summ if p != "neuronet"]
        ours = summ["neuronet"]
        for peer in peers:
            p = summ[peer]
            tgt = _target(case, peer, target)
            lines.append(
                f"| {title} | {threads} | {peer} | {_fmt(ours['median_s'])} | {_fmt(p['median_s'])} | "
                f"**{p['ratio']:.2f}** [{p['ratio_min']:.2f}–{p['ratio_max']:.2f}] | {tgt} | "
                f"{ours['rss_growth_mb']:.0f} / {p['rss_growth_mb']:.0f} / {ours['needed_mb']:.0f} |")
    return "\n".join(lines)


def _target(case, peer, target) -> str:
    """The target of one row: none for a floor or an A/B; the RBM's differ by the peer's dtype."""
    if peer in ("floor", "neuronet-base"):
        return "—"
    if case.startswith("rbm"):
        return target.split(",")[-1 if peer == "sklearn-f32" else 0].strip()
    return target


def _fmt(seconds) -> str:
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1e3:.1f} ms"


def write_block(text, block, doc=DOC):
    begin, end = f"<!-- bench:{block}:begin -->", f"<!-- bench:{block}:end -->"
    body = doc.read_text()
    if begin in body and end in body:
        head, rest = body.split(begin, 1)
        body = head + begin + "\n" + text + "\n" + end + rest.split(end, 1)[1]
    else:
        body = body.rstrip("\n") + f"\n\n{begin}\n{text}\n{end}\n"
    doc.write_text(body)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default=",".join(CASES), help="comma-separated, from " + ", ".join(CASES))
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--rows", type=int, default=10000, help="RBM: MNIST rows per epoch")
    ap.add_argument("--json", default=None)
    ap.add_argument("--block", default="current", help="which marked block of docs/benchmarks.md to rewrite")
    ap.add_argument("--no-write", action="store_true", help="print the table, leave the docs alone")
    ap.add_argument("--baseline", default=None, metavar="SRC",
                    help="instead of the peers, compare with neuronet from this source folder (A/B of a change)")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                    help="environment of the neuronet processes (e.g. NEURONET_KERNELS=numpy)")
    ap.add_argument("--base-env", action="append", default=[], metavar="KEY=VALUE",
                    help="environment of the neuronet-base processes")
    args = ap.parse_args(argv)
    BASELINE["src"] = args.baseline
    BASELINE["env"] = dict(kv.split("=", 1) for kv in args.env)
    BASELINE["base_env"] = dict(kv.split("=", 1) for kv in args.base_env)
    if BASELINE["base_env"] and not BASELINE["src"]:
        BASELINE["src"] = str(HERE.parent / "src")
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        ap.error(f"unknown case(s) {unknown}; choose from {list(CASES)}")
    results, raw = {}, {}
    for threads in (int(t) for t in args.threads.split(",")):
        for case in cases:
            res = measure(case, threads, args.rounds, args.rows)
            raw[f"{case}@{threads}"] = res
            results[(case, threads)] = summarise(res)
    text = markdown(results, args.rounds, args.rows)
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": {f"{c}@{t}": s for (c, t), s in results.items()},
                                               "runs": raw}, indent=1))
    if not args.no_write:
        write_block(text, args.block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
