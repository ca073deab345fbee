"""Finding, verifying and downloading the registered data files (see registry.py).

Every download goes to a temporary ``.part`` name, is checked against its MD5
and only then renamed into place; archive members are taken by their registered
names only, never by a path from the archive.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from .registry import ChecksumError, DataError, DataFile, DataSet, _dataset, cache_dir, data_dirs  # noqa: F401

__all__ = ["find_file", "fetch", "verify", "md5sum"]

# an extracted member larger than this is refused (a corrupt or hostile archive)
MAX_MEMBER_BYTES = 1 << 30


def md5sum(path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def find_file(ds: DataSet, f: DataFile):
    """``(path, expected md5)`` of the first copy of ``f`` found, or ``None``."""
    for d in ds.dirs():
        if (d / f.name).is_file():
            return d / f.name, f.md5
        if f.raw_name and (d / f.raw_name).is_file():
            return d / f.raw_name, f.raw_md5
    return None


def _check(path: Path, expected: str, ds: DataSet) -> None:
    got = md5sum(path)
    if got != expected:
        raise ChecksumError(
            f"{path}: MD5 {got} differs from the published {expected}; the file is corrupt, "
            f"truncated or not the {ds.name} file. Delete it and run `neuronet data fetch {ds.name}` "
            f"(or copy the original from {ds.source()}).")


def _missing_message(ds: DataSet, missing, reason: str = "") -> str:
    where = ds.dirs()
    lines = [f"{ds.name}: file(s) not found: {', '.join(f.name for f in missing)}."]
    if reason:
        lines.append(f"Download failed: {reason}")
    lines.append("Looked in: " + ", ".join(str(d) for d in where) + ".")
    lines.append(f"Put the files (from {ds.source()}) into {where[0]} "
                 f"(or set NEURONET_DATA to a folder holding {ds.name}/), "
                 f"or run `neuronet data fetch {ds.name}` with network access.")
    return "\n".join(lines)


class DownloadError(DataError):
    """No mirror gave a verified copy; ``reason`` lists what each one did."""

    def __init__(self, ds: DataSet, missing, reason: str):
        super().__init__(_missing_message(ds, missing, reason))
        self.reason = reason


# --------------------------------------------------------------- download
def _part(dest_dir: Path, name: str) -> Path:
    """The temporary name a file is written under before it is verified."""
    return dest_dir / f".{name}.part{os.getpid()}"


def _verify_part(tmp: Path, f: DataFile, source: str) -> None:
    got = md5sum(tmp)
    if got != f.md5:
        raise ChecksumError(f"{source}: MD5 {got}, expected {f.md5}")


def _from_mirrors(ds: DataSet, remote: str, files, dest_dir: Path, place, timeout: float):
    """Download ``mirror + remote`` to a temporary file in ``dest_dir`` and return
    ``place(tmp, url)`` for the first mirror where that succeeds; the temporary
    file is always removed.  ``files``: the data files this download provides."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    tmp = _part(dest_dir, remote)
    errors = []
    for base in ds.mirrors:
        url = base + remote
        try:
            with urllib.request.urlopen(url, timeout=timeout) as r, open(tmp, "wb") as out:
                shutil.copyfileobj(r, out, 1 << 20)
            return place(tmp, url)
        except (urllib.error.URLError, OSError, DataError, ValueError, zipfile.BadZipFile) as e:
            errors.append(f"{url}: {e}")
        finally:
            if tmp.exists():
                tmp.unlink()
    raise DownloadError(ds, files, "; ".join(errors))


def _download(ds: DataSet, f: DataFile, dest_dir: Path, timeout: float = 30.0) -> Path:
    """Fetch ``f`` into ``dest_dir``: temp name, MD5 check, then rename."""
    def place(tmp, url):
        _verify_part(tmp, f, url)
        os.replace(tmp, dest_dir / f.name)
        return dest_dir / f.name
    return _from_mirrors(ds, f.name, [f], dest_dir, place, timeout)


def _safe_member(name: str) -> bool:
    """A zip member name that stays inside the folder it is unpacked into."""
    return not (name.startswith("/") or "\\" in name or ":" in name
                or ".." in PurePosixPath(name).parts)


def _extract(archive: Path, source: str, ds: DataSet, files, dest_dir: Path) -> dict:
    """Unpack ``files`` from the zip ``archive`` into ``dest_dir``: each registered
    member to a temporary name, all MD5-checked, then all renamed.  An archive with
    any member name that could leave its folder (absolute, ``..``) is refused."""
    parts = {}
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
            unsafe = [i.filename for i in infos if not _safe_member(i.filename)]
            if unsafe:
                raise DataError(f"{source}: unsafe member name(s) {unsafe[:3]}; archive refused")
            members = {i.filename: i for i in infos if not i.is_dir()}
            for f in files:
                member = f"{ds.archive_dir}/{f.name}" if ds.archive_dir else f.name
                info = members.get(member)
                if info is None:
                    raise DataError(f"{source}: no member {member}")
                if info.file_size > MAX_MEMBER_BYTES:
                    raise DataError(f"{source}: member {member} claims {info.file_size} bytes; refused")
                parts[f.name] = _part(dest_dir, f.name)
                with zf.open(info) as src, open(parts[f.name], "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
                _verify_part(parts[f.name], f, f"{source}:{member}")
        for name, tmp in parts.items():
            os.replace(tmp, dest_dir / name)
        return {name: dest_dir / name for name in parts}
    finally:
        for tmp in parts.values():
            if tmp.exists():
                tmp.unlink()


def _ensure(ds: DataSet, files, download: bool, timeout: float = 30.0) -> dict:
    """``{file name: path}`` for ``files``: found copies verified, missing ones downloaded.

    Any failure names every file still missing and where to put it.
    """
    paths, missing = {}, []
    for f in files:
        found = find_file(ds, f)
        if found is None:
            missing.append(f)
            continue
        _check(found[0], found[1], ds)
        paths[f.name] = found[0]
    if missing and not download:
        raise DataError(_missing_message(ds, missing))
    dest = cache_dir() / ds.name
    if missing and ds.archive:  # one download gives them all: unpack every absent file
        absent = missing + [g for g in ds.all_files()
                            if g not in missing and g.name not in paths and find_file(ds, g) is None]
        got = _from_mirrors(ds, ds.archive, missing, dest,
                            lambda tmp, url: _extract(tmp, url, ds, absent, dest), timeout)
        paths.update((f.name, got[f.name]) for f in missing)
        return paths
    for i, f in enumerate(missing):
        try:
            paths[f.name] = _download(ds, f, dest, timeout)
        except DownloadError as e:
            raise DownloadError(ds, missing[i:], e.reason) from None
    return paths


def fetch(name: str, download: bool = True, timeout: float = 30.0, files=None) -> dict:
    """Make the files of data set ``name`` available; returns ``{file name: path}``.

    Files already present are verified; missing ones are downloaded into the
    cache when ``download`` (else :class:`DataError` says where to put them).
    ``files``: only these file names (default: all of the data set's files).
    """
    ds = _dataset(name)
    chosen = list(ds.all_files())
    if files is not None:
        wanted = set(files)
        unknown = wanted - {f.name for f in chosen}
        if unknown:
            raise ValueError(f"{ds.name} has no file(s) {sorted(unknown)}; its files: "
                             f"{', '.join(f.name for f in chosen)}")
        chosen = [f for f in chosen if f.name in wanted]
    return _ensure(ds, chosen, download, timeout)


def verify(name: str) -> list[tuple[str, str, str]]:
    """``(file, path or '', status)`` for each file: ``ok``, ``missing`` or ``bad checksum``."""
    ds = _dataset(name)
    out = []
    for f in ds.all_files():
        found = find_file(ds, f)
        if found is None:
            out.append((f.name, "", "missing"))
            continue
        status = "ok" if md5sum(found[0]) == found[1] else "bad checksum"
        out.append((f.name, str(found[0]), status))
    return out


# ------------------------------------------------------------------ load
