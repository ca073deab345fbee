"""The IDX file format of MNIST (LeCun's ``idx1-ubyte``/``idx3-ubyte`` files).

Layout (big-endian)::

    bytes 0-1   zero
    byte  2     type code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                0x0D float32, 0x0E float64
    byte  3     number of dimensions d
    4*d bytes   the sizes, each an unsigned 32-bit integer
    rest        the data, C order, big-endian

Files may be raw or gzip-compressed (``.gz``); compression is detected from the
gzip magic ``1f 8b``, not from the name.  Every check names the file: a wrong
magic number, a truncated header or body, trailing bytes, or an HTML page saved
in place of the data.
"""
from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

__all__ = ["IDXError", "read_idx", "write_idx", "parse_idx", "IDX_TYPES"]

#: type code -> big-endian NumPy dtype
IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_OF = {dt.newbyteorder("=").str[1:]: code for code, dt in IDX_TYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"


class IDXError(ValueError):
    """A file that is not a valid IDX file (the message names the file)."""


def _looks_like_html(head: bytes) -> bool:
    h = head.lstrip()[:15].lower()
    return h.startswith(b"<!doctype") or h.startswith(b"<html") or h.startswith(b"<?xml")


def _decompress(raw: bytes, name: str) -> bytes:
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as e:
        raise IDXError(f"{name}: the gzip data is corrupt or truncated ({e}); "
                       "delete the file and fetch it again") from None


def parse_idx(raw: bytes, name: str = "<bytes>") -> np.ndarray:
    """Parse the bytes of an IDX file (raw or gzip) into a native-endian array."""
    if _looks_like_html(raw[:64]):
        raise IDXError(f"{name}: this is an HTML page, not IDX data (a failed download "
                       "saved as a data file?); delete it and fetch it again")
    data = _decompress(raw, name)
    if len(data) < 4:
        raise IDXError(f"{name}: truncated: {len(data)} bytes, an IDX header needs at least 4")
    if data[0] != 0 or data[1] != 0:
        raise IDXError(f"{name}: bad magic number {data[:4].hex()} (IDX files start with "
                       "two zero bytes); not an IDX file")
    code, ndim = data[2], data[3]
    if code not in IDX_TYPES:
        raise IDXError(f"{name}: unknown IDX type code 0x{code:02X} (expected one of "
                       f"{', '.join(f'0x{c:02X}' for c in IDX_TYPES)})")
    if ndim == 0:
        raise IDXError(f"{name}: IDX header declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IDXError(f"{name}: truncated header: {ndim} dimensions need {header} bytes, "
                       f"the file has {len(data)}")
    shape = tuple(int(s) for s in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_TYPES[code]
    expected = math.prod(shape) * dtype.itemsize  # Python ints: 4 dims of 2**31 do not wrap to 0
    body = len(data) - header
    if body < expected:
        raise IDXError(f"{name}: truncated: shape {shape} of {dtype.newbyteorder('=')} needs "
                       f"{expected} data bytes, the file has {body}")
    if body > expected:
        raise IDXError(f"{name}: {body - expected} unexpected bytes after the data of shape "
                       f"{shape}; the file is corrupt")
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="))  # native order, writable copy


def read_idx(path) -> np.ndarray:
    """Read an IDX file (``.gz`` or raw) into a NumPy array of its type."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"IDX file not found: {path}") from None
    return parse_idx(raw, str(path))


def write_idx(path, array, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file, gzip-compressed when ``compress`` (default: name ends in .gz).

    The file is written under a temporary name and renamed, so it is never half-written.
    """
    path = Path(path)
    arr = np.asarray(array)
    key = arr.dtype.newbyteorder("=").str[1:]
    if key not in _CODE_OF:
        raise TypeError(f"IDX stores uint8, int8, int16, int32, float32 or float64; got {arr.dtype}")
    if arr.ndim == 0 or arr.ndim > 255:
        raise ValueError(f"IDX arrays have 1 to 255 dimensions, got {arr.ndim}")
    code = _CODE_OF[key]
    header = bytes([0, 0, code, arr.ndim]) + np.asarray(arr.shape, dtype=">u4").tobytes()
    payload = header + np.ascontiguousarray(arr, dtype=IDX_TYPES[code]).tobytes()
    if compress is None:
        compress = path.suffix == ".gz"
    if compress:
        payload = gzip.compress(payload, mtime=0)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    try:
        tmp.write_bytes(payload)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
