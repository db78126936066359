"""decode_wareki / decode_ymd: era tables as data, 不詳 precision, strict vs lenient calendar;
and on arbitrary bytes, one value or reason per row, equal to the references (fuzz)."""

from __future__ import annotations

import calendar
from datetime import date

import numpy as np
import polars as pl
import pytest
from fuzz.budget import fuzz_settings
from fuzz.cells import cell_arrays, check_one_per_row
from hypothesis import given, settings
from hypothesis import strategies as st

from migrate.decode import (
    DEFAULT_ERAS,
    Era,
    EraTable,
    decode_md,
    decode_wareki,
    decode_ym,
    decode_ymd,
)

# 給与支払報告書: 昭和 = 1, 大正 = 2, 明治 = 3, 平成 = 4 (令和 added here as 5).
KYUYO_ERAS = EraTable.from_rows(
    [
        ("1", "昭和", "1926-12-25", "1989-01-07"),
        ("2", "大正", "1912-07-30", "1926-12-25"),
        ("3", "明治", "1868-01-25", "1912-07-30"),
        ("4", "平成", "1989-01-08", "2019-04-30"),
        ("5", "令和", "2019-05-01", None),
    ]
)
# 中間標準レイアウト style: two-digit era codes.
TWO_DIGIT_ERAS = EraTable(
    tuple(Era(f"0{e.code}", e.name, e.first, e.last) for e in DEFAULT_ERAS.eras)
)


def cells(texts: list[str]) -> np.ndarray:
    raw = [t.encode("ascii") for t in texts]
    return np.frombuffer(b"".join(raw), np.uint8).reshape(len(raw), len(raw[0]))


def triples(result) -> list[tuple]:
    return list(
        zip(
            result.values.to_list(), result.errors.to_list(), result.warnings.to_list(), strict=True
        )
    )


def test_same_bytes_under_two_era_tables() -> None:
    data = cells(["1640107", "3450730", "2151225", "4010108"])
    default = decode_wareki(data)
    kyuyo = decode_wareki(data, eras=KYUYO_ERAS)
    assert triples(default) == [
        (None, "date_outside_era", None),  # 明治64年 does not exist
        ("1970-07-30", None, None),  # 昭和45年
        ("1926-12-25", None, None),
        ("1989-01-08", None, None),
    ]
    assert triples(kyuyo) == [
        ("1989-01-07", None, None),  # 昭和64年1月7日
        ("1912-07-30", None, None),  # 明治45年7月30日
        ("1926-12-25", None, None),
        ("1989-01-08", None, None),
    ]


def test_two_digit_era_codes() -> None:
    result = decode_wareki(
        cells(["03640107", "05060229", "06010101", "00000000"]), eras=TWO_DIGIT_ERAS
    )
    assert triples(result) == [
        ("1989-01-07", None, None),
        ("2024-02-29", None, None),
        (None, "unknown_era", None),
        (None, None, None),
    ]
    with pytest.raises(ValueError, match="8 bytes"):
        decode_wareki(cells(["3640107"]), eras=TWO_DIGIT_ERAS)


def test_lenient_calendar_keeps_impossible_dates_with_a_warning() -> None:
    data = cells(["4020229", "4020230", "4010431", "4020431", "4021301", "4020232", "4080229"])
    strict = decode_wareki(data)
    lenient = decode_wareki(data, lenient_calendar=True)
    assert strict.errors.to_list() == ["invalid_date"] * 6 + [None]
    assert triples(lenient) == [
        ("1990-02-29", None, "non_calendar_date"),
        ("1990-02-30", None, "non_calendar_date"),
        ("1989-04-31", None, "non_calendar_date"),
        ("1990-04-31", None, "non_calendar_date"),
        (None, "invalid_date", None),  # month 13 is never kept
        (None, "invalid_date", None),  # day 32 is never kept
        ("1996-02-29", None, None),
    ]


def test_lenient_date_after_era_end_is_still_outside() -> None:
    result = decode_wareki(cells(["4310431", "3640132"]), lenient_calendar=True)
    assert result.errors.to_list() == ["date_outside_era", "invalid_date"]


def test_partial_dates_compared_at_known_precision() -> None:
    data = cells(["3640000", "3640100", "3640200", "4310400", "4310500", "5010000", "5010400"])
    result = decode_wareki(data)
    assert triples(result) == [
        ("1989", None, None),
        ("1989-01", None, None),
        (None, "date_outside_era", None),  # 昭和 ended in January
        ("2019-04", None, None),
        (None, "date_outside_era", None),
        ("2019", None, None),
        (None, "date_outside_era", None),  # 令和 began in May
    ]


def test_unknown_sentinels() -> None:
    data = cells(["3259999", "3250599", "3259905", "3250000", "3250015"])
    result = decode_wareki(data, unknown=("00", "99"))
    assert triples(result) == [
        ("1950", None, None),
        ("1950-05", None, None),
        (None, "invalid_date", None),  # a day without its month
        ("1950", None, None),
        (None, "invalid_date", None),
    ]
    only_zero = decode_wareki(cells(["3259999"]))
    assert only_zero.errors.to_list() == ["invalid_date"]
    with pytest.raises(ValueError, match="real month or day"):
        decode_wareki(data, unknown=("00", "01"))
    with pytest.raises(ValueError, match="two ASCII digits"):
        decode_wareki(data, unknown=("0",))


def test_lunisolar_meiji_dates_warn() -> None:
    data = cells(["1010101", "1050230", "1050231", "1060101", "1010000"])
    result = decode_wareki(data)
    assert triples(result) == [
        ("1868-01-01", None, "lunisolar_date"),  # 明治元年1月1日 (lunisolar), before 1868-01-25
        ("1872-02-30", None, "lunisolar_date"),  # a lunisolar month can have 30 days
        (None, "invalid_date", None),
        ("1873-01-01", None, None),  # first Gregorian day
        ("1868", None, "lunisolar_date"),
    ]


def test_format_errors_and_nulls() -> None:
    data = cells(
        ["0000000", "       ", "3A10101", "3 10101", "3000101", "9010101", "M010101", "3250100"]
    )
    result = decode_wareki(data)
    assert triples(result) == [
        (None, None, None),
        (None, None, None),
        (None, "invalid_date", None),
        (None, "invalid_date", None),
        (None, "invalid_date", None),  # year 00
        (None, "unknown_era", None),
        (None, "unknown_era", None),
        ("1950-01", None, None),
    ]
    assert result.values.dtype == pl.Utf8


def test_letter_era_codes() -> None:
    letters = EraTable.from_rows(
        [
            {"code": "S", "name": "昭和", "first": date(1926, 12, 25), "last": date(1989, 1, 7)},
            {"code": "H", "name": "平成", "first": "1989-01-08", "last": "2019-04-30"},
            {"code": "R", "name": "令和", "first": "2019-05-01", "last": ""},
        ]
    )
    result = decode_wareki(cells(["S640107", "H010108", "R070401", "3070401"]), eras=letters)
    assert result.values.to_list() == ["1989-01-07", "1989-01-08", "2025-04-01", None]
    assert letters.by_code("R").last is None
    assert letters.code_width == 1


def test_era_table_validation() -> None:
    with pytest.raises(ValueError, match="unique"):
        EraTable.from_rows([("1", "a", "2000-01-01"), ("1", "b", "2001-01-01")])
    with pytest.raises(ValueError, match="same"):
        EraTable.from_rows([("1", "a", "2000-01-01"), ("02", "b", "2001-01-01")])
    with pytest.raises(ValueError, match="before"):
        EraTable.from_rows([("1", "a", "2000-01-01", "1999-01-01")])
    with pytest.raises(ValueError, match="at least one"):
        EraTable(())
    with pytest.raises(ValueError, match="ASCII"):
        EraTable.from_rows([("明", "明治", "1868-01-25")])


def test_default_table_matches_the_standard() -> None:
    names = [(e.code, e.name, e.first.isoformat(), e.last) for e in DEFAULT_ERAS.eras]
    assert names == [
        ("1", "明治", "1868-01-25", date(1912, 7, 30)),
        ("2", "大正", "1912-07-30", date(1926, 12, 25)),
        ("3", "昭和", "1926-12-25", date(1989, 1, 7)),
        ("4", "平成", "1989-01-08", date(2019, 4, 30)),
        ("5", "令和", "2019-05-01", None),
    ]


def test_ymd() -> None:
    data = cells(
        [
            "20000229",
            "19000229",
            "19900229",
            "00000000",
            "        ",
            "00000101",
            "19500000",
            "19500500",
            "19501300",
            "1950A101",
            "20240230",
        ]
    )
    assert triples(decode_ymd(data)) == [
        ("2000-02-29", None, None),
        (None, "invalid_date", None),
        (None, "invalid_date", None),
        (None, None, None),
        (None, None, None),
        (None, "invalid_date", None),  # year 0000
        ("1950", None, None),
        ("1950-05", None, None),
        (None, "invalid_date", None),
        (None, "invalid_date", None),
        (None, "invalid_date", None),
    ]
    lenient = decode_ymd(data, lenient_calendar=True)
    assert lenient.values.to_list()[1:3] == ["1900-02-29", "1990-02-29"]
    assert lenient.warnings.to_list()[1:3] == ["non_calendar_date"] * 2
    old = decode_ymd(cells(["18600101"]))  # Gregorian input: no lunisolar warning
    assert triples(old) == [("1860-01-01", None, None)]
    with pytest.raises(ValueError, match="8 bytes"):
        decode_ymd(cells(["1950010"]))


def test_non_contiguous_date_column() -> None:
    records = cells(["AB3640107Z", "AB4010108Z"])
    assert decode_wareki(records[:, 2:9]).values.to_list() == ["1989-01-07", "1989-01-08"]


# ---------------------------------------------------------------- property: per-value reference


def reference(text: str, eras: EraTable, lenient: bool, unknown: tuple[str, ...]) -> tuple:
    """Straightforward per-value rules, using datetime.date for calendar validity."""
    width = eras.code_width
    if set(text) <= {"0"} or set(text) <= {" "}:
        return None, None, None
    era = eras.by_code(text[:width])
    if era is None:
        return None, "unknown_era", None
    rest = text[width:]
    if not (rest.isascii() and rest.isdigit()):
        return None, "invalid_date", None
    yy, mm, dd = int(rest[:2]), int(rest[2:4]), int(rest[4:])
    month_known, day_known = rest[2:4] not in unknown, rest[4:] not in unknown
    if yy == 0 or (day_known and not month_known):
        return None, "invalid_date", None
    if (month_known and not 1 <= mm <= 12) or (day_known and not 1 <= dd <= 31):
        return None, "invalid_date", None
    year = era.first.year + yy - 1
    lunisolar = year < 1873
    warning = None
    if month_known and day_known:
        if lunisolar:
            real = dd <= 30
        else:
            try:
                date(year, mm, dd)
                real = True
            except ValueError:
                real = False
        if not real:
            if not lenient:
                return None, "invalid_date", None
            warning = "non_calendar_date"
    # lunisolar month/day cannot be compared with a Gregorian first day: year only
    parts = 3 if (month_known and day_known) else 2 if month_known else 1
    parts = 1 if lunisolar else parts
    value = (year, mm, dd)[:parts]
    first = (era.first.year, era.first.month, era.first.day)[:parts]
    if value < first:
        return None, "date_outside_era", None
    if era.last is not None and value > (era.last.year, era.last.month, era.last.day)[:parts]:
        return None, "date_outside_era", None
    if lunisolar and warning is None:
        warning = "lunisolar_date"
    iso = f"{year:04d}"
    if month_known:
        iso += f"-{mm:02d}"
        if day_known:
            iso += f"-{dd:02d}"
    return iso, None, warning


@st.composite
def wareki_cells(draw: st.DrawFn, eras: EraTable) -> str:
    codes = [e.code for e in eras.eras] + ["0" * eras.code_width, "9" * eras.code_width]
    code = draw(st.sampled_from(codes))
    yy = draw(st.one_of(st.integers(0, 99), st.sampled_from([1, 5, 6, 15, 31, 45, 64])))
    mm = draw(st.sampled_from([0, 1, 2, 4, 5, 7, 12, 13, 99]))
    dd = draw(st.one_of(st.integers(0, 32), st.just(99)))
    text = f"{code}{yy:02d}{mm:02d}{dd:02d}"
    if draw(st.integers(0, 9)) == 0:
        pos = draw(st.integers(0, len(text) - 1))
        text = text[:pos] + draw(st.sampled_from("A -")) + text[pos + 1 :]
    if draw(st.integers(0, 19)) == 0:
        text = draw(st.sampled_from(["0", " "])) * len(text)
    return text


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([DEFAULT_ERAS, KYUYO_ERAS, TWO_DIGIT_ERAS]).flatmap(
        lambda eras: st.tuples(
            st.just(eras),
            st.lists(wareki_cells(eras), min_size=1, max_size=30),
            st.booleans(),
            st.sampled_from([("00",), ("00", "99")]),
        )
    )
)
def test_wareki_equals_reference(case) -> None:
    eras, texts, lenient, unknown = case
    result = decode_wareki(cells(texts), eras=eras, lenient_calendar=lenient, unknown=unknown)
    assert triples(result) == [reference(t, eras, lenient, unknown) for t in texts]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 9999), st.sampled_from([0, 1, 2, 4, 12, 13, 99]), st.integers(0, 32)
        ),
        min_size=1,
        max_size=30,
    ),
    st.booleans(),
)
def test_ymd_equals_reference(parts, lenient) -> None:
    texts = [f"{y:04d}{m:02d}{d:02d}" for y, m, d in parts]
    result = decode_ymd(cells(texts), lenient_calendar=lenient)
    expected = []
    for (y, m, d), text in zip(parts, texts, strict=True):
        if text == "00000000":
            expected.append((None, None, None))
        elif y == 0 or (d != 0 and m == 0) or m > 12 or d > 31:
            expected.append((None, "invalid_date", None))
        elif m and d and d > calendar.monthrange(y, m)[1]:
            iso = f"{y:04d}-{m:02d}-{d:02d}"
            expected.append(
                (iso, None, "non_calendar_date") if lenient else (None, "invalid_date", None)
            )
        else:
            iso = f"{y:04d}" + (f"-{m:02d}" if m else "") + (f"-{d:02d}" if d else "")
            expected.append((iso, None, None))
    assert triples(result) == expected


# ---------------------------------------------------------------- fuzz: arbitrary bytes


def ref_ymd(text: str, lenient: bool, unknown: tuple[str, ...]) -> tuple:
    """decode_ymd per value: the wareki rules without eras (and no lunisolar dates)."""
    if set(text) <= {"0"} or set(text) <= {" "}:
        return None, None, None
    if not (text.isascii() and text.isdigit()):
        return None, "invalid_date", None
    year, mm, dd = int(text[:4]), int(text[4:6]), int(text[6:])
    month_known, day_known = text[4:6] not in unknown, text[6:] not in unknown
    if year == 0 or (day_known and not month_known):
        return None, "invalid_date", None
    if (month_known and not 1 <= mm <= 12) or (day_known and not 1 <= dd <= 31):
        return None, "invalid_date", None
    warning = None
    if month_known and day_known and dd > calendar.monthrange(year, mm)[1]:
        if not lenient:
            return None, "invalid_date", None
        warning = "non_calendar_date"
    iso = f"{year:04d}" + (f"-{mm:02d}" if month_known else "") \
        + (f"-{dd:02d}" if month_known and day_known else "")
    return iso, None, warning


SENTINELS = st.sampled_from([("00",), ("00", "99"), ("99",), ("00", "88", "99")])


@fuzz_settings()
@given(st.sampled_from([DEFAULT_ERAS, KYUYO_ERAS, TWO_DIGIT_ERAS]).flatmap(
    lambda eras: st.tuples(st.just(eras), cell_arrays(width=eras.code_width + 6))),
    st.booleans(), SENTINELS)
def test_fuzz_wareki_takes_any_bytes(case, lenient: bool, unknown: tuple[str, ...]) -> None:
    """Any bytes: one value or reason per row, equal to the per-value reference."""
    eras, array = case
    result = decode_wareki(array, eras=eras, lenient_calendar=lenient, unknown=unknown)
    check_one_per_row(result, len(array))
    expected = [reference(bytes(row).decode("latin-1"), eras, lenient, unknown) for row in array]
    assert triples(result) == expected


@fuzz_settings()
@given(cell_arrays(width=8), st.booleans(), SENTINELS)
def test_fuzz_ymd_takes_any_bytes(array: np.ndarray, lenient: bool,
                                  unknown: tuple[str, ...]) -> None:
    result = decode_ymd(array, lenient_calendar=lenient, unknown=unknown)
    check_one_per_row(result, len(array))
    expected = [ref_ymd(bytes(row).decode("latin-1"), lenient, unknown) for row in array]
    assert triples(result) == expected


# ---------------------------------------------------------------- YYYYMM and MMDD


def _blank(text: str) -> bool:
    return set(text) <= {"0"} or set(text) <= {" "}


@fuzz_settings()
@given(cell_arrays(width=6), SENTINELS)
def test_fuzz_ym_is_ymd_with_an_unknown_day(array: np.ndarray, unknown: tuple[str, ...]) -> None:
    """YYYYMM decodes as YYYYMM plus an unknown day would: a month (or a year alone)."""
    result = decode_ym(array, unknown=unknown)
    check_one_per_row(result, len(array))
    texts = [bytes(row).decode("latin-1") for row in array]
    expected = [(None, None, None) if _blank(t) else ref_ymd(t + unknown[0], False, unknown)
                for t in texts]
    assert triples(result) == expected


@fuzz_settings()
@given(cell_arrays(width=4), st.integers(1, 9999), st.booleans(), SENTINELS)
def test_fuzz_md_with_a_year_is_ymd_of_that_year(array: np.ndarray, year: int, lenient: bool,
                                                 unknown: tuple[str, ...]) -> None:
    result = decode_md(array, year=year, lenient_calendar=lenient, unknown=unknown)
    check_one_per_row(result, len(array))
    texts = [bytes(row).decode("latin-1") for row in array]
    expected = [(None, None, None) if _blank(t) else ref_ymd(f"{year:04d}{t}", lenient, unknown)
                for t in texts]
    assert triples(result) == expected


@settings(max_examples=300, deadline=None)
@given(st.dates(date(1900, 1, 1), date(9998, 12, 31)), st.integers(1, 12),
       st.integers(1, 28), st.sampled_from(["next", "previous"]))
def test_md_from_the_run_date_follows_its_rule(run_date: date, month: int, day: int,
                                               rule: str) -> None:
    """next: the first such day on or after the run date; previous: the last on or before."""
    result = decode_md(cells([f"{month:02d}{day:02d}"]), run_date=run_date, rule=rule)
    found = date.fromisoformat(result.values[0])
    assert (found.month, found.day) == (month, day)
    if rule == "next":
        assert found.year in (run_date.year, run_date.year + 1) and found >= run_date
        assert found.replace(year=found.year - 1) < run_date
    else:
        assert found <= run_date and found.year in (run_date.year, run_date.year - 1)
        assert found.replace(year=found.year + 1) > run_date


def test_md_without_a_year_cannot_be_placed() -> None:
    result = decode_md(cells(["0427", "0000"]))
    assert result.errors.to_list() == ["invalid_date", None]
    assert result.values.to_list() == [None, None]
