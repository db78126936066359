"""A designated fixed-width format written back from the standard data: a mapping run in reverse.

Each standard column goes back into the field it came from (migrate.transform.encode does the
bytes): code tables in reverse (the first vendor code of each standard code), full-width kana
back to half-width, characters the encoding lacks back to their 外字 codes, 和暦 and YYYYMMDD
dates with 00 for unknown parts, packed and zoned decimals, digits as text. Records come in
`src_record` order between a header (its mapped columns from the rows, the others from the
run's run.json when there is one) and a trailer whose count and control totals are recomputed.

Child records (multi-record files) come back from the layout that keeps them one row each when
the source holds it (`write_back` with `records`: migrate.export.childrows), byte for byte and
in the file's order. Otherwise they are rebuilt from the columns they fed: after each parent
record, one child record per `where` group the row has a value in, in the order the columns are
declared, with the key fields copied from the parent and the `where` values written back; two
records of one group (two employers' salaries) then come back as one holding their sum.

A field no column of the layout keeps but another layout does (the mapping's `write_back`:
zeimu's 氏名 from juki/v1) is written from that layout when the export's source holds it, and a
child field equal by rule to another of its record (利子: 収入金額 = 所得金額) from that field's
column. What the standard data no longer knows is not invented: any other field that feeds no
column is written as spaces (a packed one as 0: packed has no blank form). A text field is
padded with full-width spaces when the batch's values of that field hold double-byte
characters, else with spaces. A mapping that cannot be reversed (a child count, a `where` of several values, a
delimited source) is refused with the reason.

The generator (migrate.synth) has a record writer too, but it sits on the same layer as this
package and may not be imported from here; both build on migrate.transform.encode.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jaconv
import numpy as np
import polars as pl

from migrate.errors import UsageError
from migrate.export.cells import dates_of, integers_of
from migrate.export.childrows import ChildRows
from migrate.export.source import Dataset, batches, find_datasets
from migrate.export.tables import compact
from migrate.layouts import ChildRecord, ColumnMapping, FieldSpec, Mapping
from migrate.sinks.atomic import private_open
from migrate.transform.encode import (
    encode_binary,
    encode_digits,
    encode_md,
    encode_packed,
    encode_text,
    encode_wareki,
    encode_ym,
    encode_ymd,
    encode_zoned,
)

SPACE = 0x20
VALUE = "__value"
FULL_SPACE = "\u3000"


def _ibm_forms(encoding: str) -> dict[str, bytes]:
    """cp932 writes 髙, 﨑 and the other IBM extension kanji as NEC-selected codes (0xED/0xEE);
    a mainframe-style export writes the IBM codes (0xFA-0xFC), which decode the same: the
    characters whose NEC form the codec picks, with their IBM bytes."""
    if encoding.replace("-", "").replace("_", "").lower() not in ("cp932", "windows31j",
                                                                 "ms932", "mskanji"):
        return {}
    forms: dict[str, bytes] = {}
    for lead in (0xFA, 0xFB, 0xFC):
        for trail in range(0x40, 0xFD):
            raw = bytes([lead, trail])
            try:
                char = raw.decode(encoding)
            except UnicodeDecodeError:
                continue
            if char.encode(encoding)[:1] in (b"\xed", b"\xee"):
                forms[char] = raw
    return forms


def check_reversible(mapping: Mapping, *, whole: bool = True) -> None:
    """Refuse a mapping whose file cannot be written back (the reason in the error). `whole`:
    the mapping writes the whole file (not the child records of another mapping's file, which
    may skip record types)."""
    if mapping.source.delimited or mapping.source.format != "fixed":
        raise UsageError("the mapping {mapping} does not describe a fixed-width file",
                         {"mapping": mapping.id},
                         hint="--format fixed writes the layout of a fixed-width mapping.")
    rt = mapping.source.record_types
    skipped = [code for code, role in (rt.code_roles() if rt else ()) if role == "ignore"]
    if skipped and whole:
        raise UsageError(
            "the mapping {mapping} cannot be reversed: it skips the records of type {codes}, "
            "so the file cannot be written back from its rows alone",
            {"mapping": mapping.id, "codes": ", ".join(skipped)},
            hint="Write the file with the mapping that reads those records; it may take this "
                 "mapping's rows as its child records (write_back with records:).")
    for cm in mapping.columns:
        if cm.split:
            raise UsageError(
                "the mapping {mapping} cannot be reversed: column {column} is a part of the "
                "address field {field}", {"mapping": mapping.id, "column": cm.column,
                                          "field": cm.source},
                hint="Export this layout as CSV or Parquet.")
        if cm.kind == "codes":
            raise UsageError(
                "the mapping {mapping} cannot be reversed: column {column} comes from a code "
                "table keyed by several fields", {"mapping": mapping.id, "column": cm.column},
                hint="A standard code cannot tell which combination of vendor values it came "
                     "from; export this layout as CSV or Parquet.")
        if cm.kind != "child":
            continue
        params = {"mapping": mapping.id, "column": cm.column, "record": cm.record}
        if cm.aggregate == "count":
            raise UsageError(
                "the mapping {mapping} cannot be reversed: column {column} counts child records "
                "({record}); a count does not say what the records held", params,
                hint="Export this layout as CSV or Parquet.")
        several = next((key for key, allowed in cm.where if len(allowed) != 1), None)
        if several is not None:
            raise UsageError(
                "the mapping {mapping} cannot be reversed: column {column} gathers child records "
                "({record}) of several {field} values; the way back cannot tell which to write",
                {**params, "field": several}, hint="Export this layout as CSV or Parquet.")


@dataclass
class ChildGroup:
    """The child records one `where` selects, written back one per parent row that has a value
    in any column they fed: the record type, the key fields from the parent, the `where` values,
    each fed field from its column."""

    child: ChildRecord
    where: dict[str, str]
    columns: dict[str, ColumnMapping] = field(default_factory=dict)  # child field → column


def child_groups(mapping: Mapping) -> list[ChildGroup]:
    """The groups in the order their columns are declared (the order the records are written)."""
    groups: dict[tuple[str, tuple[tuple[str, str], ...]], ChildGroup] = {}
    for cm in mapping.columns:
        if cm.kind != "child" or cm.record is None:
            continue
        where = tuple((key, allowed[0]) for key, allowed in cm.where)
        group = groups.setdefault((cm.record, where),
                                  ChildGroup(mapping.children[cm.record], dict(where)))
        group.columns.setdefault(cm.source, cm)
    return list(groups.values())


def unkept_fields(mapping: Mapping) -> list[str]:
    """Data and child fields that feed no standard column and are not written back from another
    layout (`write_back`): the way back writes them blank (0 when packed, which has no blank
    form). Child key and `where` fields are rebuilt."""
    groups = child_groups(mapping)
    fed = {cm.source for cm in mapping.columns if cm.kind == "field"} | set(mapping.write_back)
    fed |= {f"{g.child.name}.{name}" for g in groups
            for name in (*g.columns, *g.where, *(c for c, _ in g.child.key))}
    names = list(mapping.fields) + [f"{child.name}.{name}" for child in
                                    mapping.children.values() for name in child.fields]
    return [name for name in names if name not in fed]


class FixedWriter:
    """Encodes frames of standard rows into records of one mapping."""

    def __init__(self, mapping: Mapping, header_values: dict[str, Any] | None = None,
                 write_back: dict[str, pl.DataFrame] | None = None,
                 records: dict[str, Iterator[pl.DataFrame]] | None = None, *,
                 whole: bool = True):
        check_reversible(mapping, whole=whole)
        self.mapping = mapping
        self.write_back = write_back or {}  # field → (its match columns, VALUE)
        self.source = mapping.source
        self.header_values = header_values or {}
        self.gaiji = {char: pua for pua, char in self.source.gaiji.items()}
        self.ibm = _ibm_forms(self.source.encoding)
        self.ibm_chars = re.compile("[" + re.escape("".join(self.ibm)) + "]") if self.ibm \
            else None
        self.field_column: dict[str, Any] = {}  # field → its (first) column mapping
        self.header_column: dict[str, str] = {}  # header field → column
        for cm in mapping.columns:
            if cm.kind == "field" and cm.source:
                self.field_column.setdefault(cm.source, cm)
            elif cm.kind == "header" and cm.source:
                self.header_column.setdefault(cm.source, cm.column)
        self.record_column = next((cm.column for cm in mapping.columns
                                   if cm.kind == "record_number"), None)
        # the child groups rebuilt from the parent's columns (not those written from rows)
        self.groups = [g for g in child_groups(mapping) if g.child.name not in (records or {})]
        self.reverse_codes = {}
        for cm in [*self.field_column.values(),
                   *(c for g in self.groups for c in g.columns.values())]:
            if cm.codes is not None:
                table: dict[str, str] = {}
                for vendor, standard in cm.codes.mapping.items():
                    table.setdefault(standard, vendor)
                self.reverse_codes[cm.column] = table
        self.count = 0
        self.totals = dict.fromkeys(mapping.trailer.control_totals, 0) if mapping.trailer \
            else {}
        self.rows = {name: ChildRows(self, FixedWriter(mapping.write_back[name].records,
                                                       whole=False),
                                     mapping.write_back[name], frames)
                     for name, frames in (records or {}).items()}

    # -- one field

    def _texts(self, values: pl.Series, cm: Any, missing: str | None = None
               ) -> list[str | None]:
        texts = values.cast(pl.Utf8).to_list()
        if cm is not None and cm.column in self.reverse_codes:
            table = self.reverse_codes[cm.column]
            texts = [None if v is None else table.get(v, v) for v in texts]
        if cm is not None and cm.kana == "fullwidth":
            texts = [None if v is None else jaconv.z2h(v, kana=True, ascii=False, digit=False)
                     for v in texts]
        if self.gaiji or missing:
            texts = [None if v is None else "".join(self._char(c, missing) for c in v)
                     for v in texts]
        return texts

    def _char(self, char: str, missing: str | None = None) -> str:
        try:
            char.encode(self.source.encoding)
            return char
        except UnicodeEncodeError:
            return self.gaiji.get(char, missing or char)

    def encode(self, spec: FieldSpec, values: pl.Series, cm: Any = None,
               missing: str | None = None) -> np.ndarray:
        if spec.type == "digits" and values.dtype.is_integer():  # a count: zero-padded
            return encode_digits(values.fill_null(0).to_numpy(), spec.length)
        if spec.type in ("text", "digits"):
            texts = self._texts(values, cm, missing)
            if spec.type == "digits":
                return encode_text(texts, spec.length, encoding="ascii", pad="half")
            double = any(v is not None and len(v.encode(self.source.encoding, "replace"))
                         > len(v) for v in texts)
            pad = "full" if double else "half"
            cells = encode_text(texts, spec.length, encoding=self.source.encoding, pad=pad)
            if self.ibm_chars is not None:
                for row, text in enumerate(texts):
                    if text is not None and self.ibm_chars.search(text):
                        cells[row] = self._ibm_cell(text, spec.length, pad)
            return cells
        if spec.type in ("wareki", "ymd", "ym", "md"):
            y, m, d = dates_of(values)
            if spec.type == "wareki":
                return encode_wareki(y, m, d, eras=self.source.eras)
            if spec.type == "ym":
                return encode_ym(y, m)
            if spec.type == "md":  # the year is the header's or the run date's, not written
                return encode_md(m, d)
            return encode_ymd(y, m, d)
        numbers, present = integers_of(values, spec.scale)
        if spec.type == "packed":
            return encode_packed(numbers, spec.length)
        if spec.type == "binary":
            return encode_binary(numbers, spec.length)
        if spec.type == "zoned":  # S9(n) overpunches every sign, 9(n) only a negative one
            cells = encode_zoned(numbers, spec.length, signed=True)
            if not spec.signed:
                plain = encode_zoned(np.abs(numbers), spec.length, signed=False)
                cells = np.where((numbers < 0)[:, None], cells, plain)
            cells[~present] = SPACE
            return cells
        raise UsageError("the field {field} has type {type}, which cannot be written back",
                         {"field": spec.name, "type": spec.type}, file=self.mapping.path)

    def _ibm_cell(self, text: str, width: int, pad: str) -> np.ndarray:
        """One text cell with IBM extension codes, padded as encode_text pads."""
        encoding = self.source.encoding
        raw = b"".join(self.ibm.get(c) or c.encode(encoding) for c in text)
        unit = FULL_SPACE.encode(encoding) if pad == "full" else b" "
        raw += unit * ((width - len(raw)) // len(unit))
        return np.frombuffer(raw.ljust(width, b" "), np.uint8)

    # -- records

    def _frame(self, n: int, kind: str | None) -> np.ndarray:
        records = np.full((n, self.source.stride), SPACE, np.uint8)
        records[:, self.source.record_length:] = np.frombuffer(self.source.newline, np.uint8)
        rt = self.source.record_types
        if rt is not None and kind is not None:
            records[:, rt.offset:rt.offset + rt.length] = np.frombuffer(kind.encode("ascii"),
                                                                        np.uint8)
        return records

    def _write_field(self, records: np.ndarray, spec: FieldSpec, values: pl.Series,
                     cm: ColumnMapping | None, name: str, missing: str | None = None) -> None:
        try:
            records[:, spec.offset:spec.end] = self.encode(spec, values, cm, missing)
        except ValueError as error:
            raise UsageError("column {column} cannot be written into field {field}: "
                             "{reason}", {"column": values.name, "field": name,
                                          "reason": str(error)},
                             file=self.mapping.path, field_name=name) from None

    def data(self, frame: pl.DataFrame) -> bytes:
        rt = self.source.record_types
        records = self._frame(frame.height, rt.data if rt else None)
        for name, spec in self.mapping.fields.items():
            cm = self.field_column.get(name)
            if cm is None and name in self.write_back:
                wb = self.mapping.write_back[name]
                mine = [m for m, _ in (wb.through[1] if wb.through else wb.match)]
                values = frame.select(mine).join(self.write_back[name], on=mine, how="left",
                                                 maintain_order="left")[VALUE]
                self._write_field(records, spec, values, None, name, wb.missing)
                continue
            if cm is None or cm.column not in frame.columns:
                continue
            self._write_field(records, spec, frame[cm.column], cm, name)
            if name in self.totals:
                self.totals[name] += int(integers_of(frame[cm.column], spec.scale)[0].sum())
        self.count += frame.height
        if self.groups and frame.height:
            records = self._with_children(frame, records)
        if self.rows and frame.height:
            records = self._with_rows(frame, records)
        return records.tobytes()

    def _with_rows(self, frame: pl.DataFrame, parents: np.ndarray) -> np.ndarray:
        """The records written from other rows (`ChildRows`) put among the parents in the
        order of their source record numbers: each after the parent it followed."""
        if self.record_column is None or self.record_column not in frame.columns:
            raise UsageError("the rows of {layout} have no source record number; the records "
                             "written from other rows cannot be put after their parents",
                             {"layout": self.mapping.target.id}, file=self.mapping.path)
        order = frame[self.record_column].cast(pl.Int64).to_numpy()
        parts, numbers = [parents], [order]
        for rows in self.rows.values():
            records, at = rows.before(frame, order, int(order[-1]))
            parts.append(records)
            numbers.append(at)
        merged = np.concatenate(numbers)
        sequence = np.argsort(merged, kind="stable")
        return np.concatenate(parts)[sequence]

    def finish(self) -> bytes:
        """The records written from other rows that follow the last parent (before the
        trailer)."""
        blocks = [rows.rest() for rows in self.rows.values()]
        return b"".join(block.tobytes() for block in blocks)

    def _with_children(self, frame: pl.DataFrame, parents: np.ndarray) -> np.ndarray:
        """Each parent record followed by its child records, one per group it has a value in,
        in group order."""
        n = frame.height
        present = np.zeros((n, len(self.groups)), bool)
        for g, group in enumerate(self.groups):
            for cm in group.columns.values():
                if cm.column in frame.columns:
                    present[:, g] |= frame[cm.column].is_not_null().to_numpy()
        per_parent = present.sum(axis=1)
        parent_pos = np.arange(n) + np.cumsum(per_parent) - per_parent
        rank = np.cumsum(present, axis=1) - present
        out = np.empty((n + int(per_parent.sum()), self.source.stride), np.uint8)
        out[parent_pos] = parents
        for g, group in enumerate(self.groups):
            rows = np.flatnonzero(present[:, g])
            if len(rows):
                out[parent_pos[rows] + 1 + rank[rows, g]] = self._children(
                    group, frame[rows], parents[rows])
        self.count += int(per_parent.sum())
        return out

    def _children(self, group: ChildGroup, frame: pl.DataFrame, parents: np.ndarray
                  ) -> np.ndarray:
        child = group.child
        records = self._frame(frame.height, child.code)
        for name, spec in child.fields.items():
            qualified = f"{child.name}.{name}"
            parent_field = dict(child.key).get(name)
            if parent_field is not None and spec == self._same_as(parent_field, spec):
                parent = self.mapping.fields[parent_field]
                records[:, spec.offset:spec.end] = parents[:, parent.offset:parent.end]
                continue
            cm = group.columns.get(name)
            if name in group.where:
                values = pl.Series(name, [group.where[name]] * frame.height, pl.Utf8)
            elif cm is not None and cm.column in frame.columns:
                values = frame[cm.column]
            elif parent_field is not None and parent_field in self.field_column:
                cm = self.field_column[parent_field]
                values = frame[cm.column]
            elif (same := self._equal_field(group, qualified)) is not None:
                cm = same
                values = frame[cm.column]
            elif spec.type == "packed":  # no blank form: an amount not kept is 0
                values = pl.Series(name, [0] * frame.height, pl.Int64)
            else:
                continue
            self._write_field(records, spec, values, cm, qualified)
            if qualified in self.totals:
                self.totals[qualified] += int(integers_of(values, spec.scale)[0].sum())
        return records

    def _equal_field(self, group: ChildGroup, qualified: str) -> ColumnMapping | None:
        """The column of the field a child field equals in this group (`write_back: same_as`)."""
        wb = self.mapping.write_back.get(qualified)
        if wb is None or wb.same_as is None or dict(wb.where) != group.where:
            return None
        return group.columns.get(wb.same_as)

    def _same_as(self, parent_field: str, spec: FieldSpec) -> FieldSpec:
        """The child key field as the parent field would be if it had the same bytes."""
        parent = self.mapping.fields[parent_field]
        return replace(parent, name=spec.name, offset=spec.offset, line=spec.line)

    def header(self, first: pl.DataFrame | None) -> bytes:
        rt = self.source.record_types
        if rt is None or rt.header is None:
            return b""
        record = self._frame(1, rt.header)
        for name, spec in self.mapping.header_fields.items():
            column = self.header_column.get(name)
            if column is not None and first is not None and first.height:
                value = first[column].head(1)
            elif name in self.header_values:
                value = pl.Series([self.header_values[name]])
            else:
                continue
            record[:, spec.offset:spec.end] = self.encode(spec, value)
        return record.tobytes()

    def trailer(self) -> bytes:
        rt = self.source.record_types
        trailer = self.mapping.trailer
        if rt is None or rt.trailer is None:
            return b""
        record = self._frame(1, rt.trailer)
        if trailer is not None:
            specs = [(trailer.count, self.count)] if trailer.count else []
            specs += [(spec, self.totals[name]) for name, spec in
                      trailer.control_totals.items()]
            for spec, number in specs:
                record[:, spec.offset:spec.end] = self.encode(spec, pl.Series([number]))
        return record.tobytes()


def _columns(dataset: Dataset, columns: list[str], keys: list[str]) -> pl.DataFrame:
    """Some columns of a dataset, one row per key (the first)."""
    parts = [compact(frame.select(columns)) for frame in batches(dataset)]
    table = pl.concat(parts) if parts else pl.DataFrame(schema=dict.fromkeys(columns, pl.Utf8))
    return table.drop_nulls(keys).unique(subset=keys, keep="first", maintain_order=True)


def write_back_tables(mapping: Mapping, source: Path | str) -> dict[str, pl.DataFrame]:
    """For each `write_back` field whose layouts the source holds: the values to write, by the
    columns of the mapping's layout they match (the field's column of the other layout, two
    columns of it when it goes `through` a third). A field whose layouts the source does not
    hold is left out (written blank). Held in memory: one key and one value per row of that
    layout."""
    tables = {}
    for name, wb in mapping.write_back.items():
        if wb.same_as is not None or wb.records is not None:  # not from a table of values
            continue
        try:
            found = {d.layout: d for d in find_datasets(source, wb.layouts)}
        except UsageError:
            continue
        theirs = [t for _, t in wb.match]
        table = _columns(found[wb.layout], [*theirs, wb.column], theirs).select(
            *(pl.col(t).alias(m) for m, t in wb.match), pl.col(wb.column).alias(VALUE))
        if wb.through is not None:
            layout, pairs = wb.through
            middle = _columns(found[layout], list(dict.fromkeys(
                [*(t for _, t in pairs), *(m for m, _ in wb.match)])), [t for _, t in pairs])
            table = middle.join(table, on=[m for m, _ in wb.match], how="left").select(
                *(pl.col(t).alias(m) for m, t in pairs), VALUE)
        tables[name] = table
    return tables


def write_back_records(mapping: Mapping, source: Path | str) -> dict[str, Iterator[pl.DataFrame]]:
    """For each child record type written from another mapping's rows (`write_back` with
    `records`) whose layout the source holds: those rows, in batches. A record type whose
    layout the source does not hold is rebuilt from the parent's columns instead."""
    out = {}
    for name, wb in mapping.write_back.items():
        if wb.records is None:
            continue
        try:
            found = find_datasets(source, [wb.layout])
        except UsageError:
            continue
        if found:
            out[name] = batches(found[0])
    return out


def write_fixed(frames: Iterator[pl.DataFrame], mapping: Mapping, target: Path,
                header_values: dict[str, Any] | None = None,
                write_back: dict[str, pl.DataFrame] | None = None,
                records: dict[str, Iterator[pl.DataFrame]] | None = None
                ) -> tuple[int, int, str]:
    """Write the legacy file; returns (data records, bytes, sha256)."""
    writer = FixedWriter(mapping, header_values, write_back, records)
    digest = hashlib.sha256()
    size = 0
    first: pl.DataFrame | None = None
    with private_open(target, "wb") as handle:
        # the header needs the first rows; it is written before them
        pending: list[bytes] = []
        for frame in frames:
            if writer.record_column and writer.record_column in frame.columns:
                frame = frame.sort(writer.record_column)
            if first is None:
                first = frame.head(1)
                pending.append(writer.header(first))
            pending.append(writer.data(frame))
            for block in pending:
                handle.write(block)
                digest.update(block)
                size += len(block)
            pending = []
        if first is None:
            pending.append(writer.header(None))
        pending.append(writer.finish())
        pending.append(writer.trailer())
        for block in pending:
            handle.write(block)
            digest.update(block)
            size += len(block)
    return writer.count, size, digest.hexdigest()
