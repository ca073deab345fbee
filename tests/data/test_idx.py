"""IDX parser: every type code, raw and gzip, and corrupt variants."""
from __future__ import annotations

import gzip

import numpy as np
import pytest

from neuronet.data import IDXError, read_idx, write_idx
from neuronet.data.idx import IDX_TYPES, parse_idx

DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.int16, 0x0C: np.int32, 0x0D: np.float32,
          0x0E: np.float64}


def _handmade(code, arr):
    """Bytes of an IDX file built by hand (independent of write_idx)."""
    head = bytes([0, 0, code, arr.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in arr.shape)
    return head + arr.astype(IDX_TYPES[code]).tobytes()


@pytest.mark.parametrize("code", sorted(DTYPES))
@pytest.mark.parametrize("compress", [False, True])
def test_every_type_code_round_trip(tmp_path, code, compress, rng):
    dt = np.dtype(DTYPES[code])
    if dt.kind == "f":
        arr = rng.standard_normal((3, 4, 5)).astype(dt)
    else:
        info = np.iinfo(dt)
        arr = rng.integers(info.min, info.max, size=(3, 4, 5), endpoint=True).astype(dt)
    raw = _handmade(code, arr)
    path = tmp_path / ("f.idx.gz" if compress else "f.idx")
    path.write_bytes(gzip.compress(raw) if compress else raw)
    got = read_idx(path)
    assert got.dtype == dt and got.dtype.isnative
    np.testing.assert_array_equal(got, arr)
    # write_idx gives the same bytes as the hand-made file
    out = write_idx(tmp_path / "w.idx", arr)
    assert out.read_bytes() == raw


def test_one_dimensional_labels(tmp_path):
    arr = np.arange(10, dtype=np.uint8)
    write_idx(tmp_path / "l.gz", arr)
    np.testing.assert_array_equal(read_idx(tmp_path / "l.gz"), arr)


@pytest.mark.parametrize("mutate, message", [
    (lambda b: b"\x01" + b[1:], "magic"),
    (lambda b: b[:2] + b"\x0a" + b[3:], "type code 0x0A"),
    (lambda b: b[:3] + b"\x00" + b[4:], "0 dimensions"),
    (lambda b: b[:10], "truncated header"),
    (lambda b: b[:-1], "truncated"),
    (lambda b: b + b"\x00", "unexpected bytes"),
    (lambda b: b[:2], "truncated"),
])
def test_corrupt_files_name_the_file(tmp_path, mutate, message):
    raw = _handmade(0x08, np.zeros((2, 3, 3), dtype=np.uint8))
    path = tmp_path / "bad-idx3-ubyte"
    path.write_bytes(mutate(raw))
    with pytest.raises(IDXError, match=message) as e:
        read_idx(path)
    assert str(path) in str(e.value)


def test_truncated_gzip_and_html(tmp_path):
    raw = gzip.compress(_handmade(0x08, np.zeros((50, 28, 28), dtype=np.uint8)))
    p = tmp_path / "t.gz"
    p.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(IDXError, match="gzip.*corrupt or truncated") as e:
        read_idx(p)
    assert str(p) in str(e.value)
    h = tmp_path / "train-images-idx3-ubyte.gz"
    h.write_bytes(b"<!DOCTYPE html><html><body>Forbidden</body></html>")
    with pytest.raises(IDXError, match="HTML page") as e:
        read_idx(h)
    assert str(h) in str(e.value)


def test_missing_file_and_bad_write(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.idx"):
        read_idx(tmp_path / "nope.idx")
    with pytest.raises(TypeError, match="uint8, int8"):
        write_idx(tmp_path / "x.idx", np.zeros(3, dtype=np.uint16))
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_parse_bytes_directly():
    arr = np.arange(6, dtype=np.int32).reshape(2, 3)
    np.testing.assert_array_equal(parse_idx(_handmade(0x0C, arr)), arr)
