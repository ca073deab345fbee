"""``neuronet reproduce --report``: docs/results.md's summary tables, generated from the records.

Everything between ``<!-- reproduce:begin -->`` and ``<!-- reproduce:end -->`` in the
document is replaced by a table built from the full (not ``--quick``) records in the
records folder: one row per metric of every registered reproduction, ours beside
the published number, then what each recipe does differently. A begin marker may
name entries (``<!-- reproduce:begin lenet5 mlp-keras -->``) to restrict its table
to them. Text outside the markers is left alone, so the document never disagrees
with a run and its prose survives.

An entry with no record in the folder keeps the rows (and the recipe line) it already
has in the document: they were generated from an earlier record and still name its
date and commit, so rerunning one entry, or reporting from a folder that holds only
this session's runs, never erases what earlier runs established. Entries never run
say "not run".
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from .registry import get, names
from ..io import write_text_atomic
from .runner import _fmt

__all__ = ["load_records", "rendered_entries", "summary_table", "write_report", "MARKER"]

MARKER = re.compile(r"(<!-- reproduce:begin(?P<names>[^>]*?)-->\n)(?P<body>.*?)(<!-- reproduce:end -->)",
                    re.S)


def load_records(folder) -> dict:
    """``name -> record`` of the full runs in ``folder`` (the newest file per name)."""
    records = {}
    for path in sorted(Path(folder).glob("*.json")):
        if path.name.endswith(".quick.json"):
            continue
        try:
            rec = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(rec, dict) and "rows" in rec and not rec.get("quick"):
            old = records.get(rec.get("name"))
            if old is None or rec.get("finished", "") >= old.get("finished", ""):
                records[rec["name"]] = rec
    return records


def _minutes(seconds) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def _run_cell(rec) -> str:
    """When the run finished and on which commit; "resumed" when it continued from its own
    checkpoints (its time is then the resumed part's)."""
    commit = (rec.get("commit") or "?")[:7]
    resumed = ", resumed" if rec.get("resumed") else ""
    return f"{rec.get('finished', '?')[:16].replace('T', ' ')} UTC, `{commit}`{resumed}"


_ROW = re.compile(r"\| `(?P<name>[^`]+)` \|")
_BULLET = re.compile(r"\* `(?P<name>[^`]+)` \(")


def rendered_entries(body: str) -> dict:
    """``name -> (table rows, recipe lines)`` as a previous report wrote them in ``body``;
    a row with an empty first cell continues the entry above it."""
    kept, name = {}, None
    for line in body.splitlines():
        row, bullet = _ROW.match(line), _BULLET.match(line)
        if row:
            name = row["name"]
        elif bullet:
            name = bullet["name"]
        elif not line.startswith("|  |"):
            name = None
            continue
        if name is None or (row and "| not run |" in line):
            continue
        kept.setdefault(name, ([], []))[1 if bullet else 0].append(line)
    return kept


def summary_table(records: dict, only=None, kept=None) -> str:
    """The Markdown table (and the list of differences) for the registered entries in
    ``only`` (default: all); an entry without a record keeps its lines from ``kept``
    (``rendered_entries`` of the old table), else says "not run"."""
    lines = ["| reproduction | metric | published | ours | ours − published | target | met | time | run |",
             "|---|---|---:|---:|---:|---:|---|---:|---|"]
    diffs = []
    for name in (only or names()):
        entry, rec = get(name), records.get(name)
        if rec is None and name in (kept or {}):
            lines += kept[name][0]
            diffs += kept[name][1]
            continue
        if rec is None:
            lines.append(f"| `{name}` | {', '.join(entry.published) or '—'} | "
                         f"{', '.join(_fmt(v) for v in entry.published.values()) or '—'} | "
                         f"not run | | | | | |")
            continue
        if not rec["rows"]:  # no published number: the record's table is in the document's prose
            lines.append(f"| `{name}` | — | — | (no published number) | | | | {_minutes(rec['seconds'])} | "
                         f"{_run_cell(rec)} |")
        for i, row in enumerate(rec["rows"]):
            first = i == 0
            lines.append(
                f"| {f'`{name}`' if first else ''} | {row['metric']} | {_fmt(row['published'])} | "
                f"**{_fmt(row['ours'])}** | {_fmt(row['difference'])} | {_fmt(row['target'])} | "
                f"{_fmt(row['meets_target'])} | {_minutes(rec['seconds']) if first else ''} | "
                f"{_run_cell(rec) if first else ''} |")
        diffs.append(f"* `{name}` ({rec['source']}): {rec['recipe']}."
                     + (f" *Differs:* {rec['differences']}." if rec.get("differences") else ""))
    out = "\n".join(lines) + "\n"
    if diffs:
        out += "\nOur recipes and what differs from the papers:\n\n" + "\n".join(diffs) + "\n"
    return out


def write_report(records_folder, doc) -> int:
    """Regenerate every marked table of ``doc`` from ``records_folder``; returns how many."""
    doc = Path(doc)
    if not doc.is_file():
        raise SystemExit(f"neuronet reproduce --report: no document at {doc}")
    text = doc.read_text()
    records = load_records(records_folder)
    count = 0

    def fill(m):
        nonlocal count
        only = m.group("names").split() or None
        unknown = [n for n in only or [] if n not in names()]
        if unknown:
            raise SystemExit(f"neuronet reproduce --report: {doc} names unknown reproductions {unknown}")
        count += 1
        return m.group(1) + summary_table(records, only, rendered_entries(m.group("body"))) + m.group(4)

    new = MARKER.sub(fill, text)
    if count == 0:
        raise SystemExit(f"neuronet reproduce --report: {doc} has no '<!-- reproduce:begin -->' … "
                         f"'<!-- reproduce:end -->' markers to fill")
    if new != text:
        write_text_atomic(doc, new)
    return count
