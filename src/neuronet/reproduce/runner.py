"""Running one reproduction: its context, its JSON record, its printed table.

``run_entry(entry, out, quick=..., seed=..., resume=...)`` calls ``entry.run(ctx)``
with a :class:`Context`, then writes ``OUT/NAME.json`` (``NAME.quick.json`` for
``--quick``): our numbers beside the published ones, the difference
``ours − published`` per metric, whether the target was met, the recipe and its
differences from the paper, the seed, the library version, the git commit, the
machine, the BLAS, the time. A run stopped by Ctrl-C keeps its checkpoints;
the same command with ``resume=True`` continues from them.
"""
from __future__ import annotations

import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from ..io import write_text_atomic
from .registry import Reproduction

__all__ = ["Context", "run_entry", "record_path", "format_table", "machine_info", "meets"]


class Context:
    """What a reproduction's ``run(ctx)`` gets.

    ``quick`` (seconds-long version on tiny data), ``seed``, ``out`` (this entry's
    folder for checkpoints and pictures), ``resume``, ``progress``;
    ``checkpoint(name)`` a checkpoint path, ``resume_from(name)`` the same path
    when resuming and it exists (else ``None``), ``loop_kwargs(name)`` both as
    keyword arguments for ``nt.fit`` / ``Loop``, ``picture(name)`` a picture path
    (recorded), ``log(text)`` a line of output (recorded), ``config`` a dict the
    entry fills with its recipe's settings (recorded).
    """

    def __init__(self, name: str, out: Path, quick: bool = False, seed: int = 0,
                 resume: bool = False, progress: bool = True, stream=None):
        self.name, self.quick, self.seed = name, bool(quick), int(seed)
        self.out = Path(out) / (name + (".quick" if quick else ""))
        self.resume, self.progress = bool(resume), bool(progress)
        self.stream = stream if stream is not None else sys.stdout
        self.pictures, self.lines, self.config = [], [], {}
        self.out.mkdir(parents=True, exist_ok=True)
        if not self.resume:  # a fresh run never continues from an earlier run's checkpoints
            shutil.rmtree(self.out / "checkpoints", ignore_errors=True)

    def checkpoint(self, name: str) -> Path:
        """The checkpoint file of stage ``name`` (``OUT/NAME/checkpoints/name.npz``)."""
        path = self.out / "checkpoints" / f"{name}.npz"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def resume_from(self, name: str):
        """``checkpoint(name)`` when resuming and it was written, else ``None``."""
        path = self.checkpoint(name)
        return path if self.resume and path.is_file() else None

    def loop_kwargs(self, name: str, every: int = 1) -> dict:
        """``callbacks`` (a checkpoint of stage ``name`` every ``every`` epochs),
        ``resume_from`` and ``progress`` for ``nt.fit`` or ``Loop``."""
        from ..train.callbacks import ModelCheckpoint
        return {"callbacks": [ModelCheckpoint(self.checkpoint(name), every=every)],
                "resume_from": self.resume_from(name), "progress": self.progress}

    def picture(self, name: str) -> Path:
        path = self.out / name
        self.pictures.append(str(path))
        return path

    def log(self, text: str) -> None:
        self.lines.append(str(text))
        print(str(text), file=self.stream, flush=True)


# ------------------------------------------------------------------ provenance
def _git_commit():
    here = Path(__file__).resolve().parent
    try:
        res = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5)
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    if res.returncode != 0:
        return None
    return res.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def _blas() -> str:
    try:
        from threadpoolctl import threadpool_info
        infos = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if infos:
            return ", ".join(f"{i.get('internal_api')} {i.get('version')} ({i.get('num_threads')} threads)"
                             for i in infos)
    except ImportError:
        pass
    import numpy as np
    cfg = getattr(np, "show_config", None)
    try:
        info = cfg(mode="dicts")["Build Dependencies"]["blas"]  # NumPy ≥ 1.26
        return f"{info.get('name')} {info.get('version')}"
    except Exception:  # an older NumPy: the name is not available as data
        return "unknown"


def machine_info() -> dict:
    """CPU, cores, OS, Python, NumPy, BLAS and the thread settings of this run."""
    import numpy as np
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "numpy": np.__version__, "blas": _blas(),
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS")}


# ------------------------------------------------------------------ the record
def meets(entry: Reproduction, metric: str, value) -> bool | None:
    """Whether ``value`` reaches ``entry.target[metric]`` (``None`` without a target)."""
    if metric not in entry.target or not isinstance(value, (int, float)) or math.isnan(value):
        return None
    t = entry.target[metric]
    return bool(value <= t) if entry.lower_is_better_for(metric) else bool(value >= t)


def record_path(out, name: str, quick: bool = False) -> Path:
    return Path(out) / f"{name}{'.quick' if quick else ''}.json"


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if hasattr(x, "tolist"):  # NumPy scalars and arrays
        return x.tolist()
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    return x


def _rows(entry: Reproduction, ours: dict, quick: bool) -> list:
    """One row per published or target metric; a --quick run is not judged against the target."""
    rows = []
    for metric in sorted(set(entry.published) | set(entry.target)):
        value, pub = ours.get(metric), entry.published.get(metric)
        diff = value - pub if isinstance(value, (int, float)) and isinstance(pub, (int, float)) else None
        rows.append({"metric": metric, "published": pub, "target": entry.target.get(metric),
                     "ours": value, "difference": diff, "meets_target": None if quick else meets(entry, metric, value)})
    return rows


def make_record(entry: Reproduction, ctx: Context, ours: dict, seconds: float) -> dict:
    from .. import __version__
    return _jsonable({
        "name": entry.name, "title": entry.title, "quick": ctx.quick, "seed": ctx.seed,
        "source": entry.source, "recipe": entry.recipe, "differences": entry.differences,
        "published": entry.published, "target": entry.target, "ours": ours,
        "rows": _rows(entry, ours, ctx.quick), "config": ctx.config, "pictures": ctx.pictures,
        "log": ctx.lines, "resumed": ctx.resume, "seconds": seconds,
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "neuronet": __version__, "commit": _git_commit(), "machine": machine_info()})


def _fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.5g}"
    return str(v)


def format_table(record: dict) -> str:
    """The printed summary: one row per metric, then time and differences."""
    head = ["metric", "published", "target", "ours", "ours − published", "meets target"]
    body = [[r["metric"], _fmt(r["published"]), _fmt(r["target"]), _fmt(r["ours"]),
             _fmt(r["difference"]), _fmt(r["meets_target"])] for r in record["rows"]]
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(head)]
    lines = [f"{record['name']}: {record['title']}" + ("  [--quick: tiny data, not the result]"
                                                       if record["quick"] else "")]
    for row in [head] + body:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    lines.append(f"time: {record['seconds']:.1f} s (seed {record['seed']})")
    lines.append(f"published: {record['source']}")
    lines.append(f"our recipe: {record['recipe']}")
    if record["differences"]:
        lines.append(f"differences from the paper: {record['differences']}")
    return "\n".join(lines)


def run_entry(entry: Reproduction, out, quick: bool = False, seed: int = 0, resume: bool = False,
              progress: bool = True, stream=None) -> dict:
    """Run ``entry`` and write its record; returns the record (KeyboardInterrupt propagates,
    leaving the checkpoints for ``resume=True``)."""
    out = Path(out)
    ctx = Context(entry.name, out, quick=quick, seed=seed, resume=resume, progress=progress,
                  stream=stream)
    t0 = time.perf_counter()
    try:
        ours = entry.run(ctx)
    finally:
        if "matplotlib.pyplot" in sys.modules:  # an entry's pictures are saved: free their figures
            sys.modules["matplotlib.pyplot"].close("all")
    seconds = time.perf_counter() - t0
    if not isinstance(ours, dict):
        raise TypeError(f"reproduction {entry.name!r}: run(ctx) must return a dict of metrics, "
                        f"got {type(ours).__name__}")
    missing = sorted(set(entry.published) - set(ours))
    if missing:
        raise ValueError(f"reproduction {entry.name!r} did not return the published metrics {missing}")
    record = make_record(entry, ctx, ours, seconds)
    write_text_atomic(record_path(out, entry.name, quick), json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    return record
