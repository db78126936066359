"""The rules `migrate check` adds to what the loaders already refuse: byte layout (overlaps,
gaps, record length), transforms that cannot apply to a field's type, and (with --all-codes)
standard codes no vendor code reaches. Each takes a loaded Mapping and its YAML (for positions)
and yields findings; none of them stops `migrate run`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from migrate.check.problem import WARNING_RULES, Problem, display_path
from migrate.layouts import FieldSpec, Mapping
from migrate.layouts.yamlpos import LocatedDict

_DATE_DTYPES = ("date", "partial_date")
_NUMBER_DTYPES = ("int", "decimal", "flag")
_DATE_FIELDS = ("wareki", "ymd")


def finding(path: Path, where: tuple[int, int], message: str, hint: str | None, rule: str,
            **params: Any) -> Problem:
    """A finding of rule `rule` at `where` (line, column) of `path`."""
    line, col = where
    return Problem(display_path(path), line or 1, col or 1,
                   "warning" if rule in WARNING_RULES else "error", rule, message, params,
                   hint, params)


def byte_layout(mapping: Mapping, data: LocatedDict) -> Iterator[Problem]:
    """Fields that overlap, bytes no field covers, and records longer than their fields.
    Fixed-width sources only (a delimited record has no byte layout)."""
    source = mapping.source
    if source.delimited:
        return
    rt = source.record_types
    taken = [FieldSpec("(record type)", rt.offset, rt.length, "text")] if rt else []
    records: list[tuple[str, list[FieldSpec], bool]] = [
        ("data", list(mapping.fields.values()), True)]
    if mapping.header_fields:
        records.append(("header", list(mapping.header_fields.values()), False))
    if mapping.trailer:
        trailer = [*([mapping.trailer.count] if mapping.trailer.count else []),
                   *mapping.trailer.control_totals.values()]
        records.append(("trailer", trailer, False))
    for child in mapping.children.values():
        records.append((child.name, list(child.fields.values()), True))
    for record, fields, whole in records:
        yield from _record_layout(mapping, data, record, [*taken, *fields], whole,
                                  record == "data")


def _record_layout(mapping: Mapping, data: LocatedDict, record: str,
                   fields: list[FieldSpec], whole: bool, to_end: bool) -> Iterator[Problem]:
    """Overlaps in any record; gaps only where every byte is data (header and trailer records
    are mostly filler); an uncovered end in the data record (child records are usually
    shorter than the record length the file pads them to)."""
    size = mapping.source.record_length
    end, last = 0, None
    for spec in sorted(fields, key=lambda f: (f.offset, f.length)):
        if last is not None and spec.offset < end:
            yield finding(mapping.path, (spec.line, spec.col),
                           "field {name} (bytes {start}–{end}) overlaps field {field} (bytes "
                           "{a}–{b})",
                           "Offsets count from 0 and lengths are in bytes; if the layout "
                           "shares these bytes on purpose, ignore this warning.", "field-overlap",
                           name=spec.name, start=spec.offset, end=spec.end - 1,
                           field=last.name, a=last.offset, b=last.end - 1)
        elif whole and spec.offset > end:
            yield finding(mapping.path, (spec.line, spec.col),
                           "bytes {start}–{end} of the {record} record, before field {name}, "
                           "are in no field",
                           "Declare them (as a text field if they are filler) or check the "
                           "offset: an off-by-one shows up as a one-byte gap.", "field-gap",
                           start=end, end=spec.offset - 1, record=record, name=spec.name)
        if spec.end > end:
            end, last = spec.end, spec
    if to_end and fields and end < size:
        source = data.get("source")
        line, col = ((source.line_of("record_length"), source.col_of("record_length"))
                     if isinstance(source, LocatedDict) else (1, 1))
        yield finding(mapping.path, (line, col),
                       "the fields of the {record} record end at byte {end}, but the record is "
                       "{size} bytes long",
                       "Check record_length against the layout document, or declare the last "
                       "bytes as a filler field.", "record-length", record=record, end=end, size=size)


def transforms(mapping: Mapping, data: LocatedDict) -> Iterator[Problem]:
    """A kana conversion, a code table or a column dtype that cannot apply to the field."""
    columns = data.get("columns")
    for cm in mapping.columns:
        if cm.kind not in ("field", "child", "header") or cm.source is None:
            continue
        where = (cm.line, columns.col_of(cm.column) if isinstance(columns, LocatedDict) else 1)
        fields = (mapping.header_fields if cm.kind == "header" else
                  mapping.children[cm.record].fields if cm.kind == "child" and cm.record
                  else mapping.fields)
        spec = fields.get(cm.source)
        if spec is None:
            continue
        dtype = mapping.target.column(cm.column).dtype \
            if cm.column in mapping.target.column_names else None
        if cm.kind == "child" and cm.aggregate == "count":
            continue
        yield from _transform(mapping.path, where, cm.column, spec, dtype,
                              bool(cm.kana), cm.codes is not None)


def _transform(path: Path, where: tuple[int, int], column: str, spec: FieldSpec,
               dtype: str | None, kana: bool, codes: bool) -> Iterator[Problem]:
    hint = "Change the field's type or map the column from another field."
    params = {"column": column, "name": spec.name, "type": spec.type}
    if kana and spec.type != "text":
        yield finding(path, where, "column {column} converts kana, but field "
                      "{name} is {type}: only a text field holds kana", hint, "transform-type",
                      **params)
    elif codes and spec.type in _DATE_FIELDS:
        yield finding(path, where, "column {column} looks field {name} up in "
                      "a code table, but it is a {type} date", hint, "transform-type",
                      **params)
    elif dtype in _DATE_DTYPES and spec.type not in (*_DATE_FIELDS, "text"):
        yield finding(path, where, "column {column} is a date, but field "
                      "{name} is {type}: a date comes from a wareki, ymd or text field", hint,
                      "transform-type", **params)
    elif dtype in _NUMBER_DTYPES and spec.type in _DATE_FIELDS:
        yield finding(path, where, "column {column} is a number, but field "
                      "{name} is a {type} date", hint, "transform-type", **params)


def unreached_codes(mapping: Mapping, data: LocatedDict) -> Iterator[Problem]:
    """Standard codes of a code column that no row of the column's code table maps to."""
    columns = data.get("columns")
    for cm in mapping.columns:
        if cm.codes is None or cm.column not in mapping.target.column_names:
            continue
        allowed = mapping.target.column(cm.column).codes or ()
        reached = set(cm.codes.mapping.values())
        missing = [code for code in allowed if code not in reached]
        if missing:
            col = columns.col_of(cm.column) if isinstance(columns, LocatedDict) else 1
            yield finding(mapping.path, (cm.line, col),
                           "no vendor code maps to the standard code(s) {codes} of {column}",
                           "Fine if the old system never had them; else add rows to {table}.", "code-unreached",
                           codes=", ".join(missing), column=cm.column, table=cm.codes.path.name)
