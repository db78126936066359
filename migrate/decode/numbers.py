"""Decode digit, zoned-decimal, packed-decimal (COMP-3) and binary (COMP) columns with numpy,
exactly.

Numbers are built as unscaled int64 from the digit bytes/nibbles (a loop over the field's
columns, vectorized over the rows) and returned as Int64, or as Decimal(18, scale) built from
the unscaled integers: no float is involved anywhere.  18 digits is the most an int64 holds
without overflow; wider fields are refused with a ValueError (the layout loader is meant to
reject them first) instead of overflowing silently.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from migrate.decode.result import (
    INVALID_BINARY,
    INVALID_DECIMAL,
    INVALID_DIGITS,
    INVALID_PACKED,
    INVALID_ZONED,
    FieldResult,
    as_cells,
    check_scale,
    code_index,
    int_series,
    null_reasons,
    reason_series,
    strings_from_fixed,
)

MAX_DIGITS = 18

# Zoned decimal, last byte: digit value and sign per byte (IBM overpunch convention).
_ZONED_DIGIT = np.full(256, -1, np.int8)
_ZONED_NEG = np.zeros(256, bool)
_ZONED_DIGIT[0x30:0x3A] = np.arange(10)
_ZONED_DIGIT[ord("{")] = 0
_ZONED_DIGIT[ord("A") : ord("I") + 1] = np.arange(1, 10)
_ZONED_DIGIT[ord("}")] = 0
_ZONED_DIGIT[ord("J") : ord("R") + 1] = np.arange(1, 10)
_ZONED_NEG[ord("}")] = True
_ZONED_NEG[ord("J") : ord("R") + 1] = True

# Packed decimal sign nibble: C, A, F, E positive; D, B negative; anything else invalid.
_PACKED_SIGN = np.zeros(16, np.int8)
_PACKED_SIGN[[0xA, 0xC, 0xE, 0xF]] = 1
_PACKED_SIGN[[0xB, 0xD]] = -1

# Packed decimal digit bytes: the two digits' value 0–99, or -1 when a nibble is above 9.
_PACKED_PAIR = np.array([(b >> 4) * 10 + (b & 0x0F) if b >> 4 <= 9 and b & 0x0F <= 9 else -1
                         for b in range(256)], np.int64)

# Decimal text: the only bytes a valid cell can hold.
_DECIMAL_BYTES = np.zeros(256, bool)
_DECIMAL_BYTES[list(b" +-.0123456789")] = True


def _horner(digits: np.ndarray) -> np.ndarray:
    """Unscaled int64 value of an (n, k) array of digit values 0–9 (k <= 18)."""
    value = np.zeros(digits.shape[0], np.int64)
    for j in range(digits.shape[1]):
        value = value * 10 + digits[:, j]
    return value


def _check_width(digits: int, what: str) -> None:
    if digits > MAX_DIGITS:
        raise ValueError(
            f"{what} holds {digits} digits; at most {MAX_DIGITS} fit in an int64 "
            "(the layout must not declare a wider numeric field)"
        )


def decode_digits(cells: np.ndarray) -> FieldResult:
    """ASCII digits kept as text (leading zeros kept); trailing spaces stripped.

    All spaces → null; any other byte (including a space before a digit) → invalid_digits.
    """
    cells = as_cells(cells)
    n, width = cells.shape
    is_digit = (cells >= 0x30) & (cells <= 0x39)
    non_space = cells != 0x20
    # length = 1 + position of the last non-space byte (0 when all spaces)
    length = np.zeros(n, np.int64)
    if width:
        last = width - np.argmax(non_space[:, ::-1], axis=1)
        length = np.where(non_space.any(axis=1), last, 0)
    inside = np.arange(width) < length[:, None]
    bad = (inside & ~is_digit).any(axis=1)
    valid = ~bad & (length > 0)
    reasons = np.where(bad, code_index(INVALID_DIGITS), 0).astype(np.uint8)
    values = strings_from_fixed(cells, length, valid)
    return FieldResult(values, reason_series(reasons), null_reasons(n))


def decode_zoned(cells: np.ndarray, *, scale: int = 0) -> FieldResult:
    """ASCII zoned decimal with the sign overpunched on the last byte.

    Last byte: 0–9 positive, '{' and A–I = +0..+9, '}' and J–R = −0..−9; the other bytes
    must be digits.  All spaces → null; anything else → invalid_zoned.
    Values: Int64 when scale == 0, else Decimal(18, scale).
    """
    check_scale(scale)
    cells = as_cells(cells)
    n, width = cells.shape
    _check_width(width, f"a zoned field of {width} bytes")
    if width == 0:
        raise ValueError("a zoned field needs at least one byte")
    blank = (cells == 0x20).all(axis=1)
    head = cells[:, :-1].astype(np.int16) - 0x30
    last = cells[:, -1]
    last_digit = _ZONED_DIGIT[last]
    ok = ((head >= 0) & (head <= 9)).all(axis=1) & (last_digit >= 0)
    digits = np.empty((n, width), np.int64)
    digits[:, :-1] = np.clip(head, 0, 9)
    digits[:, -1] = np.maximum(last_digit, 0)
    value = _horner(digits)
    value = np.where(_ZONED_NEG[last], -value, value)
    valid = ok & ~blank
    reasons = np.where(~ok & ~blank, code_index(INVALID_ZONED), 0).astype(np.uint8)
    return FieldResult(int_series(value, valid, scale), reason_series(reasons), null_reasons(n))


def decode_packed(cells: np.ndarray, *, scale: int = 0) -> FieldResult:
    """Packed decimal (COMP-3): two digit nibbles per byte, the last nibble is the sign.

    Sign C/A/F/E = +, D/B = −; a digit nibble above 9 or a sign nibble 0–9 → invalid_packed.
    There is no "no value" form.  Values: Int64 when scale == 0, else Decimal(18, scale).
    """
    check_scale(scale)
    cells = as_cells(cells)
    n, nbytes = cells.shape
    if nbytes == 0:
        raise ValueError("a packed field needs at least one byte")
    _check_width(2 * nbytes - 1, f"a packed field of {nbytes} bytes")
    # two digits a byte, read through a table (-1: a nibble above 9), then the last byte's
    # digit and sign: half the arithmetic of nibble by nibble
    pairs = _PACKED_PAIR[cells[:, :-1]]
    last = cells[:, -1]
    last_digit = (last >> 4).astype(np.int64)
    sign = _PACKED_SIGN[last & 0x0F]
    ok = (pairs >= 0).all(axis=1) & (last_digit <= 9) & (sign != 0)
    value = np.zeros(n, np.int64)
    for j in range(nbytes - 1):
        value = value * 100 + np.maximum(pairs[:, j], 0)
    value = (value * 10 + np.minimum(last_digit, 9)) * sign
    reasons = np.where(ok, 0, code_index(INVALID_PACKED)).astype(np.uint8)
    return FieldResult(int_series(value, ok, scale), reason_series(reasons), null_reasons(n))


def decode_binary(cells: np.ndarray, *, scale: int = 0) -> FieldResult:
    """Big-endian two's-complement integers of 2, 4 or 8 bytes (COBOL COMP, COMP-4, BINARY on
    a host). An unsigned PIC 9(n) COMP field reads the same, as its value never reaches the
    sign bit. Every bit pattern is a number, so there is no blank form and no error, except a
    doubleword beyond 18 digits (which neither int64 arithmetic downstream nor
    Decimal(18, scale) holds): invalid_binary.
    Values: Int64 when scale == 0, else Decimal(18, scale).
    """
    check_scale(scale)
    cells = as_cells(cells)
    n, nbytes = cells.shape
    if nbytes not in (2, 4, 8):
        raise ValueError(f"a binary field is 2, 4 or 8 bytes, got {nbytes}")
    value = np.ascontiguousarray(cells).view(f">i{nbytes}").reshape(n).astype(np.int64)
    ok = np.abs(value) < 10 ** MAX_DIGITS if nbytes == 8 else np.ones(n, bool)
    reasons = np.where(ok, 0, code_index(INVALID_BINARY)).astype(np.uint8)
    return FieldResult(int_series(value, ok, scale), reason_series(reasons), null_reasons(n))


def decode_decimal(cells: np.ndarray, *, scale: int = 0) -> FieldResult:
    """A number written as text, as CSV exports have it: optional sign, digits, and at most
    `scale` decimals (`-1200`, `12.50`); spaces around it are ignored.

    All spaces → null; anything else (thousands separators, more decimals than the scale, which
    a plain cast would silently round away, any byte that is not a sign, digit, point or space)
    → invalid_decimal. With scale 18 the integer part can only be 0.
    Values: Int64 when scale == 0, else Decimal(18, scale).
    """
    check_scale(scale)
    cells = as_cells(cells)
    n, width = cells.shape
    # Only rows made of these bytes become strings: any other byte (non-ASCII, or bytes that
    # are not UTF-8 at all) makes the row invalid before polars sees it.
    plain = _DECIMAL_BYTES[cells].all(axis=1)
    text = strings_from_fixed(cells, np.full(n, width, np.int64), plain).str.strip_chars(" ")
    fraction = rf"(\.[0-9]{{1,{scale}}})?" if scale else ""
    integer = rf"[0-9]{{1,{MAX_DIGITS - scale}}}" if scale < MAX_DIGITS else "0"
    blank = (text.str.len_bytes() == 0).fill_null(False)
    ok = (text.str.contains(rf"^[+-]?{integer}{fraction}$") & ~blank).fill_null(False)
    target = pl.Int64() if scale == 0 else pl.Decimal(18, scale)
    values = \
        pl.select(pl.when(pl.lit(ok)).then(pl.lit(text)).otherwise(None)).to_series() \
        .cast(target)
    bad = (~ok & ~blank).to_numpy()
    reasons = np.where(bad, code_index(INVALID_DECIMAL), 0).astype(np.uint8)
    return FieldResult(values.alias(""), reason_series(reasons), null_reasons(n))
