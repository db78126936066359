"""The one-pass decoder of Shift_JIS-family text columns (cp932 first of all), compiled.

Python's codec decodes a column's bytes fast, but the text then needs three more passes in
Python's objects or Arrow's kernels: re-encoded to UTF-8, padding stripped, and searched for
control and private-use characters. `decode_dbcs_column` in `_native.c` does it in one pass
per column: lookup tables built here from Python's own codec (so a cell decodes exactly as
`bytes.decode` would), UTF-8 written in place, padding stripped, and every cell the tables
cannot settle alone (undecodable, split at the field end, control or private-use characters)
flagged for migrate.decode.text to decode the Python way, one by one, with its precise reason.
Without the compiled library (migrate.decode.native) decode_text does all the work in Python.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np

from migrate.decode import native

ENCODINGS = frozenset({"cp932", "shift_jis", "shift_jis_2004", "shift_jisx0213"})
LEAD_BYTE, SUSPECT = 0x40, 0x80
_SUSPECT_RE = re.compile("[\x00-\x1f\x7f-\x9f\ue000-\uf8ff\U000f0000-\U0010ffff]")


def available(encoding: str = "cp932") -> bool:
    """Whether the compiled decoder is loaded and handles this (codec-named) encoding."""
    return encoding in ENCODINGS and native.library() is not None


def _entry(text: str) -> bytes:
    data = text.encode("utf-8")
    if not 0 < len(data) <= 7:
        return bytes(8)  # not one table entry: the caller decodes the cell itself
    info = len(data) | (SUSPECT if _SUSPECT_RE.search(text) else 0)
    return bytes([info]) + data + bytes(7 - len(data))


@cache
def tables(encoding: str) -> tuple[np.ndarray, np.ndarray]:
    """(single, pair): 256 and 65,536 entries of 8 bytes, each byte and byte pair decoded by
    Python's codec (see `_native.c` for the entry format)."""
    single = np.zeros((256, 8), np.uint8)
    pair = np.zeros((256 * 256, 8), np.uint8)
    for first in range(256):
        try:
            single[first] = np.frombuffer(_entry(bytes([first]).decode(encoding)), np.uint8)
            continue
        except UnicodeDecodeError:
            pass
        for second in range(256):
            try:
                text = bytes([first, second]).decode(encoding)
            except UnicodeDecodeError:
                continue
            # the first byte does not decode alone: the two are one character
            pair[first * 256 + second] = np.frombuffer(_entry(text), np.uint8)
            single[first, 0] = LEAD_BYTE
    return single, pair


def decode_column(cells: np.ndarray, encoding: str, strip: str
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(UTF-8 bytes, n+1 offsets, flags) of an (n, width) uint8 column: each cell
    decoded and its padding stripped ("both", "full", "half" or "none"); a flagged cell is
    empty here and must be decoded by the caller."""
    library = native.library()
    assert library is not None and encoding in ENCODINGS, "check available() first"
    n, width = cells.shape
    single, pair = tables(encoding)
    out = np.empty(max(3 * n * width, 1), np.uint8)  # at most 3 UTF-8 bytes an input byte
    offsets = np.empty(n + 1, np.int64)
    flags = np.empty(n, np.uint8)
    used = library.decode_dbcs_column(
        np.ascontiguousarray(cells), n, width, single, pair, int(strip in ("both", "half")),
        int(strip in ("both", "full")), out, offsets, flags)
    return out[:used], offsets, flags
