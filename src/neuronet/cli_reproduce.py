"""``neuronet reproduce``: the lectures' published numbers, one command each.

    neuronet reproduce --list                      every entry: published number, source, recipe, time
    neuronet reproduce NAME [NAME ...] [--quick] [--resume] [--out DIR] [--seed S]
    neuronet reproduce --all [--quick]             every entry, one after the other
    neuronet reproduce --report [--out DIR] [--doc docs/results.md]

A run prints published / target / ours / difference / time / what differs from
the paper, and writes ``DIR/NAME.json`` (``NAME.quick.json`` with ``--quick``)
plus checkpoints and pictures under ``DIR/NAME/``. Ctrl-C stops it; the same
command with ``--resume`` continues from the last checkpoint.
"""
from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["add_reproduce_parser", "cmd_reproduce"]

DEFAULT_OUT = Path("runs") / "reproduce"


def _published(entry) -> str:
    return ", ".join(f"{k} {v:g}" if isinstance(v, (int, float)) else f"{k} {v}"
                     for k, v in entry.published.items())


def _list(out=None) -> int:
    from . import reproduce as R
    out = out or sys.stdout
    for name in R.names():
        e = R.get(name)
        target = ", ".join(f"{k} {'≤' if e.lower_is_better_for(k) else '≥'} {v:g}"
                           for k, v in e.target.items())
        print(f"{name}  ({e.minutes:g} min on 2 cores)\n"
              f"    {e.title}\n"
              f"    published: {_published(e)}  [{e.source}]\n"
              f"    our target: {target or '—'}\n"
              f"    our recipe: {e.recipe}", file=out)
        if e.differences:
            print(f"    differs from the paper: {e.differences}", file=out)
    return 0


def _entries(args) -> list:
    from . import reproduce as R
    from .cli import UsageError  # main prints it on one line and exits with status 2
    names = R.names() if args.all else list(args.names)
    if not names:
        raise UsageError("reproduce: give NAME (see --list), --all, --list or --report")
    unknown = [n for n in names if n not in R.REGISTRY]
    if unknown:
        raise UsageError(f"reproduce: unknown reproduction {', '.join(map(repr, unknown))}; "
                         f"known: {', '.join(R.names())}")
    return [R.get(n) for n in names]


def cmd_reproduce(args) -> int:
    from .reproduce.runner import format_table, record_path, run_entry
    if args.list:
        return _list()
    out = Path(args.out)
    if args.report:
        from .reproduce.report import write_report
        changed = write_report(out, Path(args.doc))
        print(f"neuronet reproduce: {args.doc}: {changed} summary table(s) regenerated from {out}")
        return 0
    for entry in _entries(args):
        try:
            record = run_entry(entry, out, quick=args.quick, seed=args.seed, resume=args.resume,
                               progress=not args.no_progress)
        except KeyboardInterrupt:
            print(f"\nneuronet reproduce {entry.name}: interrupted; checkpoints are in "
                  f"{out / entry.name}; continue with the same command and --resume", file=sys.stderr)
            return 130
        print("\n" + format_table(record))
        print(f"record: {record_path(out, entry.name, args.quick)}\n", flush=True)
    return 0


def add_reproduce_parser(sub) -> None:
    """Register the ``reproduce`` subcommand on ``neuronet``'s subparsers."""
    r = sub.add_parser("reproduce", help="reproduce a published number of the lectures by name",
                       description=__doc__.split("\n\n")[0] + " Every entry's published number, "
                       "source and recipe: --list.")
    r.add_argument("names", nargs="*", metavar="NAME", help="reproductions to run (see --list)")
    r.add_argument("--list", action="store_true", help="list every registered reproduction")
    r.add_argument("--all", action="store_true", help="run every registered reproduction")
    r.add_argument("--quick", action="store_true",
                   help="a seconds-long version on tiny data (checks the pipeline, not the number)")
    r.add_argument("--resume", action="store_true", help="continue from the checkpoints in --out")
    r.add_argument("--out", default=str(DEFAULT_OUT),
                   help=f"folder for records, checkpoints and pictures (default {DEFAULT_OUT})")
    r.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    r.add_argument("--no-progress", action="store_true", help="do not show progress bars")
    r.add_argument("--report", action="store_true",
                   help="regenerate the summary tables of --doc from the records in --out")
    r.add_argument("--doc", default="docs/results.md", help="the document --report rewrites")
    r.set_defaults(func=cmd_reproduce)
