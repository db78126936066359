"""The result every field decoder returns, and the vectorized builders the decoders share.

A decoder never raises on bad input data: each row gets a value, or an error reason code
(a stable message-catalogue key), and possibly a warning code.  The helpers here turn numpy
arrays (bytes, lengths, validity masks, reason-code indices) into polars Series through
Arrow buffers, so no decoder builds a Python object per row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa

# Reason codes: stable strings, keys of the message catalogue.
UNDECODABLE_BYTES = "undecodable_bytes"
SPLIT_CHARACTER = "split_character"
GAIJI_UNMAPPED = "gaiji_unmapped"
INVALID_CHARACTER = "invalid_character"
INVALID_DIGITS = "invalid_digits"
INVALID_ZONED = "invalid_zoned"
INVALID_PACKED = "invalid_packed"
INVALID_DECIMAL = "invalid_decimal"
INVALID_BINARY = "invalid_binary"
INVALID_DATE = "invalid_date"
UNKNOWN_ERA = "unknown_era"
DATE_OUTSIDE_ERA = "date_outside_era"
# Warning codes (the value is kept).
NON_CALENDAR_DATE = "non_calendar_date"
LUNISOLAR_DATE = "lunisolar_date"

#: Every code, in a fixed order; a code's position + 1 is its index in a reason-code array
#: (0 = no reason).
REASON_CODES: tuple[str, ...] = (
    UNDECODABLE_BYTES,
    SPLIT_CHARACTER,
    GAIJI_UNMAPPED,
    INVALID_CHARACTER,
    INVALID_DIGITS,
    INVALID_ZONED,
    INVALID_PACKED,
    INVALID_DATE,
    UNKNOWN_ERA,
    DATE_OUTSIDE_ERA,
    NON_CALENDAR_DATE,
    LUNISOLAR_DATE,
    INVALID_DECIMAL,
    INVALID_BINARY,
)
_CODE_INDEX = {code: i + 1 for i, code in enumerate(REASON_CODES)}


_INDEX_TO_CODE = {i + 1: code for i, code in enumerate(REASON_CODES)}


def code_index(code: str) -> int:
    """The index of a reason code in a reason-code array (see `reason_series`)."""
    return _CODE_INDEX[code]


@dataclass(frozen=True)
class FieldResult:
    """One decoded field column.

    values:   length n; null where the row has an error or holds "no value".
    errors:   Utf8, length n; a reason code, or null when the row is fine.
    warnings: Utf8, length n; a reason code for a value kept with a warning, else null.
    """

    values: pl.Series
    errors: pl.Series
    warnings: pl.Series

    def __post_init__(self) -> None:
        n = len(self.values)
        if len(self.errors) != n or len(self.warnings) != n:
            raise ValueError("values, errors and warnings must have the same length")
        if self.errors.dtype != pl.Utf8 or self.warnings.dtype != pl.Utf8:
            raise TypeError("errors and warnings must be Utf8 series")


def as_cells(cells: np.ndarray, contiguous: bool = True) -> np.ndarray:
    """Check and return a uint8 (n, width) array of field bytes (C-contiguous by default;
    callers that copy the cells anyway pass contiguous=False to skip a copy of a strided view)."""
    arr = np.asarray(cells)
    if arr.dtype != np.uint8:
        raise TypeError(f"field cells must be uint8, got {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"field cells must have shape (n, width), got {arr.shape}")
    if not contiguous or arr.flags.c_contiguous:
        return arr
    return copy_rows(arr)


def copy_rows(cells: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """A C-contiguous copy of a (n, width) uint8 array (into `out`, which may be wider).

    A field's cells are a strided view of the records; numpy copies such a view byte run by
    byte run, about three times slower than when each row is viewed as one `width`-byte item.
    """
    n, width = cells.shape
    if out is None:
        out = np.empty((n, width), np.uint8)
    if width == 0 or n == 0:
        return out
    if cells.strides[1] != 1 or out.strides[1] != 1:
        out[:, :width] = cells
        return out
    out[:, :width].view(f"V{width}")[:] = cells.view(f"V{width}")
    return out


def _validity(valid: np.ndarray | None) -> pa.Buffer | None:
    if valid is None or bool(valid.all()):
        return None
    return pa.py_buffer(np.packbits(valid, bitorder="little"))


def reason_series(codes: np.ndarray) -> pl.Series:
    """Utf8 series from an array of reason-code indices (0 = null, i = REASON_CODES[i-1])."""
    codes = np.asarray(codes)
    n = len(codes)
    if n == 0 or not codes.any():
        return pl.repeat(None, n, dtype=pl.Utf8, eager=True).alias("")
    return pl.Series("", codes.astype(np.uint8)).replace_strict(
        _INDEX_TO_CODE, default=None, return_dtype=pl.Utf8)


def strings_from_fixed(chars: np.ndarray, lengths: np.ndarray, valid: np.ndarray) -> pl.Series:
    """Utf8 series whose row i is the first lengths[i] bytes of chars[i] (UTF-8), or null.

    chars is a uint8 (n, k) array; rows where valid is False become null.
    """
    chars = np.ascontiguousarray(chars, dtype=np.uint8)
    n, k = chars.shape
    lengths = np.where(valid, lengths, 0).astype(np.int64)
    keep = np.arange(k) < lengths[:, None]
    data = chars[keep]
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    arr = pa.LargeStringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(data), _validity(valid)
    )
    return pl.Series("", pl.from_arrow(arr)).cast(pl.Utf8)


def int_series(values: np.ndarray, valid: np.ndarray, scale: int) -> pl.Series:
    """Exact numeric series from unscaled int64 values.

    scale == 0 gives pl.Int64; scale > 0 gives pl.Decimal(18, scale) built from an int128
    buffer, so 12 with scale 2 is exactly Decimal('0.12') (no float anywhere).
    """
    values = np.ascontiguousarray(values, dtype=np.int64)
    values = np.where(valid, values, 0)
    n = len(values)
    if scale == 0:
        arr = pa.Array.from_buffers(pa.int64(), n, [_validity(valid), pa.py_buffer(values)])
        return pl.Series("", pl.from_arrow(arr))
    int128 = np.empty((n, 2), np.int64)  # little-endian: low word, then sign extension
    int128[:, 0] = values
    int128[:, 1] = values >> 63
    arr = pa.Array.from_buffers(
        pa.decimal128(18, scale), n, [_validity(valid), pa.py_buffer(int128)]
    )
    return pl.Series("", pl.from_arrow(arr))


def check_scale(scale: int) -> None:
    """Reject a scale the exact Decimal(18, scale) output cannot hold."""
    if not 0 <= scale <= 18:
        raise ValueError(f"scale must be between 0 and 18, got {scale}")


def null_reasons(n: int) -> pl.Series:
    """An all-null Utf8 series of length n (no errors / no warnings)."""
    return pl.repeat(None, n, dtype=pl.Utf8, eager=True).alias("")
