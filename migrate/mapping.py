"""Apply a mapping to a chunk of records: slice fields as columns, decode, map to standard columns.

Works column by column on the whole chunk (numpy slices → polars Series); the only per-row Python
is the description of the (rare) rows that have a problem, for the rejects file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from migrate.decode import (
    FieldResult,
    decode_digits,
    decode_packed,
    decode_text,
    decode_wareki,
    decode_ymd,
    decode_zoned,
    to_fullwidth_kana,
)
from migrate.layouts import ColumnMapping, ColumnSpec, FieldSpec, Mapping, SourceSpec
from migrate.pii import mask, show_bytes
from migrate.problems import concat_problems, problems_frame
from migrate.read import DATA, UNKNOWN, RecordChunk

RECORD_COL = "__record"
OFFSET_COL = "__offset"


def decode_field(spec: FieldSpec, cells: np.ndarray, source: SourceSpec) -> FieldResult:
    """Decode one field column by its declared type."""
    if spec.type == "text":
        return decode_text(cells, encoding=source.encoding, gaiji=source.gaiji, strip=spec.strip)
    if spec.type == "digits":
        return decode_digits(cells)
    if spec.type == "zoned":
        return decode_zoned(cells, scale=spec.scale)
    if spec.type == "packed":
        return decode_packed(cells, scale=spec.scale)
    if spec.type == "wareki":
        return decode_wareki(cells, eras=source.eras, lenient_calendar=spec.lenient_calendar,
                             unknown=source.unknown_date_parts)
    if spec.type == "ymd":
        return decode_ymd(cells, lenient_calendar=spec.lenient_calendar,
                          unknown=source.unknown_date_parts)
    raise AssertionError(spec.type)


def decode_header(mapping: Mapping, record: bytes) -> dict[str, Any]:
    """Decode the header record's fields (a single row)."""
    row = np.frombuffer(record, dtype=np.uint8).reshape(1, -1)
    values: dict[str, Any] = {}
    for name, spec in mapping.header_fields.items():
        result = decode_field(spec, row[:, spec.offset:spec.end], mapping.source)
        values[name] = result.values[0]
        if result.errors[0] is not None:
            values[f"{name}.__error"] = result.errors[0]
    return values


def describe_cells(cells: np.ndarray, rows: np.ndarray, spec: FieldSpec, source: SourceSpec,
                   pii: str | None) -> list[str]:
    """Masked, human-readable rendering of the raw bytes of some rows of a field."""
    out = []
    for row in rows:
        raw = cells[row].tobytes()
        if spec.type == "packed":
            text = "<" + " ".join(f"{b:02X}" for b in raw) + ">"
            out.append("<****>" if pii else text)
        else:
            out.append(mask(show_bytes(raw, source.encoding), pii))
    return out


@dataclass
class MappedChunk:
    """Standard-layout rows of one chunk plus everything that went wrong on the way."""

    rows: pl.DataFrame            # schema columns + __record + __offset, one row per data record
    errors: pl.DataFrame          # problem rows (reject the record)
    warnings: pl.DataFrame        # problem rows (value kept)
    unknown_records: int          # records of an unknown type (already in errors)
    control_values: dict[str, pl.Series]  # per control-total field: Int64 value per data row


class ChunkMapper:
    """Holds what is fixed for a run (mapping, header values) and maps chunks."""

    def __init__(self, mapping: Mapping, header: dict[str, Any]):
        self.mapping = mapping
        self.header = header
        self.schema = mapping.target
        self.used_fields = sorted(
            {cm.source for cm in mapping.columns if cm.kind == "field"}
            | set(mapping.trailer.control_totals if mapping.trailer else ()),
            key=lambda n: mapping.fields[n].offset)

    def map(self, chunk: RecordChunk) -> MappedChunk:
        source = self.mapping.source
        is_data = chunk.kinds == DATA
        numbers = chunk.record_numbers
        offsets = chunk.byte_offsets()
        unknown = np.flatnonzero(chunk.kinds == UNKNOWN)
        problems = []
        if len(unknown):
            rt = source.record_types
            codes = [show_bytes(chunk.records[i, rt.offset:rt.offset + rt.length].tobytes(),
                                source.encoding) for i in unknown]
            problems.append(problems_frame(numbers[unknown], offsets[unknown], field="record_type",
                                           column=None, reasons="unknown_record_type",
                                           values=codes))
        records = chunk.records[is_data]
        rec_no = numbers[is_data]
        rec_off = offsets[is_data]
        decoded: dict[str, FieldResult] = {}
        warnings = []
        for name in self.used_fields:
            spec = self.mapping.fields[name]
            cells = records[:, spec.offset:spec.end]
            result = decode_field(spec, cells, source)
            decoded[name] = result
            pii = self.mapping.pii_of_field(name)
            for table, series in ((problems, result.errors), (warnings, result.warnings)):
                bad = np.flatnonzero(series.is_not_null().to_numpy())
                if len(bad):
                    table.append(problems_frame(
                        rec_no[bad], rec_off[bad] + spec.offset, field=name,
                        column=self._column_of(name), reasons=series.gather(bad),
                        values=describe_cells(cells, bad, spec, source, pii)))
        columns: dict[str, pl.Series] = {}
        for cm in self.mapping.columns:
            series, column_problems = self._column(cm, decoded, rec_no, rec_off, len(records))
            columns[cm.column] = series
            problems.extend(column_problems)
        rows = self._assemble(columns, rec_no, rec_off)
        control = {}
        if self.mapping.trailer:
            for name in self.mapping.trailer.control_totals:
                control[name] = decoded[name].values.cast(pl.Int64, strict=False)
        return MappedChunk(rows, concat_problems(problems), concat_problems(warnings),
                           len(unknown), control)

    def map_empty(self) -> pl.DataFrame:
        """A zero-row frame with the standard dtypes (for sink schemas)."""
        return self._assemble({}, np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))

    def _column_of(self, field_name: str) -> str | None:
        names = [cm.column for cm in self.mapping.columns
                 if cm.kind == "field" and cm.source == field_name]
        return ",".join(names) or None

    def _column(self, cm: ColumnMapping, decoded: dict[str, FieldResult], rec_no: np.ndarray,
                rec_off: np.ndarray, n: int) -> tuple[pl.Series, list[pl.DataFrame]]:
        spec = self.schema.column(cm.column)
        problems: list[pl.DataFrame] = []
        if cm.kind == "record_number":
            return pl.Series(cm.column, rec_no, dtype=pl.Int64), problems
        if cm.kind == "header":
            value = self.header.get(cm.source)
            series = pl.Series(cm.column, [value] * n)
        else:
            series = decoded[cm.source].values.alias(cm.column)
        if cm.kana == "fullwidth":
            series = to_fullwidth_kana(series.cast(pl.Utf8)).alias(cm.column)
        field = self.mapping.fields.get(cm.source) if cm.kind == "field" else None
        field_offset = field.offset if field else 0
        if cm.codes is not None:
            original = series.cast(pl.Utf8)
            series = original.replace_strict(cm.codes.mapping, default=None,
                                              return_dtype=pl.Utf8).alias(cm.column)
            bad = np.flatnonzero((original.is_not_null() & series.is_null()).to_numpy())
            if len(bad):
                values = [mask(v, spec.pii) for v in original.gather(bad).to_list()]
                problems.append(problems_frame(
                    rec_no[bad], rec_off[bad] + field_offset, field=cm.source, column=cm.column,
                    reasons="unknown_code", values=values,
                    detail=f"{cm.codes.path.name}"))
        series, cast_problems = _cast(series, spec, rec_no, rec_off + field_offset, cm.source)
        problems.extend(cast_problems)
        return series, problems

    def _assemble(self, columns: dict[str, pl.Series], rec_no: np.ndarray,
                  rec_off: np.ndarray) -> pl.DataFrame:
        n = len(rec_no)
        data = {}
        for spec in self.schema.columns:
            if spec.name in columns:
                data[spec.name] = columns[spec.name]
            else:
                data[spec.name] = pl.Series(spec.name, [None] * n, dtype=polars_dtype(spec))
        data[RECORD_COL] = pl.Series(RECORD_COL, rec_no, dtype=pl.Int64)
        data[OFFSET_COL] = pl.Series(OFFSET_COL, rec_off, dtype=pl.Int64)
        return pl.DataFrame(data)


def polars_dtype(spec: ColumnSpec) -> pl.DataType:
    """The polars dtype of a standard column."""
    return {
        "str": pl.Utf8(), "digits": pl.Utf8(), "code": pl.Utf8(), "partial_date": pl.Utf8(),
        "int": pl.Int64(), "date": pl.Date(), "flag": pl.Int8(),
        "decimal": pl.Decimal(spec.precision or 18, spec.scale),
    }[spec.dtype]


def _cast(series: pl.Series, spec: ColumnSpec, rec_no: np.ndarray, offsets: np.ndarray,
          field: str | None) -> tuple[pl.Series, list[pl.DataFrame]]:
    """Cast a mapped column to its standard dtype; values that cannot be cast are problems."""
    target = polars_dtype(spec)
    if series.dtype == target:
        return series, []
    if spec.dtype == "date":
        source = series.cast(pl.Utf8)
        result = source.str.to_date("%Y-%m-%d", strict=False)
    else:
        source = series.cast(pl.Utf8) if spec.dtype in ("str", "digits", "code",
                                                        "partial_date") else series
        result = source.cast(target, strict=False)
    bad = np.flatnonzero((source.is_not_null() & result.is_null()).to_numpy())
    problems = []
    if len(bad):
        raw = series.gather(bad).cast(pl.Utf8)
        if spec.dtype == "date":  # an incomplete (不詳) date where a full one is needed
            reasons = [("partial_date_not_allowed" if len(v) != 10 else "invalid_date")
                       for v in raw.to_list()]
        else:
            reasons = "invalid_" + spec.dtype
        values = [mask(v, spec.pii) for v in raw.to_list()]
        problems.append(problems_frame(rec_no[bad], offsets[bad], field=field,
                                       column=spec.name, reasons=reasons, values=values))
    return result.alias(spec.name), problems
