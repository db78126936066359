"""decode_digits, decode_zoned, decode_packed, decode_decimal: vectorized, exact, against
per-value references; and on arbitrary bytes, one value or reason per row (fuzz)."""

from __future__ import annotations

import re
from decimal import Decimal

import numpy as np
import polars as pl
import pytest
from fuzz.budget import fuzz_settings
from fuzz.cells import cell_arrays, check_one_per_row
from hypothesis import given, settings
from hypothesis import strategies as st

from migrate.decode import decode_decimal, decode_digits, decode_packed, decode_zoned


def cells(rows: list[bytes]) -> np.ndarray:
    width = len(rows[0]) if rows else 0
    return np.frombuffer(b"".join(rows), np.uint8).reshape(len(rows), width)


def scaled(unscaled: int, scale: int) -> int | Decimal:
    return unscaled if scale == 0 else Decimal(unscaled).scaleb(-scale)


# ---------------------------------------------------------------- references (per value)


def ref_digits(cell: bytes) -> tuple[str | None, str | None]:
    text = cell.decode("latin-1").rstrip(" ")
    if not text:
        return None, None
    if all("0" <= c <= "9" for c in text):
        return text, None
    return None, "invalid_digits"


def ref_zoned(cell: bytes, scale: int) -> tuple[int | Decimal | None, str | None]:
    text = cell.decode("latin-1")
    if text.strip(" ") == "":
        return None, None
    head, last = text[:-1], text[-1]
    if not all("0" <= c <= "9" for c in head):
        return None, "invalid_zoned"
    positive, negative = "{ABCDEFGHI", "}JKLMNOPQR"
    if "0" <= last <= "9":
        sign, digit = 1, int(last)
    elif last in positive:
        sign, digit = 1, positive.index(last)
    elif last in negative:
        sign, digit = -1, negative.index(last)
    else:
        return None, "invalid_zoned"
    return scaled(sign * int(head + str(digit)), scale), None


def ref_packed(cell: bytes, scale: int) -> tuple[int | Decimal | None, str | None]:
    nibbles = cell.hex()
    digits, sign = nibbles[:-1], nibbles[-1]
    if not digits.isdigit() and digits != "":
        return None, "invalid_packed"
    if sign in "cafe":
        factor = 1
    elif sign in "db":
        factor = -1
    else:
        return None, "invalid_packed"
    return scaled(factor * int(digits or "0"), scale), None


# ---------------------------------------------------------------- digits


def test_digits_cases() -> None:
    rows = [
        b"000120  ",
        b"        ",
        b" 12     ",
        b"12 3    ",
        b"12A     ",
        b"12345678",
        b"\xef\xbc\x91   "[:8],
    ]
    result = decode_digits(cells([r.ljust(8)[:8] for r in rows]))
    assert result.values.dtype == pl.Utf8
    assert result.values.to_list() == ["000120", None, None, None, None, "12345678", None]
    assert result.errors.to_list() == [
        None,
        None,
        "invalid_digits",
        "invalid_digits",
        "invalid_digits",
        None,
        "invalid_digits",
    ]


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 12).flatmap(
        lambda w: st.lists(
            st.one_of(
                st.binary(min_size=w, max_size=w),
                st.text("0123456789 ", min_size=w, max_size=w).map(str.encode),
            ),
            max_size=20,
        ).map(lambda rows: (w, rows))
    )
)
def test_digits_equal_reference(case) -> None:
    width, rows = case
    result = decode_digits(np.frombuffer(b"".join(rows), np.uint8).reshape(len(rows), width))
    expected = [ref_digits(r) for r in rows]
    assert result.values.to_list() == [v for v, _ in expected]
    assert result.errors.to_list() == [e for _, e in expected]


# ---------------------------------------------------------------- zoned


def test_zoned_dtypes_and_exact_decimals() -> None:
    result = decode_zoned(cells([b"0012", b"001}", b"999I", b"    "]), scale=2)
    assert result.values.dtype == pl.Decimal(18, 2)
    assert result.values.to_list() == [Decimal("0.12"), Decimal("-0.10"), Decimal("99.99"), None]
    assert result.values[0] == Decimal("0.12")
    assert str(result.values[0]) == "0.12"  # exact, at the field's scale
    plain = decode_zoned(cells([b"0012", b"001R"]))
    assert plain.values.dtype == pl.Int64
    assert plain.values.to_list() == [12, -19]


def test_zoned_rejects_lowercase_and_spaces_inside() -> None:
    result = decode_zoned(cells([b"12 4", b" 124", b"123p", b"123 ", b"1234"]))
    assert result.errors.to_list() == ["invalid_zoned"] * 4 + [None]


def test_zoned_18_digits_max() -> None:
    result = decode_zoned(cells([b"99999999999999999R", b"00000000000000000{"]))
    assert result.values.to_list() == [-999_999_999_999_999_999, 0]
    with pytest.raises(ValueError, match="18"):
        decode_zoned(cells([b"9" * 19]))
    with pytest.raises(ValueError, match="scale"):
        decode_zoned(cells([b"12"]), scale=19)


ZONED_BYTES = st.sampled_from(list(b"0123456789{}ABCDEFGHIJKLMNOPQRSTUVWXYZ pq-+") + [0, 0xC1])


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 18).flatmap(
        lambda w: st.tuples(
            st.just(w),
            st.lists(
                st.one_of(
                    st.lists(ZONED_BYTES, min_size=w, max_size=w).map(bytes),
                    st.text("0123456789", min_size=w - 1, max_size=w - 1).flatmap(
                        lambda head: st.sampled_from("{}ABIJR0129").map(
                            lambda last: (head + last).encode()
                        )
                    ),
                    st.just(b" " * w),
                ),
                max_size=20,
            ),
            st.integers(0, 6),
        )
    )
)
def test_zoned_equals_reference(case) -> None:
    width, rows, scale = case
    result = decode_zoned(
        np.frombuffer(b"".join(rows), np.uint8).reshape(len(rows), width), scale=scale
    )
    expected = [ref_zoned(r, scale) for r in rows]
    assert result.values.to_list() == [v for v, _ in expected]
    assert result.errors.to_list() == [e for _, e in expected]


# ---------------------------------------------------------------- packed


def test_packed_dtypes_and_limits() -> None:
    nine = bytes.fromhex("99999999999999999d")
    result = decode_packed(cells([nine, bytes.fromhex("00000000000000012c")]), scale=3)
    assert result.values.dtype == pl.Decimal(18, 3)
    assert result.values.to_list() == [Decimal("-99999999999999.999"), Decimal("0.012")]
    assert decode_packed(cells([b"\x1c"])).values.to_list() == [1]
    with pytest.raises(ValueError, match="18"):
        decode_packed(cells([bytes(10)]))


def test_packed_spaces_and_bad_nibbles() -> None:
    rows = [b"\x40\x40", b"\x1a\x2c", b"\x12\x3f", b"\x12\x3e", b"\x12\x39"]
    result = decode_packed(cells(rows))
    assert result.errors.to_list() == [
        "invalid_packed",
        "invalid_packed",
        None,
        None,
        "invalid_packed",
    ]
    assert result.values.to_list() == [None, None, 123, 123, None]


def test_non_contiguous_numeric_columns() -> None:
    records = np.frombuffer(b"A0012\x12\x3dZB001J\x00\x1cZ", np.uint8).reshape(2, 8)
    assert decode_zoned(records[:, 1:5]).values.to_list() == [12, -11]
    assert decode_packed(records[:, 5:7]).values.to_list() == [-123, 1]
    assert decode_digits(records[:, 1:4]).values.to_list() == ["001", "001"]


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 9).flatmap(
        lambda nb: st.tuples(
            st.just(nb),
            st.lists(st.binary(min_size=nb, max_size=nb), max_size=20),
            st.integers(0, 5),
        )
    )
)
def test_packed_equals_reference(case) -> None:
    nbytes, rows, scale = case
    result = decode_packed(
        np.frombuffer(b"".join(rows), np.uint8).reshape(len(rows), nbytes), scale=scale
    )
    expected = [ref_packed(r, scale) for r in rows]
    assert result.values.to_list() == [v for v, _ in expected]
    assert result.errors.to_list() == [e for _, e in expected]


# ---------------------------------------------------------------- fuzz: arbitrary bytes


def ref_decimal(cell: bytes, scale: int) -> tuple[int | Decimal | None, str | None]:
    text = cell.decode("latin-1").strip(" ")
    if not text:
        return None, None
    fraction = rf"(\.[0-9]{{1,{scale}}})?" if scale else ""
    integer = rf"[0-9]{{1,{18 - scale}}}" if scale < 18 else "0"
    if not re.fullmatch(rf"[+-]?{integer}{fraction}", text):
        return None, "invalid_decimal"
    return (int(text) if scale == 0 else Decimal(text).quantize(Decimal(1).scaleb(-scale))), None


def test_decimal_bytes_that_are_not_utf8_are_invalid_not_blank() -> None:
    """Regression (fuzz): b"\\x00\\xa0" reached polars as a string that is not UTF-8 and came
    back as a blank cell (a value silently lost); scale 18 built an invalid regex."""
    result = decode_decimal(cells([b"\x00\xa0", b"1\xff", b" \x85", b"12"]))
    assert result.errors.to_list() == ["invalid_decimal", "invalid_decimal", "invalid_decimal",
                                       None]
    assert result.values.to_list() == [None, None, None, 12]
    result = decode_decimal(cells([b"0.5 ", b"-0.1", b"1.25", b"    "]), scale=18)
    assert result.values.to_list() == [Decimal("0.5"), Decimal("-0.1"), None, None]
    assert result.errors.to_list() == [None, None, "invalid_decimal", None]


def rows_of(array: np.ndarray) -> list[bytes]:
    return [bytes(row) for row in array]


@fuzz_settings()
@given(cell_arrays(), st.integers(0, 18))
def test_fuzz_digits_and_decimal_take_any_bytes(array: np.ndarray, scale: int) -> None:
    """Any bytes: one value or reason per row, equal to the per-value references."""
    rows = rows_of(array)
    got = check_one_per_row(decode_digits(array), len(rows))
    assert got == [ref_digits(r) for r in rows]
    got = check_one_per_row(decode_decimal(array, scale=scale), len(rows))
    assert got == [ref_decimal(r, scale) for r in rows]


@fuzz_settings()
@given(cell_arrays(width=st.integers(1, 18)), st.integers(0, 18))
def test_fuzz_zoned_takes_any_bytes(array: np.ndarray, scale: int) -> None:
    rows = rows_of(array)
    got = check_one_per_row(decode_zoned(array, scale=scale), len(rows))
    assert got == [ref_zoned(r, scale) for r in rows]


@fuzz_settings()
@given(cell_arrays(width=st.integers(1, 9)), st.integers(0, 18))
def test_fuzz_packed_takes_any_bytes(array: np.ndarray, scale: int) -> None:
    rows = rows_of(array)
    got = check_one_per_row(decode_packed(array, scale=scale), len(rows))
    assert got == [ref_packed(r, scale) for r in rows]
