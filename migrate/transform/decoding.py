"""One field column decoded by its declared type, each distinct cell once: the dispatch from a
mapping's field type to its decoder, and the year of an md (MMDD) field (from the header or
the run date, which the run puts among the header values)."""

from __future__ import annotations

from typing import Any

import numpy as np

from migrate.decode import (
    FieldResult,
    decode_binary,
    decode_decimal,
    decode_digits,
    decode_md,
    decode_packed,
    decode_text,
    decode_wareki,
    decode_ym,
    decode_ymd,
    decode_zoned,
)
from migrate.decode.distinct import distinct_rows, spread
from migrate.layouts import FieldSpec, SourceSpec

RUN_DATE = "__run_date"  # the header values' key of the run's date (md fields' year)


def decode_field(spec: FieldSpec, cells: np.ndarray, source: SourceSpec,
                 header: dict[str, Any] | None = None) -> FieldResult:
    """Decode one field column by its declared type (each distinct cell once, when the
    column's values repeat: see migrate.decode.distinct). `header`: the header values and the
    run date, where an md (MMDD) field takes its year."""
    found = distinct_rows(cells)
    if found is None:
        return _decode_by_type(spec, cells, source, header)
    distinct, index = found
    return spread(_decode_by_type(spec, distinct, source, header), index)


def _md(spec: FieldSpec, cells: np.ndarray, source: SourceSpec,
        header: dict[str, Any] | None) -> FieldResult:
    """MMDD with its year from a header field (a year, or a date whose year is taken) or from
    the run date by the field's rule."""
    header = header or {}
    year = run_date = None
    if spec.year_from == "run_date":
        run_date = header.get(RUN_DATE)
    elif spec.year_from:
        value = header.get(spec.year_from.removeprefix("header."))
        text = "" if value is None else str(value)
        year = int(text[:4]) if text[:4].isdigit() else None
    return decode_md(cells, year=year, run_date=run_date, rule=spec.year_rule,
                     lenient_calendar=spec.lenient_calendar, unknown=source.unknown_date_parts)


def _decode_by_type(spec: FieldSpec, cells: np.ndarray, source: SourceSpec,
                    header: dict[str, Any] | None = None) -> FieldResult:
    if spec.type == "text":
        return decode_text(cells, encoding=source.encoding, gaiji=source.gaiji, strip=spec.strip)
    if spec.type == "digits":
        return decode_digits(cells)
    if spec.type == "zoned":
        return decode_zoned(cells, scale=spec.scale)
    if spec.type == "packed":
        return decode_packed(cells, scale=spec.scale)
    if spec.type == "decimal":
        return decode_decimal(cells, scale=spec.scale)
    if spec.type == "binary":
        return decode_binary(cells, scale=spec.scale)
    if spec.type == "wareki":
        return decode_wareki(cells, eras=source.eras, lenient_calendar=spec.lenient_calendar,
                             unknown=source.unknown_date_parts)
    if spec.type == "ymd":
        return decode_ymd(cells, lenient_calendar=spec.lenient_calendar,
                          unknown=source.unknown_date_parts)
    if spec.type == "ym":
        return decode_ym(cells, unknown=source.unknown_date_parts)
    if spec.type == "md":
        return _md(spec, cells, source, header)
    raise AssertionError(spec.type)

