"""Vectorized encoders: typed columns → fixed-width field bytes, the reverse of migrate.decode.

Used by the synthetic-data generator and by exports to a designated fixed-width format.
Every encoder returns a uint8 (n, width) array ready to be placed into the records, and
raises ValueError (naming the first offending row) rather than truncate or wrap a value.
Each is the exact inverse of its decoder for the values it accepts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np

from migrate.decode.numbers import MAX_DIGITS
from migrate.layouts.encodings import supported_encoding
from migrate.layouts.eras import DEFAULT_ERAS, EraTable

_POSITIVE_OVERPUNCH = np.frombuffer(b"{ABCDEFGHI", np.uint8)
_NEGATIVE_OVERPUNCH = np.frombuffer(b"}JKLMNOPQR", np.uint8)
_PACKED_PLUS, _PACKED_MINUS = 0xC, 0xD


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _ints(values: np.ndarray | Sequence[int], what: str = "values") -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{what} must be one-dimensional")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{what} must be integers, got {arr.dtype}")
    return arr.astype(np.int64)


def _digit_matrix(values: np.ndarray, width: int) -> np.ndarray:
    """ASCII digits of non-negative int64 values, right-aligned and zero-padded to width."""
    out = np.full((len(values), width), 0x30, np.uint8)
    rest = values.copy()
    for j in range(width - 1, max(width - 20, -1), -1):  # an int64 has at most 19 digits
        out[:, j] = rest % 10 + 0x30
        rest //= 10
    return out


def _check_range(values: np.ndarray, digits: int, what: str) -> None:
    too_big = np.abs(values) >= 10**digits if digits <= MAX_DIGITS else np.zeros(len(values), bool)
    too_big |= values == np.iinfo(np.int64).min  # np.abs overflows on it
    if too_big.any():
        i = _first(too_big)
        raise ValueError(f"value {i} ({values[i]}) does not fit in {digits} digits of {what}")


def encode_text(
    values: Sequence[str | None],
    width: int,
    *,
    encoding: str = "cp932",
    pad: str = "full",
) -> np.ndarray:
    """Encode strings into width bytes each, padded on the right.

    pad="full" pads with the full-width space (0x81 0x40 in cp932; an odd byte left over is
    0x20), pad="half" with 0x20.  None encodes as all padding.  A value that cannot be
    encoded, holds a line feed, or is longer than width bytes raises ValueError naming its
    index.  Meant for pools of distinct values: callers fancy-index the result.
    """
    if pad not in ("full", "half"):
        raise ValueError(f"pad must be 'full' or 'half', got {pad!r}")
    encoding = supported_encoding(encoding)
    texts = ["" if v is None else v for v in values]
    n = len(texts)
    if n == 0:
        return np.empty((0, width), np.uint8)
    joined = "\n".join(texts)
    if joined.count("\n") != n - 1:
        i = next(i for i, t in enumerate(texts) if "\n" in t)
        raise ValueError(f"value {i} ({texts[i]!r}) contains a line feed")
    try:
        raw = joined.encode(encoding)
    except UnicodeEncodeError as exc:
        i = joined.count("\n", 0, exc.start)
        raise ValueError(f"value {i} ({texts[i]!r}) cannot be encoded in {encoding}") from exc
    unit = np.frombuffer("\u3000".encode(encoding), np.uint8) if pad == "full" else None

    buf = np.frombuffer(raw + b"\n", np.uint8)
    is_sep = buf == 0x0A
    ends = np.flatnonzero(is_sep)
    lengths = np.diff(ends, prepend=-1) - 1
    if (lengths > width).any():
        i = _first(lengths > width)
        raise ValueError(
            f"value {i} ({texts[i]!r}) takes {lengths[i]} bytes in {encoding}, "
            f"more than the field's {width}"
        )
    out = np.full((n, width), 0x20, np.uint8)
    if unit is not None and width:
        rel = np.arange(width) - lengths[:, None]  # position inside the padding
        units = (width - lengths) // len(unit)
        in_units = (rel >= 0) & (rel < (units * len(unit))[:, None])
        out[in_units] = unit[rel[in_units] % len(unit)]
    data = buf[~is_sep]
    rows = np.repeat(np.arange(n), lengths)
    starts = np.cumsum(lengths) - lengths
    cols = np.arange(len(data)) - np.repeat(starts, lengths)
    out[rows, cols] = data
    return out


def encode_digits(ints: np.ndarray | Sequence[int], width: int) -> np.ndarray:
    """Non-negative integers as zero-padded ASCII digits (the form decode_digits reads)."""
    values = _ints(ints)
    if (values < 0).any():
        i = _first(values < 0)
        raise ValueError(f"value {i} ({values[i]}) is negative; a digits field is unsigned")
    _check_range(values, width, "a digits field")
    return _digit_matrix(values, width)


def encode_zoned(ints: np.ndarray | Sequence[int], width: int, signed: bool = True) -> np.ndarray:
    """ASCII zoned decimal; signed fields overpunch the last byte ({A–I positive, }J–R negative).

    Unsigned fields are plain digits and refuse negative values.
    """
    if not 1 <= width <= MAX_DIGITS:
        raise ValueError(f"a zoned field is 1 to {MAX_DIGITS} bytes wide, got {width}")
    values = _ints(ints)
    _check_range(values, width, "a zoned field")
    negative = values < 0
    if not signed and negative.any():
        i = _first(negative)
        raise ValueError(f"value {i} ({values[i]}) is negative; the zoned field is unsigned")
    out = _digit_matrix(np.abs(values), width)
    if signed:
        last = out[:, -1] - 0x30
        out[:, -1] = np.where(negative, _NEGATIVE_OVERPUNCH[last], _POSITIVE_OVERPUNCH[last])
    return out


def encode_packed(ints: np.ndarray | Sequence[int], nbytes: int) -> np.ndarray:
    """Packed decimal (COMP-3): 2 × nbytes − 1 digit nibbles, then sign C (+) or D (−)."""
    digits = 2 * nbytes - 1
    if nbytes < 1 or digits > MAX_DIGITS:
        raise ValueError(f"a packed field is 1 to {(MAX_DIGITS + 1) // 2} bytes, got {nbytes}")
    values = _ints(ints)
    _check_range(values, digits, "a packed field")
    nibbles = np.empty((len(values), 2 * nbytes), np.uint8)
    nibbles[:, :-1] = _digit_matrix(np.abs(values), digits) - 0x30
    nibbles[:, -1] = np.where(values < 0, _PACKED_MINUS, _PACKED_PLUS)
    return (nibbles[:, 0::2] << 4) | nibbles[:, 1::2]


def encode_binary(ints: np.ndarray | Sequence[int], nbytes: int) -> np.ndarray:
    """Big-endian two's complement (COBOL COMP / BINARY), 2, 4 or 8 bytes; at most 18 digits."""
    if nbytes not in (2, 4, 8):
        raise ValueError(f"a binary field is 2, 4 or 8 bytes, got {nbytes}")
    values = _ints(ints)
    limit = min(1 << (8 * nbytes - 1), 10 ** MAX_DIGITS)
    bad = (values >= limit) | (values < -limit)
    if bad.any():
        i = _first(bad)
        raise ValueError(f"value {i} ({values[i]}) does not fit a {nbytes}-byte binary field")
    return values.astype(f">i{nbytes}").view(np.uint8).reshape(len(values), nbytes)


def _date_parts(
    years: np.ndarray | Sequence[int],
    months: np.ndarray | Sequence[int],
    days: np.ndarray | Sequence[int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    y, m, d = _ints(years, "years"), _ints(months, "months"), _ints(days, "days")
    if not len(y) == len(m) == len(d):
        raise ValueError("years, months and days must have the same length")
    none = (y == 0) & (m == 0) & (d == 0)
    bad = ~none & ((m < 0) | (m > 12) | (d < 0) | (d > 31) | ((m == 0) & (d != 0)))
    if bad.any():
        i = _first(bad)
        raise ValueError(f"date {i} ({y[i]}-{m[i]}-{d[i]}) has no valid month/day form")
    return y, m, d, none


def _level_key(y: np.ndarray, m: np.ndarray, d: np.ndarray, known: date) -> tuple:
    """Keys of the dates and of a bound day, both truncated to each row's known precision."""
    key = y * 10000 + m * 100 + d
    bound = np.where(
        m == 0,
        known.year * 10000,
        np.where(d == 0, known.year * 10000 + known.month * 100, _ymd(known)),
    )
    return key, bound


def _ymd(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def encode_wareki(
    years: np.ndarray | Sequence[int],
    months: np.ndarray | Sequence[int],
    days: np.ndarray | Sequence[int],
    eras: EraTable = DEFAULT_ERAS,
    era_codes: Sequence[str] | np.ndarray | None = None,
) -> np.ndarray:
    """Gregorian year/month/day → `GYYMMDD` (G = the era code, eras.code_width bytes).

    Month or day 0 means unknown (不詳) and is written as 00; year, month and day all 0 is
    "no date" (all '0').  With era_codes None the era is picked from the date (on a
    changeover day, the new era); with era_codes given, each row uses its code, even for a
    date outside that era (to make test data).  The era year must be 1–99.  明治1–5 are
    written with the same formula the decoder reads back (they are lunisolar in reality).
    """
    y, m, d, none = _date_parts(years, months, days)
    n = len(y)
    era_index = np.full(n, -1, np.int64)
    if era_codes is None:
        order = sorted(range(len(eras.eras)), key=lambda k: eras.eras[k].first)
        for k in order:  # later eras overwrite: the new era wins on a changeover day
            era = eras.eras[k]
            key, first = _level_key(y, m, d, era.first)
            inside = key >= first
            if era.last is not None:
                _, last = _level_key(y, m, d, era.last)
                inside &= key <= last
            era_index[inside] = k
    else:
        codes = np.asarray(era_codes, dtype=object)
        if codes.shape != (n,):
            raise ValueError("era_codes must have one code per date")
        for k, era in enumerate(eras.eras):
            era_index[codes == era.code] = k
    missing = (era_index < 0) & ~none
    if missing.any():
        i = _first(missing)
        raise ValueError(f"date {i} ({y[i]}-{m[i]}-{d[i]}) has no era in the table")
    first_year = np.array([e.first.year for e in eras.eras], np.int64)[np.maximum(era_index, 0)]
    era_year = np.where(none, 0, y - first_year + 1)
    bad = ~none & ((era_year < 1) | (era_year > 99))
    if bad.any():
        i = _first(bad)
        raise ValueError(f"date {i} ({y[i]}-{m[i]}-{d[i]}): era year {era_year[i]} not in 1-99")
    width = eras.code_width
    code_bytes = np.array([list(e.code.encode("ascii")) for e in eras.eras], np.uint8)
    out = np.empty((n, width + 6), np.uint8)
    out[:, :width] = np.where(none[:, None], 0x30, code_bytes[np.maximum(era_index, 0)])
    out[:, width:] = _digit_matrix(era_year * 10000 + m * 100 + d, 6)
    return out


def encode_ymd(
    years: np.ndarray | Sequence[int],
    months: np.ndarray | Sequence[int],
    days: np.ndarray | Sequence[int],
) -> np.ndarray:
    """Gregorian year/month/day → `YYYYMMDD`; month or day 0 = unknown, all 0 = no date."""
    y, m, d, none = _date_parts(years, months, days)
    bad = ~none & ((y < 1) | (y > 9999))
    if bad.any():
        i = _first(bad)
        raise ValueError(f"date {i}: year {y[i]} not in 1-9999")
    return _digit_matrix(y * 10000 + m * 100 + d, 8)


def encode_ym(years: np.ndarray | Sequence[int], months: np.ndarray | Sequence[int]
              ) -> np.ndarray:
    """Gregorian year/month → `YYYYMM` (賦課年月); month 0 = unknown, both 0 = no date."""
    return np.ascontiguousarray(encode_ymd(years, months, np.zeros(len(years), np.int64))[:, :6])


def encode_md(months: np.ndarray | Sequence[int], days: np.ndarray | Sequence[int]
              ) -> np.ndarray:
    """Month/day → `MMDD` without its year (納期限); both 0 = no date."""
    m, d = np.asarray(months, np.int64), np.asarray(days, np.int64)
    return _digit_matrix(m * 100 + d, 4)
