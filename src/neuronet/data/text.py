"""Character-level text for recurrent language models (MISSION D7).

A text becomes a stream of integer codes (:class:`CharVocab`); the stream is cut
into ``N`` parallel streams (:func:`batchify`, shape ``(L, N)``) which are read in
consecutive windows of ``T`` steps (:func:`stream_chunks`): the window ``k`` of
every stream continues exactly where window ``k − 1`` stopped, so a stateful
recurrent layer can carry its state from chunk to chunk (truncated BPTT).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..backend import get_default_dtype
from ..validation import check_int, check_ndim
from .download import fetch
from .registry import DataError

__all__ = ["CharVocab", "load_text", "load_tinyshakespeare", "batchify", "stream_chunks", "one_hot"]


class CharVocab:
    """The sorted set of characters of a text; ``encode``/``decode`` map between text
    and codes ``0..V−1``. JSON-friendly: ``CharVocab(vocab.chars)`` rebuilds it (store
    ``vocab.chars`` beside a model to sample from it later)."""

    def __init__(self, chars):
        chars = "".join(chars) if not isinstance(chars, str) else chars
        if not chars:
            raise ValueError("a vocabulary needs at least one character, got an empty one")
        if len(set(chars)) != len(chars):
            raise ValueError("vocabulary characters must be distinct")
        self.chars = chars
        self._index = {c: i for i, c in enumerate(chars)}

    @classmethod
    def from_text(cls, text: str) -> "CharVocab":
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        return cls("".join(sorted(set(text))))

    @property
    def size(self) -> int:
        return len(self.chars)

    def __len__(self):
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """Codes of ``text`` as an int32 array; unknown characters raise ``ValueError``."""
        try:
            return np.fromiter((self._index[c] for c in text), dtype=np.int32, count=len(text))
        except KeyError as e:
            raise ValueError(f"character {e.args[0]!r} is not in the vocabulary") from None

    def decode(self, codes) -> str:
        codes = np.asarray(codes)
        if codes.size and (codes.min() < 0 or codes.max() >= self.size):
            raise ValueError(f"codes must be in [0, {self.size}), got values in "
                             f"[{codes.min()}, {codes.max()}]")
        return "".join(self.chars[int(i)] for i in codes.ravel())

    def __repr__(self):
        return f"CharVocab(size={self.size})"


def load_text(path) -> str:
    """The contents of a UTF-8 text file, with a clear error when it is missing."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"text file not found: {path}")
    return path.read_text(encoding="utf-8")


def load_tinyshakespeare(path=None, download: bool = True) -> str:
    """Karpathy's tiny-shakespeare (1 115 394 characters, 65 distinct).

    ``input.txt`` from ``$NEURONET_DATA/tinyshakespeare`` or the cache
    ``~/.cache/neuronet/tinyshakespeare``, MD5-checked; when missing it is
    downloaded into the cache (``download=False``: a :class:`DataError` says
    where to put it).  ``path``: read that file instead.
    """
    if path is not None:
        return load_text(path)
    return load_text(fetch("tinyshakespeare", download=download)["input.txt"])


def batchify(codes, n_streams: int) -> np.ndarray:
    """Cut a 1-D stream of length ``L·N + r`` into ``N`` consecutive pieces as the
    columns of an ``(L, N)`` array (the remainder ``r`` is dropped): column ``n`` is
    ``codes[n·L:(n+1)·L]``."""
    codes = np.asarray(codes)
    check_ndim(codes, 1, "codes", "(L,)")
    n = check_int(n_streams, "n_streams", minimum=1)
    L = codes.shape[0] // n
    if L < 2:
        raise ValueError(f"a stream of {codes.shape[0]} codes is too short for {n} streams "
                         "(each needs at least 2: an input and its next-step target)")
    return np.ascontiguousarray(codes[:L * n].reshape(n, L).T)


def stream_chunks(streams, seq_len: int, offset: int = 0):
    """Consecutive windows of the ``(L, N)`` streams: yields ``(x, y)`` of shape
    ``(T, N)`` with ``y`` the next code of every ``x`` (``y_t = x_{t+1}``); the last
    window may be shorter. ``offset`` skips that many steps (resuming mid-epoch)."""
    streams = np.asarray(streams)
    check_ndim(streams, 2, "streams", "(L, N)")
    T = check_int(seq_len, "seq_len", minimum=1)
    L = streams.shape[0]
    for start in range(check_int(offset, "offset", minimum=0), L - 1, T):
        stop = min(start + T, L - 1)
        yield streams[start:stop], streams[start + 1:stop + 1]


def one_hot(codes, n_classes: int, dtype=None) -> np.ndarray:
    """``codes`` of any shape → rows of the identity, shape ``codes.shape + (V,)``."""
    codes = np.asarray(codes)
    V = check_int(n_classes, "n_classes", minimum=1)
    if codes.size and (codes.min() < 0 or codes.max() >= V):
        raise ValueError(f"codes must be in [0, {V}), got values in [{codes.min()}, {codes.max()}]")
    out = np.zeros(codes.shape + (V,), dtype=get_default_dtype() if dtype is None else dtype)
    np.put_along_axis(out, codes[..., None].astype(np.intp), 1, axis=-1)
    return out
