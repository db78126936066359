"""The exact text of a key, so a 64-bit hash hit can be confirmed on the real value.

``migrate.validate.keys`` decides on int64 codes; codes of digit strings are exact, but the code of
any other value (and of a composite key) is a hash. Two different keys may share a hash, so before
a hash hit is called a duplicate or a found reference, the key's *text* is compared with the text
stored for the earlier key. The text is injective per key (a tuple of columns is length-prefixed,
a null is its own token), and equal texts mean equal keys in the tracker's sense: a value compares
by its string form, so 12 and "12" meet.

Stored texts go to an append-only file next to the spilled runs (a small buffer stays in memory),
addressed by a *ref*: ``offset << 20 | length``. Reading them back is one ``pread`` per megabyte
block of the file the refs fall in, then one vectorized gather: no Python loop per key.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

_LENGTH_BITS = 20
_LONG = (1 << _LENGTH_BITS) - 1  # length field of a text this long or longer: see `_long`
_FLUSH = 4 << 20                 # bytes kept in memory before they are appended to the file
_BLOCK = 1 << 20                 # refs are read back one file block of this size at a time


def column_text(column: pl.Series) -> pl.Series:
    """A value's string form (``cast(pl.Utf8)``); values with none (nested, non-UTF-8 binary)
    use their Python repr. Nulls stay null."""
    if column.dtype == pl.Utf8:
        return column
    try:
        return column.cast(pl.Utf8)
    except pl.exceptions.PolarsError:
        return pl.Series(column.name, [None if v is None else repr(v) for v in column.to_list()],
                         dtype=pl.Utf8)


def row_texts(frame: pl.DataFrame) -> pl.Series:
    """One text per row, never null, equal exactly when every column's string form is equal.

    One column: the value's text. Several: each column as ``<bytes>:<text>`` or ``-`` for null,
    concatenated, which parses back one way only.
    """
    columns = [column_text(c) for c in frame.get_columns()]
    if len(columns) == 1:
        return columns[0].fill_null("")  # a null key has an exact code: its text is not read
    texts = pl.DataFrame([c.alias(f"c{i}") for i, c in enumerate(columns)])
    pieces = [pl.when(pl.col(name).is_null()).then(pl.lit("-")).otherwise(pl.concat_str(
        pl.col(name).str.len_bytes().cast(pl.Utf8), pl.lit(":"), pl.col(name)))
        for name in texts.columns]
    return texts.select(pl.concat_str(pieces).alias("text")).to_series()


def _large_strings(texts: pl.Series) -> pa.LargeStringArray:
    array = texts.rechunk().to_arrow(compat_level=pl.CompatLevel.oldest())
    if array.type != pa.large_string():
        array = array.cast(pa.large_string())
    return array


class TextStore:
    """Append-only store of key texts; ``add`` returns one ref per text, ``get`` reads them."""

    def __init__(self, directory: Callable[[], Path]):
        self._directory = directory
        self._path: Path | None = None
        self._fd: int | None = None
        self._flushed = 0            # bytes in the file; the buffer holds the bytes after them
        self._buffer = bytearray()
        self._long: dict[int, int] = {}  # offset -> length of texts of _LONG bytes or more

    @property
    def size(self) -> int:
        return self._flushed + len(self._buffer)

    def add(self, texts: pl.Series) -> np.ndarray:
        """Append the texts (none null); their refs, in order."""
        array = _large_strings(texts)
        offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)[
            array.offset:array.offset + len(array) + 1]
        lengths = np.diff(offsets)
        starts = self.size + offsets[:-1] - offsets[0]
        data = array.buffers()[2]
        if data is not None and offsets[-1] > offsets[0]:
            self._buffer += memoryview(data)[int(offsets[0]):int(offsets[-1])]
        long = lengths >= _LONG
        for start, length in zip(starts[long].tolist(), lengths[long].tolist(), strict=True):
            self._long[start] = length
        if len(self._buffer) >= _FLUSH:
            self._flush()
        return (starts << _LENGTH_BITS) | np.minimum(lengths, _LONG)

    def get(self, refs: np.ndarray) -> pl.Series:
        """The texts of ``refs``, in their order."""
        refs = np.asarray(refs, dtype=np.int64)
        starts = refs >> _LENGTH_BITS
        lengths = refs & _LONG
        for i in np.flatnonzero(lengths == _LONG).tolist():
            lengths[i] = self._long[int(starts[i])]
        out = np.zeros(len(refs) + 1, dtype=np.int64)
        np.cumsum(lengths, out=out[1:])
        data = np.empty(int(out[-1]), dtype=np.uint8)
        blocks = starts // _BLOCK
        for block in np.unique(blocks).tolist():
            picked = np.flatnonzero(blocks == block)
            lo = int(starts[picked].min())
            hi = int((starts[picked] + lengths[picked]).max())
            region = np.frombuffer(self._read(lo, hi), dtype=np.uint8)
            sizes = lengths[picked]
            within = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
            data[np.repeat(out[picked], sizes) + within] = \
                region[np.repeat(starts[picked] - lo, sizes) + within]
        array = pa.LargeStringArray.from_buffers(len(refs), pa.py_buffer(out),
                                                 pa.py_buffer(data))
        return pl.Series("text", pl.from_arrow(array), dtype=pl.Utf8)

    def close(self) -> None:
        """Forget every text (the file lives in the tracker's spill directory)."""
        if self._fd is not None:
            self._closer()
        self._fd, self._path = None, None
        self._flushed, self._buffer, self._long = 0, bytearray(), {}

    def _flush(self) -> None:
        if self._fd is None:
            self._path = self._directory() / "keys.text"
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
            self._closer = weakref.finalize(self, os.close, self._fd)
        view = memoryview(self._buffer)
        while view:
            view = view[os.write(self._fd, view):]
        self._flushed += len(self._buffer)
        self._buffer = bytearray()

    def _read(self, lo: int, hi: int) -> bytes:
        """Bytes [lo, hi) of the store, from the file and/or the buffer."""
        parts = []
        if lo < self._flushed:
            end = min(hi, self._flushed)
            assert self._fd is not None
            chunk = os.pread(self._fd, end - lo, lo)
            while len(chunk) < end - lo:  # a short read: ask for the rest
                more = os.pread(self._fd, end - lo - len(chunk), lo + len(chunk))
                if not more:
                    raise EOFError(f"key text file {self._path} is shorter than expected")
                chunk += more
            parts.append(chunk)
        if hi > self._flushed:
            parts.append(bytes(self._buffer[max(lo, self._flushed) - self._flushed:
                                            hi - self._flushed]))
        return b"".join(parts)
