"""Decode 和暦 (GYYMMDD, GGYYMMDD) and Gregorian (YYYYMMDD, YYYYMM, MMDD) date columns with numpy.

The era table is data, not code: each mapping can bring its own (the 給与支払報告書 numbers
昭和 = 1 … 明治 = 3, the usual order is 1 = 明治 … 5 = 令和), and a new era is one more row.
Output is ISO-8601 text with reduced precision for 不詳 (unknown) parts: `YYYY-MM-DD`,
`YYYY-MM` (day unknown) or `YYYY` (month and day unknown); all zeros or all spaces is null.
Every check (digits, ranges, calendar, era bounds) is an array operation; no datetime object
is built per value. Where the compiled decoders are built (migrate.decode.native), GYYMMDD and
YYYYMMDD columns go through them first: whole, real Gregorian dates inside their era are
written there in one pass, and every other cell is decoded here, so the results are these.

Calendar facts encoded here:
- Japan used the lunisolar calendar until 明治5年12月2日; the next day was 1873-01-01.  A
  date whose year maps before 1873 (明治1–5) is lunisolar: it is decoded with the usual
  formula (so the text is *not* its Gregorian date) and gets the warning `lunisolar_date`.
  Its month/day is checked against lunisolar limits (day <= 30) and its era bounds at year
  precision only, since its month/day cannot be compared with a Gregorian first day.
- Impossible calendar dates (2月30日, 2月29日 of a common year, 4月31日) are `invalid_date`
  on strict fields; with lenient_calendar=True (birth dates and the like, where the
  住民記録 standard allows them) they are kept with the warning `non_calendar_date`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np

from migrate.decode import native
from migrate.decode.result import (
    DATE_OUTSIDE_ERA,
    INVALID_DATE,
    LUNISOLAR_DATE,
    NON_CALENDAR_DATE,
    UNKNOWN_ERA,
    FieldResult,
    as_cells,
    code_index,
    null_reasons,
    reason_series,
    strings_from_fixed,
)
from migrate.layouts.eras import DEFAULT_ERAS, EraTable, can_mark_unknown

#: First year of the Gregorian calendar in Japan (明治6年1月1日 = 1873-01-01).
GREGORIAN_FROM_YEAR = 1873

_DAYS_IN_MONTH = np.array([31, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], np.int64)
_LUNISOLAR_MAX_DAY = 30


def _sentinels(unknown: tuple[str, ...]) -> np.ndarray:
    for text in unknown:
        if not can_mark_unknown(text):
            raise ValueError(f"unknown-part sentinels are two ASCII digits that are not a "
                             f"real month or day, got {text!r}")
    return np.array([int(text) for text in unknown], np.int64)


def _two(d: np.ndarray, j: int) -> np.ndarray:
    return d[:, j] * 10 + d[:, j + 1]


def _key(y: np.ndarray, m: np.ndarray, d: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Sortable key of a date truncated to a precision (1 = year, 2 = month, 3 = day)."""
    return y * 10000 + np.where(level >= 2, m * 100, 0) + np.where(level >= 3, d, 0)


def _finish(
    *,
    year: np.ndarray,
    month: np.ndarray,
    day: np.ndarray,
    null: np.ndarray,
    reasons: np.ndarray,
    unknown: tuple[str, ...],
    lenient_calendar: bool,
    lunisolar: np.ndarray,
    first: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    last: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> FieldResult:
    """Shared checks and output of both date decoders.

    reasons holds the errors found so far (format, era code); rows in null have no value.
    first/last are per-row era bounds (year, month, day[, has_last]).
    """
    n = len(year)
    sentinels = _sentinels(unknown)
    m_unknown = np.isin(month, sentinels)
    d_unknown = np.isin(day, sentinels)
    ok = (reasons == 0) & ~null
    malformed = (
        (year == 0)
        | (~m_unknown & ((month < 1) | (month > 12)))
        | (~d_unknown & ((day < 1) | (day > 31)))
        | (m_unknown & ~d_unknown)  # a day without its month
    )
    reasons[ok & malformed] = code_index(INVALID_DATE)
    ok &= ~malformed

    full = ~m_unknown & ~d_unknown
    level = np.where(full, 3, np.where(m_unknown, 1, 2))
    safe_month = np.where((month >= 1) & (month <= 12), month, 0)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    max_day = _DAYS_IN_MONTH[safe_month] + ((safe_month == 2) & leap)
    max_day = np.where(lunisolar, _LUNISOLAR_MAX_DAY, max_day)
    non_calendar = ok & full & (day > max_day)
    warnings = np.zeros(n, np.uint8)
    if lenient_calendar:
        warnings[non_calendar] = code_index(NON_CALENDAR_DATE)
    else:
        reasons[non_calendar] = code_index(INVALID_DATE)
        ok &= ~non_calendar

    if first is not None:
        # Lunisolar month/day cannot be compared with a Gregorian first day: year only.
        cmp_level = np.where(lunisolar, 1, level)
        key = _key(year, month, day, cmp_level)
        before = key < _key(*first, cmp_level)
        after = np.zeros(n, bool)
        if last is not None:
            ly, lm, ld, has_last = last
            after = has_last & (key > _key(ly, lm, ld, cmp_level))
        outside = ok & (before | after)
        reasons[outside] = code_index(DATE_OUTSIDE_ERA)
        ok &= ~outside

    warnings[ok & lunisolar & (warnings == 0)] = code_index(LUNISOLAR_DATE)
    warnings[~ok] = 0

    chars = np.empty((n, 10), np.uint8)
    y = np.where(ok, year, 0)
    for j, div in enumerate((1000, 100, 10, 1)):
        chars[:, j] = (y // div) % 10 + 0x30
    chars[:, 4] = chars[:, 7] = ord("-")
    m = np.where(ok, month, 0)
    d = np.where(ok, day, 0)
    chars[:, 5], chars[:, 6] = m // 10 % 10 + 0x30, m % 10 + 0x30
    chars[:, 8], chars[:, 9] = d // 10 % 10 + 0x30, d % 10 + 0x30
    length = np.select([level == 3, level == 2], [10, 7], 4)
    values = strings_from_fixed(chars, length, ok)
    return FieldResult(values, reason_series(reasons), reason_series(warnings))


def _digits(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Digit values (clipped to 0–9 for safe arithmetic) and whether each row is all digits."""
    d = cells.astype(np.int64) - 0x30
    all_digits = ((d >= 0) & (d <= 9)).all(axis=1)
    return np.clip(d, 0, 9), all_digits


def decode_wareki(
    cells: np.ndarray,
    *,
    eras: EraTable = DEFAULT_ERAS,
    lenient_calendar: bool = False,
    unknown: tuple[str, ...] = ("00",),
) -> FieldResult:
    """Decode `GYYMMDD` 和暦 dates (G = era code of eras.code_width bytes).

    Errors: unknown_era (code not in the table), invalid_date (non-digits, year 00, month
    13, day 32, a day without a month, or an impossible calendar date on a strict field),
    date_outside_era (not inside the era's [first, last] at the known precision).
    Warnings: non_calendar_date (lenient fields), lunisolar_date (明治1–5).
    MM or DD equal to a sentinel in `unknown` means that part is unknown (不詳).
    """
    cells = as_cells(cells)
    n, width = cells.shape
    code_width = eras.code_width
    if width != code_width + 6:
        raise ValueError(
            f"a wareki field with {code_width}-byte era codes is "
            f"{code_width + 6} bytes wide, got {width}"
        )
    sentinels = _sentinels(unknown)

    def exact(some: np.ndarray) -> FieldResult:
        return _wareki(some, eras, lenient_calendar, unknown)

    return _compiled(cells, eras, sentinels, exact)


def _wareki(cells: np.ndarray, eras: EraTable, lenient_calendar: bool,
            unknown: tuple[str, ...]) -> FieldResult:
    """decode_wareki with numpy, every cell."""
    n = cells.shape[0]
    code_width = eras.code_width
    null = (cells == 0x30).all(axis=1) | (cells == 0x20).all(axis=1)
    era_index = np.full(n, -1, np.int64)
    for k, era in enumerate(eras.eras):
        code = np.frombuffer(era.code.encode("ascii"), np.uint8)
        era_index[(era_index < 0) & (cells[:, :code_width] == code).all(axis=1)] = k
    reasons = np.zeros(n, np.uint8)
    reasons[~null & (era_index < 0)] = code_index(UNKNOWN_ERA)
    d, all_digits = _digits(cells[:, code_width:])
    reasons[~null & (reasons == 0) & ~all_digits] = code_index(INVALID_DATE)
    era_year, month, day = _two(d, 0), _two(d, 2), _two(d, 4)
    reasons[~null & (reasons == 0) & (era_year == 0)] = code_index(INVALID_DATE)

    def per_era(values: list[int]) -> np.ndarray:
        return np.array(values, np.int64)[np.maximum(era_index, 0)]

    first = tuple(
        per_era([getattr(e.first, a) for e in eras.eras]) for a in ("year", "month", "day")
    )
    lasts = [e.last or date.max for e in eras.eras]
    last = (
        *(per_era([getattr(x, a) for x in lasts]) for a in ("year", "month", "day")),
        per_era([e.last is not None for e in eras.eras]).astype(bool),
    )
    year = first[0] + era_year - 1
    return _finish(
        year=year,
        month=month,
        day=day,
        null=null,
        reasons=reasons,
        unknown=unknown,
        lenient_calendar=lenient_calendar,
        lunisolar=year < GREGORIAN_FROM_YEAR,
        first=first,
        last=last,
    )


def _compiled(cells: np.ndarray, eras: EraTable | None, sentinels: np.ndarray,
              exact: Callable[[np.ndarray], FieldResult]) -> FieldResult:
    """A GYYMMDD (eras) or YYYYMMDD (None) column through the compiled decoder
    (migrate.decode.native): whole, real, Gregorian dates inside their era there, every other
    cell (null, 不詳 parts, errors, warnings) by `exact`, the numpy decoder; all of them by
    `exact` where the library is not built."""
    library = native.library()
    n, width = cells.shape
    if library is None or n == 0:
        return exact(cells)
    cells = np.ascontiguousarray(cells)
    table = eras.eras if eras is not None else ()
    code_width = eras.code_width if eras is not None else 0
    codes = np.frombuffer(b"".join(e.code.encode("ascii") for e in table) or b"\0", np.uint8)
    bounds = np.array([[e.first.year, e.first.month, e.first.day,
                        *((e.last.year, e.last.month, e.last.day, 1) if e.last else (0, 0, 0, 0))]
                       for e in table] or [[0] * 7], np.int64)
    unknown = np.zeros(100, np.uint8)
    unknown[sentinels] = 1
    out = np.empty((n, 10), np.uint8)
    flags = np.empty(n, np.uint8)
    library.decode_date_column(cells, n, width, code_width, codes, len(table),
                               np.ascontiguousarray(bounds), unknown, GREGORIAN_FROM_YEAR,
                               out, flags)
    values = strings_from_fixed(out, np.full(n, 10, np.int64), flags == 0)
    errors, warnings = null_reasons(n), null_reasons(n)  # scatter writes in place
    flagged = np.flatnonzero(flags)
    if len(flagged):
        rest = exact(cells[flagged])
        values = values.scatter(flagged, rest.values)
        errors = errors.scatter(flagged, rest.errors)
        warnings = warnings.scatter(flagged, rest.warnings)
    return FieldResult(values, errors, warnings)


def _gregorian(cells: np.ndarray, width: int, form: str
               ) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """A Gregorian date field's cells of `width` bytes: rows, null rows (all 0 or all spaces),
    the digits, and invalid_date where a cell is not all digits."""
    cells = as_cells(cells)
    n, got = cells.shape
    if got != width:
        raise ValueError(f"a {form} field is {width} bytes wide, got {got}")
    null = (cells == 0x30).all(axis=1) | (cells == 0x20).all(axis=1)
    d, all_digits = _digits(cells)
    reasons = np.zeros(n, np.uint8)
    reasons[~null & ~all_digits] = code_index(INVALID_DATE)
    return n, null, d, reasons


def decode_ymd(
    cells: np.ndarray,
    *,
    lenient_calendar: bool = False,
    unknown: tuple[str, ...] = ("00",),
) -> FieldResult:
    """Decode Gregorian `YYYYMMDD` dates; same rules and output as decode_wareki (no eras)."""
    cells = as_cells(cells)
    if cells.shape[1] != 8:
        raise ValueError(f"a YYYYMMDD field is 8 bytes wide, got {cells.shape[1]}")

    def exact(some: np.ndarray) -> FieldResult:
        return _ymd(some, lenient_calendar, unknown)

    return _compiled(cells, None, _sentinels(unknown), exact)


def _ymd(cells: np.ndarray, lenient_calendar: bool, unknown: tuple[str, ...]) -> FieldResult:
    """decode_ymd with numpy, every cell."""
    n, null, d, reasons = _gregorian(cells, 8, "YYYYMMDD")
    year = _two(d, 0) * 100 + _two(d, 2)
    return _finish(
        year=year,
        month=_two(d, 4),
        day=_two(d, 6),
        null=null,
        reasons=reasons,
        unknown=unknown,
        lenient_calendar=lenient_calendar,
        lunisolar=np.zeros(n, bool),
    )


def decode_ym(cells: np.ndarray, *, unknown: tuple[str, ...] = ("00",)) -> FieldResult:
    """Decode Gregorian `YYYYMM` (a month: 賦課年月, 処理年月) to `YYYY-MM`; a month that is a
    sentinel of `unknown` gives the year alone. All zeros or spaces is null."""
    n, null, d, reasons = _gregorian(cells, 6, "YYYYMM")
    marker = int(unknown[0]) if unknown else 0
    return _finish(year=_two(d, 0) * 100 + _two(d, 2), month=_two(d, 4),
                   day=np.full(n, marker, np.int64), null=null, reasons=reasons,
                   unknown=unknown or ("00",), lenient_calendar=False,
                   lunisolar=np.zeros(n, bool))


def md_years(month: np.ndarray, day: np.ndarray, run_date: date, rule: str) -> np.ndarray:
    """The year of each MMDD seen from the run date: `next` — the first such day on or after
    the run date (a due date, a debit date); `previous` — the last one on or before it (a
    processing date)."""
    key = month * 100 + day
    today = run_date.month * 100 + run_date.day
    if rule == "next":
        return np.where(key < today, run_date.year + 1, run_date.year).astype(np.int64)
    if rule == "previous":
        return np.where(key > today, run_date.year - 1, run_date.year).astype(np.int64)
    raise ValueError(f"unknown MMDD year rule {rule!r}")


def decode_md(cells: np.ndarray, *, year: int | None = None, run_date: date | None = None,
              rule: str | None = None, lenient_calendar: bool = False,
              unknown: tuple[str, ...] = ("00",)) -> FieldResult:
    """Decode `MMDD` (a day without its year) to an ISO date: the year is given (from the
    header), or taken from the run date by `rule` (see md_years). Without a year every value
    is invalid_date: it cannot be placed. Same checks and output as decode_ymd."""
    n, null, d, reasons = _gregorian(cells, 4, "MMDD")
    month, day = _two(d, 0), _two(d, 2)
    if year is not None:
        years = np.full(n, year, np.int64)
    elif run_date is not None and rule is not None:
        years = md_years(month, day, run_date, rule)
    else:
        years = np.zeros(n, np.int64)
        reasons[~null & (reasons == 0)] = code_index(INVALID_DATE)
    return _finish(year=years, month=month, day=day, null=null, reasons=reasons,
                   unknown=unknown, lenient_calendar=lenient_calendar,
                   lunisolar=np.zeros(n, bool))
