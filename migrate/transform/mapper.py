"""Apply a mapping to a chunk of records: slice fields as columns, decode, map to standard columns.

Works column by column on the whole chunk (numpy slices → polars Series); the only per-row Python
is the description of the (rare) rows that have a problem, for the rejects file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from migrate.decode import FieldResult, to_fullwidth_kana
from migrate.decode.result import UNKNOWN_ERA, copy_rows
from migrate.layouts import ChildRecord, ColumnMapping, ColumnSpec, FieldSpec, Mapping, SourceSpec
from migrate.layouts.tables import gaiji_identifiers
from migrate.pii import mask, show_bytes
from migrate.problems import concat_problems, problems_frame
from migrate.read import slot_offsets
from migrate.read.fixed import CHILD, DATA, UNKNOWN, RecordChunk
from migrate.transform.decoding import RUN_DATE, decode_field
from migrate.transform.derived import composite_codes, count_gaiji, one_reject, split_column
from migrate.transform.figures import (
    expect_problems,
    figure_fields,
    figure_values,
    needs_values,
)
from migrate.transform.lookups import LookupTables
from migrate.transform.repertoire import outside

RECORD_COL = "__record"
OFFSET_COL = "__offset"



def field_offsets(mapping: Mapping) -> dict[str, tuple[str | None, int]]:
    """column → (source field, byte offset in the record), to locate validation problems."""
    return {cm.column: (cm.source, mapping.fields[cm.source].offset)
            for cm in mapping.columns if cm.kind == "field"}


SPLIT_BLOCK_ROWS = 2048  # records cut at a time: 0.9 MB of 432-byte records stays in cache


def split_fields(records: np.ndarray, specs: list[FieldSpec]) -> list[np.ndarray]:
    """Each field's cells as a C-contiguous (n, width) array of its own.

    Cutting one field at a time out of a 32 MB chunk reads every record's cache lines again
    for each field; cutting every field out of a block of records while it is in cache reads
    the chunk from memory once.
    """
    n = len(records)
    out = [np.empty((n, spec.end - spec.offset), np.uint8) for spec in specs]
    for start in range(0, n, SPLIT_BLOCK_ROWS):
        block = records[start:start + SPLIT_BLOCK_ROWS]
        for spec, cells in zip(specs, out, strict=True):
            copy_rows(block[:, spec.offset:spec.end], cells[start:start + SPLIT_BLOCK_ROWS])
    return out


def rows_of(records: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """records[idx] without copying the chunk when idx is a run of consecutive rows (every
    record of a chunk but its header or trailer, the usual case): fields are sliced from it."""
    if len(idx) and idx[-1] - idx[0] == len(idx) - 1:
        return records[idx[0]:idx[-1] + 1]
    return records[idx]


def decode_header(mapping: Mapping, record: bytes, run_date: Any = None) -> dict[str, Any]:
    """Decode the header record's fields (a single row); md fields last, as they may take
    their year from another header field."""
    row = np.frombuffer(record, dtype=np.uint8).reshape(1, -1)
    values: dict[str, Any] = {RUN_DATE: run_date} if run_date is not None else {}
    specs = sorted(mapping.header_fields.items(), key=lambda item: item[1].type == "md")
    for name, spec in specs:
        result = decode_field(spec, row[:, spec.offset:spec.end], mapping.source, values)
        values[name] = result.values[0]
        if result.errors[0] is not None:
            values[f"{name}.__error"] = result.errors[0]
    return values


def describe_cells(cells: np.ndarray, rows: np.ndarray, spec: FieldSpec, source: SourceSpec,
                   pii: str | None, reasons: list[str | None] | None = None) -> list[str]:
    """Masked, human-readable rendering of the raw bytes of some rows of a field. Only what is
    personal is masked: the era code of an `unknown_era` date is the cause, not the person,
    so it stays readable in front of the masked digits."""
    out = []
    era = source.eras.code_width if spec.type == "wareki" else 0
    for i, row in enumerate(rows):
        raw = cells[row].tobytes()
        if spec.type in ("packed", "binary"):
            text = "<" + " ".join(f"{b:02X}" for b in raw) + ">"
            out.append("<****>" if pii else text)
        elif pii and era and reasons is not None and reasons[i] == UNKNOWN_ERA:
            out.append(show_bytes(raw[:era], source.encoding)
                       + (mask(show_bytes(raw[era:], source.encoding), pii) or ""))
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
    control_values: dict[str, pl.DataFrame]  # control-total field → (record, value Int64)
    groups: pl.DataFrame | None = None  # multi-record: (record, parent) of every data/child record
    defaults: dict[str, int] = field(default_factory=dict)  # column → records given its default
    gaiji: dict[str, int] = field(default_factory=dict)  # 外字 code → times replaced
    figure_values: dict[str, pl.DataFrame] | None = None  # trailer figure → (record, value)


class ChunkMapper:
    """Holds what is fixed for a run (mapping, header values) and maps chunks."""

    def __init__(self, mapping: Mapping, header: dict[str, Any], file_name: str = "",
                 lookup_dir: Path | None = None):
        self.mapping = mapping
        self.header = header
        self.file_name = file_name
        self.lookups = LookupTables(lookup_dir)
        self.strict_chars = mapping.source.strict_chars
        self.gaiji_chars = frozenset(mapping.source.gaiji.values())
        self.schema = mapping.target
        totals = mapping.trailer.control_totals if mapping.trailer else {}
        # the trailer figures that need the values of data (not child) records
        self.figures = [f for f in (mapping.trailer.figures if mapping.trailer else ())
                        if needs_values(f)]
        self.used_fields = sorted(
            {name for cm in mapping.columns for name in cm.reads}
            | {n for n in totals if n in mapping.fields}
            | {n for n, spec in mapping.fields.items() if spec.expect is not None}
            | {n for f in self.figures if f.record is None for n in figure_fields(f)},
            key=lambda n: mapping.fields[n].offset)
        self.slot_of: dict[int, int] = {}  # delimited: synthetic offset → slot index
        if mapping.source.delimited:
            self.slot_of = {offset: i for i, offset in enumerate(slot_offsets(mapping))}

    def offsets(self, chunk: RecordChunk, rows: np.ndarray, spec: FieldSpec | None
                ) -> np.ndarray:
        """File offset of a field's bytes in some rows of the chunk (the cell, when delimited)."""
        if spec is None:
            return chunk.byte_offsets()[rows]
        if chunk.cell_offsets is not None:
            return chunk.cell_offsets[rows, self.slot_of[spec.offset]]
        return chunk.byte_offsets()[rows] + spec.offset

    def decode_fields(self, chunk: RecordChunk, names: list[str]
                      ) -> tuple[dict[str, FieldResult], np.ndarray]:
        """Some data fields of a chunk's data records, decoded (problems not reported), with
        their record numbers: what a first pass needs."""
        data_idx = np.flatnonzero(chunk.kinds == DATA)
        specs = [self.mapping.fields[n] for n in dict.fromkeys(names)]
        cut = split_fields(rows_of(chunk.records, data_idx), specs)
        return ({spec.name: decode_field(spec, cells, self.mapping.source)
                 for spec, cells in zip(specs, cut, strict=True)},
                chunk.record_numbers[data_idx])

    def map(self, chunk: RecordChunk, on_field: Callable[[], None] | None = None
            ) -> MappedChunk:
        """Map a chunk; `on_field` is called after each field is decoded (`len(used_fields)`
        calls), so that a long chunk can report progress as it goes."""
        source = self.mapping.source
        self.gaiji: Counter = Counter()  # 外字 replaced in this chunk, by code
        numbers = chunk.record_numbers
        unknown = np.flatnonzero(chunk.kinds == UNKNOWN)
        problems = []
        if len(unknown):
            rt = source.record_types
            codes = [show_bytes(chunk.records[i, rt.offset:rt.offset + rt.length].tobytes(),
                                source.encoding) for i in unknown]
            problems.append(problems_frame(numbers[unknown], chunk.byte_offsets()[unknown],
                                           field="record_type", column=None,
                                           reasons="unknown_record_type", values=codes))
        data_idx = np.flatnonzero(chunk.kinds == DATA)
        records = rows_of(chunk.records, data_idx)
        rec_no = numbers[data_idx]
        rec_off = chunk.byte_offsets()[data_idx]
        if chunk.too_long is not None:
            problems.extend(self._cell_problems(chunk, data_idx))
        decoded: dict[str, FieldResult] = {}
        warnings: list[pl.DataFrame] = []
        specs = [self.mapping.fields[name] for name in self.used_fields]
        for spec, cells in zip(specs, split_fields(records, specs), strict=True):
            pii = self.mapping.pii_of_field(spec.name)
            decoded[spec.name] = self._decode(spec, cells, chunk, data_idx, rec_no, pii,
                                              self._column_of(spec.name), problems, warnings)
            if spec.expect is not None:
                bad = expect_problems(spec, decoded[spec.name].values,
                                      decoded[spec.name].errors)
                if len(bad):
                    problems.append(problems_frame(
                        rec_no[bad], self.offsets(chunk, data_idx[bad], spec), field=spec.name,
                        column=self._column_of(spec.name), reasons="unexpected_value",
                        values=describe_cells(cells, bad, spec, source, pii),
                        detail=f"expected {spec.expect}"))
            if on_field is not None:
                on_field()
        children, groups = {}, None
        if self.mapping.children:
            children, groups = self._children(chunk, records, decoded, data_idx, problems,
                                              warnings)
        columns: dict[str, pl.Series] = {}
        defaults: dict[str, int] = {}
        for cm in self.mapping.columns:
            fed = cm.fed_by
            spec = self.mapping.fields.get(fed[-1]) if fed else None
            offsets = self.offsets(chunk, data_idx, spec)
            series, column_problems = self._column(cm, decoded, children, rec_no, offsets,
                                                   len(records), defaults)
            columns[cm.column] = series
            problems.extend(column_problems)
        rows = self._assemble(columns, rec_no, rec_off)
        control = {}
        for name in (self.mapping.trailer.control_totals if self.mapping.trailer else ()):
            if name in decoded:
                control[name] = pl.DataFrame({"record": rec_no, "value": decoded[name].values
                                              .cast(pl.Int64, strict=False)})
            else:
                control[name] = children[f"control:{name}"]
        figures = {f.name: children[f"figure:{f.name}"] if f.record else
                   figure_values(f, {n: r.values for n, r in decoded.items()}, rec_no)
                   for f in self.figures}
        errors = one_reject(self.mapping, concat_problems(problems))
        return MappedChunk(rows, errors, concat_problems(warnings),
                           len(unknown), control, groups, defaults, dict(self.gaiji),
                           figure_values=figures)

    def _decode(self, spec: FieldSpec, cells: np.ndarray, chunk: RecordChunk,
                idx: np.ndarray, rec_no: np.ndarray, pii: str | None, column: str | None,
                problems: list[pl.DataFrame], warnings: list[pl.DataFrame]) -> FieldResult:
        """Decode one field of some records; its errors and warnings become problem rows."""
        result = decode_field(spec, cells, self.mapping.source, self.header)
        if spec.type == "text":
            self.gaiji.update(count_gaiji(cells, result, self.mapping.source))
        for table, series in ((problems, result.errors), (warnings, result.warnings)):
            bad = np.flatnonzero(series.is_not_null().to_numpy())
            if len(bad):
                table.append(problems_frame(
                    rec_no[bad], self.offsets(chunk, idx[bad], spec), field=spec.name,
                    column=column, reasons=series.gather(bad),
                    values=describe_cells(cells, bad, spec, self.mapping.source, pii,
                                          series.gather(bad).to_list())))
        return result

    def _cell_problems(self, chunk: RecordChunk, idx: np.ndarray) -> list[pl.DataFrame]:
        """Delimited sources: a line without a needed column, or a cell too long for its field."""
        frames = []
        numbers = chunk.record_numbers
        for name in self.used_fields:
            spec = self.mapping.fields[name]
            slot = self.slot_of[spec.offset]
            for flags, reason in ((chunk.missing, "missing_columns"),
                                  (chunk.too_long, "field_too_long")):
                bad = idx[np.flatnonzero(flags[idx, slot])]
                if len(bad):
                    frames.append(problems_frame(
                        numbers[bad], chunk.cell_offsets[bad, slot] if reason != "missing_columns"
                        else chunk.byte_offsets()[bad], field=name, column=self._column_of(name),
                        reasons=reason, detail=f"{spec.column_name or spec.column}"))
        return frames

    def _children(self, chunk: RecordChunk, parent_rows: np.ndarray,
                  decoded: dict[str, FieldResult], data_idx: np.ndarray,
                  problems: list[pl.DataFrame],
                  warnings: list[pl.DataFrame]) -> tuple[dict[str, Any], pl.DataFrame]:
        """Multi-record layouts: decode child records, tie each to the data record before it,
        and aggregate them into the parent's columns (`from: record.field`, where, aggregate)."""
        kinds = chunk.kinds
        numbers = chunk.record_numbers
        positions = np.arange(len(kinds))
        parent_pos = np.maximum.accumulate(np.where(kinds == DATA, positions, -1)) \
            if len(kinds) else positions
        member = (kinds == DATA) | (kinds >= CHILD)
        parent_record = np.where(parent_pos >= 0, numbers[np.maximum(parent_pos, 0)], -1)
        groups = pl.DataFrame({"record": numbers[member], "parent": parent_record[member],
                               "offset": chunk.byte_offsets()[member]})
        results: dict[str, Any] = {}
        parent_no = numbers[data_idx]
        totals = self.mapping.trailer.control_totals if self.mapping.trailer else {}
        for i, child in enumerate(self.mapping.children.values()):
            idx = np.flatnonzero(kinds == CHILD + i)
            rec_no = numbers[idx]
            parents = parent_record[idx]
            orphan = parents < 0
            if orphan.any():
                problems.append(problems_frame(
                    rec_no[orphan], chunk.byte_offsets()[idx[orphan]], field="record_type",
                    column=None, reasons="orphan_child", detail=child.name))
            specs = list(child.fields.values())
            cut = split_fields(rows_of(chunk.records, idx), specs)
            values: dict[str, pl.Series] = {}
            for spec, cells in zip(specs, cut, strict=True):
                name = spec.name
                pii = self.mapping.pii_of_field(name, child.name)
                values[name] = self._decode(spec, cells, chunk, idx, rec_no, pii,
                                            self._column_of(name, child.name), problems,
                                            warnings).values
            frame = pl.DataFrame({"__child": rec_no, "__parent": parents,
                                  "__offset": chunk.byte_offsets()[idx],
                                  **{f"f:{k}": v for k, v in values.items()}})
            problems.extend(self._key_problems(child, frame, parent_rows, decoded, parent_no,
                                               chunk, idx))
            matched = pl.repeat(False, frame.height, eager=True)
            for cm in self.mapping.columns:
                if cm.kind != "child" or cm.record != child.name:
                    continue
                condition = pl.lit(True)
                for key, allowed in cm.where:
                    condition = condition & pl.col(f"f:{key}").cast(pl.Utf8).is_in(list(allowed))
                hit = frame.select(condition.fill_null(False)).to_series()
                if cm.aggregate != "count":  # a count keeps no value of the record
                    matched = matched | hit
                results[cm.column] = self._aggregate(cm, frame.filter(hit), parent_no,
                                                     chunk.byte_offsets()[data_idx], problems)
            # A child record whose values no column takes would be lost: reject it instead.
            has_columns = any(cm.kind == "child" and cm.record == child.name
                              and cm.aggregate != "count" for cm in self.mapping.columns)
            unmatched = np.flatnonzero((~matched).to_numpy() & ~orphan) if has_columns \
                else np.empty(0, np.int64)
            if len(unmatched):
                keys = [k for cm in self.mapping.columns if cm.record == child.name
                        for k, _ in cm.where]
                shown = [", ".join(
                    f"{k}={mask(str(values[k][int(r)]), self.mapping.pii_of_field(k, child.name))}"
                    for k in dict.fromkeys(keys)) for r in unmatched]
                problems.append(problems_frame(
                    rec_no[unmatched], chunk.byte_offsets()[idx[unmatched]], field=None,
                    column=None, reasons="child_not_mapped", values=shown, detail=child.name))
            for figure in self.figures:
                if figure.record == child.name:
                    results[f"figure:{figure.name}"] = figure_values(figure, values, rec_no)
            for name in totals:
                record, _, child_field = name.partition(".")
                if record == child.name:
                    results[f"control:{name}"] = pl.DataFrame({
                        "record": rec_no, "value": values[child_field].cast(pl.Int64,
                                                                            strict=False)})
        return results, groups

    def _key_problems(self, child: ChildRecord, frame: pl.DataFrame, records: np.ndarray,
                      decoded: dict[str, FieldResult], parent_no: np.ndarray, chunk: RecordChunk,
                      idx: np.ndarray) -> list[pl.DataFrame]:
        """A child whose key fields differ from its parent's belongs to someone else.
        `records` are the chunk's data (parent) records; a key field no column maps is
        decoded here, silently (it only serves the comparison)."""
        out = []
        parents = pl.DataFrame({"__parent": parent_no})
        for child_field, parent_field in child.key:
            if parent_field not in decoded:
                spec = self.mapping.fields[parent_field]
                decoded[parent_field] = decode_field(spec, records[:, spec.offset:spec.end],
                                                     self.mapping.source)
            joined = frame.select("__child", "__parent", pl.col(f"f:{child_field}")
                                  .cast(pl.Utf8).alias("mine")).join(
                parents.with_columns(decoded[parent_field].values.cast(pl.Utf8).alias("theirs")),
                on="__parent", how="left", maintain_order="left")
            bad = np.flatnonzero(joined.select(
                (pl.col("__parent") >= 0) & (pl.col("mine") != pl.col("theirs")).fill_null(False)
            ).to_series().to_numpy())
            if len(bad):
                spec = child.fields[child_field]
                mine = self.mapping.pii_of_field(child_field, child.name)
                theirs = self.mapping.pii_of_field(parent_field)
                out.append(problems_frame(
                    joined["__child"].gather(bad), self.offsets(chunk, idx[bad], spec),
                    field=f"{child.name}.{child_field}", column=None,
                    reasons="child_key_mismatch",
                    values=[mask(v, mine) for v in joined["mine"].gather(bad).to_list()],
                    detail=[f"{parent_field}: {mask(v, theirs)} (record {p})" for v, p in
                            zip(joined["theirs"].gather(bad).to_list(),
                                joined["__parent"].gather(bad).to_list(), strict=True)]))
        return out

    def _aggregate(self, cm: ColumnMapping, hits: pl.DataFrame, parent_no: np.ndarray,
                   parent_offsets: np.ndarray, problems: list[pl.DataFrame]) -> pl.Series:
        """One parent-row value per parent from its matching child records."""
        value = pl.col(f"f:{cm.source}")
        if cm.aggregate == "count":
            agg = pl.len().cast(pl.Int64)
        elif cm.aggregate == "sum":  # in 38 digits: an Int64 sum would wrap round silently
            wide = value.cast(pl.Decimal(38, hits.schema[f"f:{cm.source}"].scale
                                         if isinstance(hits.schema[f"f:{cm.source}"],
                                                       pl.Decimal) else 0))
            agg = pl.when(value.is_not_null().any()).then(wide.sum()).otherwise(None)
        else:  # only
            agg = value.first()
            twice = hits.filter(pl.col("__parent").is_duplicated() & (pl.col("__parent") >= 0))
            if twice.height:
                problems.append(problems_frame(
                    twice["__child"], twice["__offset"], field=cm.source,
                    column=cm.column, reasons="child_ambiguous", detail=cm.record))
        per_parent = hits.filter(pl.col("__parent") >= 0).group_by("__parent").agg(
            agg.alias("v"))
        out = pl.DataFrame({"__parent": parent_no}).join(
            per_parent, on="__parent", how="left", maintain_order="left")["v"]
        if cm.aggregate == "count":
            out = out.fill_null(0)
        elif cm.aggregate == "sum":
            out = self._sum_fits(cm, out, hits.schema[f"f:{cm.source}"], parent_no,
                                 parent_offsets, problems)
        return out.alias(cm.column)

    def _repertoire(self, cm: ColumnMapping, series: pl.Series, rec_no: np.ndarray,
                    offsets: np.ndarray, problems: list[pl.DataFrame]) -> pl.Series:
        """source.strict_chars: a value with a character outside the repertoire is rejected
        (the detail names the character by its code points)."""
        rows, chars = outside(series, self.strict_chars, self.gaiji_chars)
        if not len(rows):
            return series
        pii = self.schema.column(cm.column).pii
        problems.append(problems_frame(
            rec_no[rows], offsets[rows], field=cm.source, column=cm.column,
            reasons="outside_repertoire", values=[mask(v, pii) for v in
                                                  series.gather(rows).to_list()],
            detail=[f"{self.strict_chars}: {c}" for c in chars]))
        return series.scatter(rows, None)

    def _sum_fits(self, cm: ColumnMapping, sums: pl.Series, dtype: pl.DataType,
                  parent_no: np.ndarray, parent_offsets: np.ndarray,
                  problems: list[pl.DataFrame]) -> pl.Series:
        """The sums back in the field's dtype; a sum too large for it rejects its parent."""
        narrow = sums.cast(dtype, strict=False)
        bad = np.flatnonzero((sums.is_not_null() & narrow.is_null()).to_numpy())
        if len(bad):
            problems.append(problems_frame(
                parent_no[bad], parent_offsets[bad], field=f"{cm.record}.{cm.source}",
                column=cm.column, reasons="aggregate_overflow",
                values=[mask(str(v), self.schema.column(cm.column).pii)
                        for v in sums.gather(bad).to_list()], detail=cm.record))
        return narrow

    def map_empty(self) -> pl.DataFrame:
        """A zero-row frame with the standard dtypes (for sink schemas)."""
        return self._assemble({}, np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))

    def _column_of(self, field_name: str, record: str | None = None) -> str | None:
        names = [cm.column for cm in self.mapping.columns
                 if field_name in (cm.fed_by if record is None else (cm.source,))
                 and cm.record == record]
        return ",".join(names) or None

    def _column(self, cm: ColumnMapping, decoded: dict[str, FieldResult],
                children: dict[str, Any], rec_no: np.ndarray, offsets: np.ndarray, n: int,
                defaults: dict[str, int]) -> tuple[pl.Series, list[pl.DataFrame]]:
        spec = self.schema.column(cm.column)
        problems: list[pl.DataFrame] = []
        if cm.kind == "record_number":
            return pl.Series(cm.column, rec_no, dtype=pl.Int64), problems
        if cm.kind in ("constant", "file_name"):
            value = cm.value if cm.kind == "constant" else self.file_name
            series = pl.repeat(value, n, dtype=pl.Utf8, eager=True).alias(cm.column)
            return _cast(series, spec, rec_no, offsets, None)
        if cm.kind == "header":
            value = self.header.get(cm.source)
            series = pl.repeat(value, n, eager=True).alias(cm.column)
        elif cm.kind == "child":
            series = children[cm.column]
        elif cm.kind == "codes":
            series = pl.repeat(None, n, dtype=pl.Utf8, eager=True).alias(cm.column)
        elif cm.kind == "lookup":
            series, found = self.lookups.resolve(cm, self.mapping, decoded, rec_no)
            for rows, reason, values, details in found:
                if cm.default is None or reason != "lookup_missing":
                    problems.append(problems_frame(
                        rec_no[rows], offsets[rows], field=",".join(cm.lookup.match),
                        column=cm.column, reasons=reason, values=values, detail=details))
        else:
            series = decoded[cm.source].values.alias(cm.column)
            if cm.split:
                series = split_column(cm, self.mapping, self.header, series, rec_no,
                                      offsets, problems)
        # blank: no value and no decoding error (a field that failed is already a reject)
        blank = series.is_null()
        for name in cm.reads if cm.kind == "codes" else ():
            blank = blank & decoded[name].values.is_null()
        for name in cm.fed_by:
            blank = blank & decoded[name].errors.is_null()
        if cm.kana == "fullwidth":
            series = to_fullwidth_kana(series.cast(pl.Utf8)).alias(cm.column)
        if self.strict_chars and cm.kind == "field" \
                and self.mapping.fields[cm.source].type == "text":
            series = self._repertoire(cm, series, rec_no, offsets, problems)
        source_name = f"{cm.record}.{cm.source}" if cm.record else cm.source
        if cm.kind == "codes":
            series, code_problems = composite_codes(cm, self.mapping, decoded, rec_no,
                                                    offsets)
            problems.extend(code_problems)
            source_name = ",".join(cm.codes.key)
        elif cm.codes is not None:
            original = series.cast(pl.Utf8)
            series = original.replace_strict(cm.codes.mapping, default=None,
                                              return_dtype=pl.Utf8).alias(cm.column)
            bad = np.flatnonzero((original.is_not_null() & series.is_null()).to_numpy())
            if len(bad):
                values = [mask(v, spec.pii) for v in original.gather(bad).to_list()]
                problems.append(problems_frame(
                    rec_no[bad], offsets[bad], field=source_name, column=cm.column,
                    reasons="unknown_code", values=values,
                    detail=f"{cm.codes.path.name}"))
        if cm.default is not None:
            used = int(blank.sum())
            if used:
                defaults[cm.column] = used
                series = pl.select(pl.when(blank).then(pl.lit(cm.default)).otherwise(
                    series.cast(pl.Utf8))).to_series().alias(cm.column)
        series, cast_problems = _cast(series, spec, rec_no, offsets, source_name)
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
                data[spec.name] = pl.repeat(None, n, dtype=polars_dtype(spec), eager=True) \
                    .alias(spec.name)
        data[RECORD_COL] = pl.Series(RECORD_COL, rec_no, dtype=pl.Int64)
        data[OFFSET_COL] = pl.Series(OFFSET_COL, rec_off, dtype=pl.Int64)
        return pl.DataFrame(data)


def supplied_columns(mapping: Mapping, defaults: dict[str, int]) -> list[dict[str, Any]]:
    """The columns whose values the mapping supplied rather than the file carried, for
    run.json and the report: constants (every row) and defaults (the records they filled)."""
    out: list[dict[str, Any]] = []
    for cm in mapping.columns:
        spec = mapping.target.column(cm.column)
        if cm.kind == "constant":
            out.append({"column": cm.column, "ja": spec.ja, "en": spec.en, "how": "value",
                        "value": cm.value, "records": None})
        elif cm.default is not None:
            out.append({"column": cm.column, "ja": spec.ja, "en": spec.en, "how": "default",
                        "value": cm.default, "records": int(defaults.get(cm.column, 0))})
    return out


def gaiji_replaced(mapping: Mapping, counts: dict[str, int]) -> list[dict[str, Any]]:
    """Per 外字 code of the table, its replacement, MJ identifier and how often it was replaced
    (in the records read), for run.json."""
    path = mapping.source.gaiji_file
    if path is None:
        return []
    return [{"code": code, "char": char, "mj": mj, "count": int(counts.get(code, 0))}
            for code, (char, mj) in gaiji_identifiers(path).items()]


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
