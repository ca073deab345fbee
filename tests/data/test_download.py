"""The data-set registry beyond MNIST: tiny-shakespeare and MUTAG are found,
verified and downloaded like MNIST. Downloads come from a local HTTP server
(127.0.0.1) serving copies of the real files, so the real download code runs."""
from __future__ import annotations

import dataclasses
import functools
import http.server
import threading
import zipfile

import pytest

from neuronet import data as D
from neuronet.cli import main
from neuronet.data.graphs import load_tu

MUTAG_FILES = [f.name for f in D.DATASETS["mutag"].all_files()]


@pytest.fixture
def server(tmp_path, monkeypatch):
    """``(folder, base url)``: whatever is put into ``folder`` is served over HTTP."""
    root = tmp_path / "served"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def empty_places(tmp_path, monkeypatch):
    """No data anywhere: an empty NEURONET_DATA and an empty cache; returns the cache."""
    monkeypatch.setenv("NEURONET_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "neuronet"


def _mirror(monkeypatch, name, base):
    """Point data set ``name`` at the local server (same files, same checksums)."""
    monkeypatch.setitem(D.DATASETS, name, dataclasses.replace(D.DATASETS[name], mirrors=(base,)))


def _mutag_zip(data_dir, path, extra=None, corrupt=None):
    """A copy of MUTAG.zip's layout (MUTAG/<file>) built from the real files."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("MUTAG/", "")
        for name in MUTAG_FILES:
            payload = (data_dir / "mutag" / name).read_bytes()
            if name == corrupt:
                payload = payload[:-1] + b"9"
            z.writestr(f"MUTAG/{name}", payload)
        for member, payload in (extra or {}).items():
            z.writestr(member, payload)


def _names(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_registry_covers_every_data_set(data_dir, monkeypatch, tmp_path):
    assert set(D.DATASETS) == {"mnist", "fashion-mnist", "tinyshakespeare", "mutag"}
    monkeypatch.setenv("NEURONET_DATA", str(data_dir))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in ("tinyshakespeare", "mutag"):
        rows = D.verify(name)
        assert [r[2] for r in rows] == ["ok"] * len(rows), rows
        assert all(r[1].startswith(str(data_dir / name)) for r in rows)
    text = D.load_tinyshakespeare(download=False)
    assert len(text) == 1115394 and text.startswith("First Citizen:")
    ds = load_tu("MUTAG", download=False)
    assert len(ds) == 188 and ds.node_features.shape == (3371, 7)
    assert not (tmp_path / "cache").exists()  # found in NEURONET_DATA: nothing downloaded


def test_missing_files_name_the_files_and_the_folder(empty_places, tmp_path):
    with pytest.raises(D.DataError) as e:
        D.load_tinyshakespeare(download=False)
    msg = str(e.value)
    assert "input.txt" in msg and str(tmp_path / "data" / "tinyshakespeare") in msg
    assert "neuronet data fetch tinyshakespeare" in msg
    with pytest.raises(D.DataError) as e:
        load_tu("MUTAG", download=False)
    msg = str(e.value)
    assert "MUTAG_A.txt" in msg and "MUTAG_graph_labels.txt" in msg
    assert str(tmp_path / "data" / "mutag") in msg and "MUTAG.zip" in msg
    with pytest.raises(ValueError, match="IDX image sets"):
        D.load_dataset("mutag")
    with pytest.raises(ValueError, match="no file"):
        D.fetch("mutag", files=["MUTAG_B.txt"])


def test_tinyshakespeare_download_and_bad_checksum(data_dir, server, empty_places, monkeypatch):
    root, base = server
    _mirror(monkeypatch, "tinyshakespeare", base)
    good = (data_dir / "tinyshakespeare" / "input.txt").read_bytes()
    (root / "input.txt").write_bytes(good[:-100])  # a truncated copy: refused, nothing left
    with pytest.raises(D.DataError, match="MD5") as e:
        D.load_tinyshakespeare()
    assert "input.txt" in str(e.value)
    assert _names(empty_places / "tinyshakespeare") == []
    (root / "input.txt").write_bytes(good)
    text = D.load_tinyshakespeare()
    assert len(text) == 1115394
    assert _names(empty_places / "tinyshakespeare") == ["input.txt"]
    (root / "input.txt").unlink()  # now found in the cache, verified, not downloaded again
    assert D.load_tinyshakespeare(download=False) == text


def test_mutag_download_extracts_verified_files(data_dir, server, empty_places, monkeypatch):
    root, base = server
    _mirror(monkeypatch, "mutag", base)
    _mutag_zip(data_dir, root / "MUTAG.zip", extra={"MUTAG/other.txt": "not ours"})
    ds = load_tu("MUTAG")  # needs four files; the archive gives all six
    assert len(ds) == 188 and ds.classes == [-1, 1]
    assert _names(empty_places / "mutag") == sorted(MUTAG_FILES)  # no temp file, no other.txt
    (root / "MUTAG.zip").unlink()
    assert len(load_tu("mutag", download=False)) == 188


def test_mutag_bad_member_leaves_nothing(data_dir, server, empty_places, monkeypatch):
    root, base = server
    _mirror(monkeypatch, "mutag", base)
    _mutag_zip(data_dir, root / "MUTAG.zip", corrupt="MUTAG_graph_labels.txt")
    with pytest.raises(D.DataError, match="MUTAG_graph_labels.txt: MD5"):
        D.fetch("mutag")
    assert _names(empty_places / "mutag") == []


@pytest.mark.parametrize("member", ["../evil.txt", "MUTAG/../../evil.txt", "/tmp/evil.txt",
                                    "MUTAG\\..\\evil.txt"])
def test_mutag_zip_with_unsafe_member_is_refused(data_dir, server, empty_places, monkeypatch,
                                                 tmp_path, member):
    root, base = server
    _mirror(monkeypatch, "mutag", base)
    _mutag_zip(data_dir, root / "MUTAG.zip", extra={member: "pwned"})
    with pytest.raises(D.DataError, match="unsafe member name"):
        D.fetch("mutag")
    assert _names(empty_places / "mutag") == []
    assert not (empty_places / "evil.txt").exists() and not (tmp_path / "cache" / "evil.txt").exists()


def test_cli_fetch_covers_all_and_reports_failures(data_dir, server, empty_places, monkeypatch,
                                                   capsys):
    """`neuronet data fetch` with NEURONET_DATA complete downloads nothing; with a
    data set unobtainable it still fetches the others and exits 1."""
    monkeypatch.setenv("NEURONET_DATA", str(data_dir))
    assert main(["data", "fetch"]) == 0
    out = capsys.readouterr().out
    for name in D.DATASETS:
        assert f"{name} " in out
    assert out.count(" ok ") == 15 and not empty_places.exists()
    root, base = server
    monkeypatch.setenv("NEURONET_DATA", str(empty_places.parent / "nothing"))
    _mirror(monkeypatch, "tinyshakespeare", base)
    _mirror(monkeypatch, "mutag", base)
    _mutag_zip(data_dir, root / "MUTAG.zip")
    assert main(["data", "fetch", "mutag"]) == 0
    assert _names(empty_places / "mutag") == sorted(MUTAG_FILES)
    capsys.readouterr()
    assert main(["data", "verify", "mutag"]) == 0
    assert capsys.readouterr().out.count(" ok ") == len(MUTAG_FILES)
    assert main(["data", "fetch", "tinyshakespeare"]) == 1  # not served
    assert "input.txt" in capsys.readouterr().err
