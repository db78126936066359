"""Encoders: exact bytes for known cases, and encode → decode round trips for every type."""

from __future__ import annotations

import contextlib
from datetime import date
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migrate.decode import (
    DEFAULT_ERAS,
    Era,
    EraTable,
    decode_digits,
    decode_md,
    decode_packed,
    decode_text,
    decode_wareki,
    decode_ym,
    decode_ymd,
    decode_zoned,
)
from migrate.transform.encode import (
    encode_digits,
    encode_md,
    encode_packed,
    encode_text,
    encode_wareki,
    encode_ym,
    encode_ymd,
    encode_zoned,
)

KYUYO_ERAS = EraTable.from_rows(
    [
        ("1", "昭和", "1926-12-25", "1989-01-07"),
        ("2", "大正", "1912-07-30", "1926-12-25"),
        ("3", "明治", "1868-01-25", "1912-07-30"),
        ("4", "平成", "1989-01-08", "2019-04-30"),
        ("5", "令和", "2019-05-01", None),
    ]
)
TWO_DIGIT_ERAS = EraTable(
    tuple(Era(f"0{e.code}", e.name, e.first, e.last) for e in DEFAULT_ERAS.eras)
)


def _cp932_pool() -> list[str]:
    """Characters that survive cp932 text round trips (no controls, PUA or codec traps)."""
    chars = set()
    for lead in [*range(0x81, 0xA0), *range(0xE0, 0xFD)]:
        for trail in [*range(0x40, 0x7F), *range(0x80, 0xFD)]:
            with contextlib.suppress(UnicodeDecodeError):
                chars.add(bytes([lead, trail]).decode("cp932"))
    chars.update(chr(c) for c in range(0x20, 0x7F))
    chars.update(chr(c) for c in range(0xFF61, 0xFFA0))
    return sorted(c for c in chars if not 0xE000 <= ord(c) <= 0xF8FF)


CP932_CHARS = _cp932_pool()


# ---------------------------------------------------------------- exact bytes


def test_text_padding_bytes() -> None:
    out = encode_text(["山", "ab", None, ""], 7)
    assert out.dtype == np.uint8 and out.shape == (4, 7)
    assert [bytes(r) for r in out] == [
        b"\x8e\x52\x81\x40\x81\x40\x20",
        b"ab\x81\x40\x81\x40\x20",
        b"\x81\x40\x81\x40\x81\x40\x20",
        b"\x81\x40\x81\x40\x81\x40\x20",
    ]
    half = encode_text(["山", "ab"], 5, pad="half")
    assert [bytes(r) for r in half] == [b"\x8e\x52   ", b"ab   "]
    euc = encode_text(["山"], 5, encoding="euc_jp")
    assert bytes(euc[0]) == "山".encode("euc_jp") + b"\xa1\xa1 "


def test_text_errors_name_the_value() -> None:
    with pytest.raises(ValueError, match=r"value 2 .*6 bytes .* 4"):
        encode_text(["a", "bb", "あいう"], 4)
    with pytest.raises(ValueError, match=r"value 1 .*cannot be encoded"):
        encode_text(["a", "𠮷"], 4)
    with pytest.raises(ValueError, match=r"value 0 .*line feed"):
        encode_text(["a\nb"], 4)
    with pytest.raises(ValueError, match="pad"):
        encode_text(["a"], 4, pad="left")
    assert encode_text([], 4).shape == (0, 4)


def test_numbers_exact_bytes() -> None:
    assert bytes(encode_digits([120], 5)[0]) == b"00120"
    assert [bytes(r) for r in encode_zoned([1230, -1239, 0], 4)] == [b"123{", b"123R", b"000{"]
    assert [bytes(r) for r in encode_zoned([1230], 4, signed=False)] == [b"1230"]
    assert [bytes(r).hex() for r in encode_packed([12345, -1234, 0], 3)] == [
        "12345c",
        "01234d",
        "00000c",
    ]


def test_number_errors() -> None:
    with pytest.raises(ValueError, match="value 1"):
        encode_digits([1, -1], 3)
    with pytest.raises(ValueError, match="value 0"):
        encode_digits([1000], 3)
    with pytest.raises(ValueError, match="unsigned"):
        encode_zoned([-1], 3, signed=False)
    with pytest.raises(ValueError, match="fit"):
        encode_zoned([-1000], 3)
    with pytest.raises(ValueError, match="fit"):
        encode_packed([np.iinfo(np.int64).min], 9)
    with pytest.raises(ValueError, match="1 to 9"):
        encode_packed([1], 10)
    with pytest.raises(ValueError, match="1 to 18"):
        encode_zoned([1], 19)
    assert bytes(encode_digits([np.iinfo(np.int64).max], 20)[0]) == b"09223372036854775807"


def test_wareki_exact_bytes_and_era_choice() -> None:
    out = encode_wareki(
        [1989, 1989, 1912, 1926, 1950, 1989, 0, 2019],
        [1, 1, 7, 12, 5, 0, 0, 4],
        [7, 8, 30, 25, 0, 0, 0, 30],
    )
    assert [bytes(r).decode() for r in out] == [
        "3640107",
        "4010108",
        "2010730",  # changeover day: the new era
        "3011225",
        "3250500",
        "4010000",
        "0000000",
        "4310430",
    ]
    kyuyo = encode_wareki([1989, 1912], [1, 7], [7, 29], eras=KYUYO_ERAS)
    assert [bytes(r).decode() for r in kyuyo] == ["1640107", "3450729"]
    two = encode_wareki([2024], [2], [29], eras=TWO_DIGIT_ERAS)
    assert bytes(two[0]) == b"05060229"


def test_wareki_explicit_codes_make_out_of_era_test_data() -> None:
    out = encode_wareki([1989, 1912], [1, 7], [8, 30], era_codes=["3", "1"])
    assert [bytes(r).decode() for r in out] == ["3640108", "1450730"]
    decoded = decode_wareki(out)
    assert decoded.errors.to_list() == ["date_outside_era", None]
    with pytest.raises(ValueError, match="no era"):
        encode_wareki([2000], [1], [1], era_codes=["7"])
    with pytest.raises(ValueError, match="era year"):
        encode_wareki([1925], [1], [1], era_codes=["4"])


def test_date_errors() -> None:
    with pytest.raises(ValueError, match="no era"):
        encode_wareki([1800], [1], [1])
    with pytest.raises(ValueError, match="month/day"):
        encode_wareki([1990], [0], [5])
    with pytest.raises(ValueError, match="month/day"):
        encode_ymd([1990], [13], [1])
    with pytest.raises(ValueError, match="1-9999"):
        encode_ymd([0], [1], [1])
    with pytest.raises(ValueError, match="same length"):
        encode_ymd([1990, 1991], [1], [1])
    assert bytes(encode_ymd([0], [0], [0])[0]) == b"00000000"


# ---------------------------------------------------------------- round trips


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.text(st.sampled_from(CP932_CHARS), max_size=10)), max_size=20),
    st.integers(0, 5),
    st.sampled_from(["full", "half"]),
)
def test_text_round_trip(values, extra, pad) -> None:
    width = max([len(v.encode("cp932")) for v in values if v] + [0]) + extra
    encoded = encode_text(values, width, pad=pad)
    assert encoded.shape == (len(values), width)
    decoded = decode_text(encoded).values.to_list()
    assert decoded == [(v or "").rstrip(" \u3000") or None for v in values]


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 18).flatmap(lambda w: st.tuples(st.just(w), st.lists(st.integers(0, 10**w - 1))))
)
def test_digits_round_trip(case) -> None:
    width, ints = case
    decoded = decode_digits(encode_digits(np.array(ints, np.int64), width))
    assert decoded.values.to_list() == [str(i).zfill(width) for i in ints]


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 18).flatmap(
        lambda w: st.tuples(
            st.just(w),
            st.lists(st.integers(-(10**w) + 1, 10**w - 1)),
            st.integers(0, 6),
            st.booleans(),
        )
    )
)
def test_zoned_round_trip(case) -> None:
    width, ints, scale, signed = case
    if not signed:
        ints = [abs(i) for i in ints]
    decoded = decode_zoned(
        encode_zoned(np.array(ints, np.int64), width, signed=signed), scale=scale
    )
    assert decoded.errors.null_count() == len(ints)
    expected = ints if scale == 0 else [Decimal(i).scaleb(-scale) for i in ints]
    assert decoded.values.to_list() == expected


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 9).flatmap(
        lambda nb: st.tuples(
            st.just(nb),
            st.lists(st.integers(-(10 ** (2 * nb - 1)) + 1, 10 ** (2 * nb - 1) - 1)),
            st.integers(0, 6),
        )
    )
)
def test_packed_round_trip(case) -> None:
    nbytes, ints, scale = case
    decoded = decode_packed(encode_packed(np.array(ints, np.int64), nbytes), scale=scale)
    expected = ints if scale == 0 else [Decimal(i).scaleb(-scale) for i in ints]
    assert decoded.values.to_list() == expected


def _iso(y: int, m: int, d: int) -> str | None:
    if y == m == d == 0:
        return None
    return f"{y:04d}" + (f"-{m:02d}" if m else "") + (f"-{d:02d}" if d else "")


@st.composite
def date_parts(draw: st.DrawFn, low: date, high: date) -> tuple[int, int, int]:
    day = draw(st.dates(low, high))
    precision = draw(st.sampled_from(["ymd", "ymd", "ym", "y", "none"]))
    if precision == "none":
        return 0, 0, 0
    # 明治1–5 dates are lunisolar: a month has at most 30 days there (the decoder rejects 31).
    day_of_month = min(day.day, 30) if day.year < 1873 else day.day
    return day.year, day.month if precision != "y" else 0, day_of_month if precision == "ymd" else 0


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([DEFAULT_ERAS, KYUYO_ERAS, TWO_DIGIT_ERAS]),
    st.lists(date_parts(date(1868, 1, 25), date(2117, 12, 31)), max_size=30),
)
def test_wareki_round_trip(eras, parts) -> None:
    years, months, days = (np.array([p[i] for p in parts], np.int64) for i in range(3))
    decoded = decode_wareki(encode_wareki(years, months, days, eras=eras), eras=eras)
    assert decoded.values.to_list() == [_iso(*p) for p in parts]
    assert decoded.errors.null_count() == len(parts)
    expected_warnings = [
        "lunisolar_date" if 0 < p[0] < 1873 else None for p in parts
    ]  # 明治1–5 are lunisolar: flagged, never silently converted
    assert decoded.warnings.to_list() == expected_warnings


@settings(max_examples=200, deadline=None)
@given(st.lists(date_parts(date(1, 1, 1), date(9999, 12, 31)), max_size=30))
def test_ymd_round_trip(parts) -> None:
    years, months, days = (np.array([p[i] for p in parts], np.int64) for i in range(3))
    decoded = decode_ymd(encode_ymd(years, months, days))
    assert decoded.values.to_list() == [_iso(*p) for p in parts]
    assert decoded.errors.null_count() == len(parts)


@settings(max_examples=100, deadline=None)
@given(st.lists(date_parts(date(1, 1, 1), date(9999, 12, 31)), max_size=30))
def test_ym_and_md_round_trip(parts) -> None:
    """YYYYMM keeps the year and month; MMDD the month and day, its year given back by the
    mapping (here the year of each date, one date at a time)."""
    years, months, days = (np.array([p[i] for p in parts], np.int64) for i in range(3))
    assert decode_ym(encode_ym(years, months)).values.to_list() == \
        [_iso(y, m, 0) for y, m, _ in parts]
    cells = encode_md(months, days)
    for row, (y, m, d) in enumerate(parts):
        if m and d:
            decoded = decode_md(cells[row:row + 1], year=y)
            assert decoded.values.to_list() == [_iso(y, m, d)]
