"""The `columns:` block of a mapping: where each standard column's value comes from — a field,
the header, a child record, the record number or the file name, a constant (`value:`), a code
table keyed by one or several fields, or another record of the file (`lookup:`) — loaded and
checked against the target layout's column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from migrate.layouts.addresses import ADDRESS_PARTS
from migrate.layouts.characters import char_length
from migrate.layouts.loading import _as_values, _Ctx
from migrate.layouts.lookups import Lookup, load_lookup
from migrate.layouts.schema import ColumnSpec
from migrate.layouts.shapes import CODES, TEXT, AnyOf, ListOf, Named, Obj, Shape, Value
from migrate.layouts.source import AGGREGATES, NUMERIC_FIELD_TYPES, FieldSpec
from migrate.layouts.tables import CodeTable, load_code_table, load_composite_code_table
from migrate.layouts.yamlpos import LocatedDict

#: Keys a column mapping may hold (a linter and the JSON Schema read this).
#: The keys of a column mapping (shapes.py: the unknown-key check and the JSON Schema).
CODES_KEYS = Obj("A code table keyed by one or several fields.", {
    "table": Value("The code table (CSV), relative to the mapping."),
    "key": ListOf(item=TEXT, single=True)}, required=("table",))
COLUMN = Obj("How one standard column is produced.", {
    "from": Value("A field, or record.field of a child record."),
    "header": Value("A field of the header record."),
    "source": Value("A fact about the input: record_number or file_name."),
    "value": Value("A constant.", ("string", "integer", "number")),
    "default": Value("The value when the field is blank.", ("string", "integer", "number")),
    "kana": Value("Half-width kana to full-width.", enum=("fullwidth",)),
    "codes": AnyOf("A code table (CSV source,standard), relative to the mapping.",
                   (TEXT, CODES_KEYS)),
    "where": Named("Child field → the values that select its records.", item=CODES),
    "aggregate": Value("How the child records' values become one.", enum=AGGREGATES),
    "lookup": Shape("A value taken from another record of the file."),
    "split": Value("A part of a one-piece address.", enum=tuple(ADDRESS_PARTS)),
    "check_lg_code": TEXT,
})
#: What `source:` may name: facts about the input rather than a field of it.
SOURCE_FACTS = ("record_number", "file_name")
#: Column kinds whose value the file does not carry: listed in run.json as supplied.
SUPPLIED_KINDS = ("constant",)
_PARTIAL_DATE = re.compile(r"[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?")


@dataclass(frozen=True)
class ColumnMapping:
    """How one standard column is produced."""

    column: str
    kind: str  # field | header | record_number | file_name | child | constant | codes | lookup
    source: str | None = None
    kana: str | None = None
    codes: CodeTable | None = None
    line: int = 0
    record: str | None = None  # kind child: the child record type
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()  # kind child: child field → values
    aggregate: str | None = None  # kind child: sum | count | only
    value: str | None = None  # kind constant: the standard value of every row
    default: str | None = None  # the standard value of a row whose field is blank
    lookup: Lookup | None = None  # kind lookup
    split: str | None = None  # kind field: the part of a one-piece address (ADDRESS_PARTS)
    check_lg_code: str | None = None  # a header field the address's 団体コード must equal

    @property
    def fed_by(self) -> tuple[str, ...]:
        """The data fields whose values end up in this column (a personal column makes them
        personal too)."""
        if self.kind == "field" and self.source:
            return (self.source,)
        if self.kind == "codes" and self.codes is not None:
            return self.codes.key
        if self.kind == "lookup" and self.lookup is not None:
            return (self.lookup.take,)
        return ()

    @property
    def reads(self) -> tuple[str, ...]:
        """Every data field the column needs decoded."""
        if self.kind == "lookup" and self.lookup is not None:
            return (*self.lookup.match, *(k for k, _ in self.lookup.where), self.lookup.take)
        return self.fed_by


def load_column_mapping(ctx: _Ctx, column: str, node: Any, parent: LocatedDict,
                        known: dict[str, Any], base: Path, spec: ColumnSpec | None
                        ) -> ColumnMapping:
    """One entry of `columns:`; `known` holds the mapping's fields, header fields and child
    records, `spec` the target column (None when the layout lacks it: reported by the
    caller)."""
    line = parent.line_of(column)
    if isinstance(node, str):
        node_d: dict[str, Any] = {"from": node}
    else:
        node_d = ctx.mapping(node, column, parent)
        ctx.only_keys(node_d, COLUMN, f"column {column}")
    if "value" in node_d:
        others = sorted(set(node_d) - {"value"})
        if others:
            raise ctx.fail(parent, column, "column {column} is a constant (value:) and cannot "
                           "also have {extra}", "A constant is the same on every row: remove "
                           "the other keys, or use default: for a value used when the field "
                           "is blank.", column=column, extra=", ".join(others))
        value = _supplied(ctx, node_d, "value", column, spec)
        return ColumnMapping(column, "constant", line=line, value=value)
    default = _supplied(ctx, node_d, "default", column, spec) if "default" in node_d else None
    kana = node_d.get("kana")
    if kana is not None and kana != "fullwidth":
        raise ctx.fail(parent, column, "kana must be 'fullwidth'")
    fields: dict[str, FieldSpec] = known["fields"]
    codes = _codes(ctx, node_d, parent, column, fields, base)
    if codes is not None and codes.key:
        if "from" in node_d or "header" in node_d or "source" in node_d:
            raise ctx.fail(parent, column, "column {column} takes its value from the code "
                           "table keyed by {key}: it has no from, header or source",
                           column=column, key=", ".join(codes.key))
        return ColumnMapping(column, "codes", None, kana, codes, line, default=default)
    if "lookup" in node_d:
        return ColumnMapping(column, "lookup", None, kana, codes, line, default=default,
                             lookup=load_lookup(ctx, node_d, parent, column, fields))
    children = known["children"]
    source = str(node_d.get("from", ""))
    if "." in source and source.split(".", 1)[0] in children:
        return _load_child_column(ctx, column, node_d, parent, children, kana, codes, line,
                                  default)
    if "where" in node_d or "aggregate" in node_d:
        raise ctx.fail(parent, column, "'where' and 'aggregate' are for columns taken from a "
                       "child record (from: record.field)")
    if ("split" in node_d or "check_lg_code" in node_d) and "from" not in node_d:
        raise ctx.fail(parent, column, "split: takes a part of an address field: it needs from:")
    if "from" in node_d:
        if source not in fields:
            raise ctx.fail(parent, column, "column {column} takes unknown field '{name}'",
                           "Declare it under fields: or fix the name.", column=column,
                           name=source)
        split, check = _split(ctx, node_d, parent, column, fields[source], known["header"])
        return ColumnMapping(column, "field", source, kana, codes, line, default=default,
                             split=split, check_lg_code=check)
    if "header" in node_d:
        name = str(node_d["header"])
        if name not in known["header"]:
            raise ctx.fail(parent, column, "column {column} takes unknown header field '{name}'",
                           column=column, name=name)
        return ColumnMapping(column, "header", name, kana, codes, line, default=default)
    if node_d.get("source") in SOURCE_FACTS:
        return ColumnMapping(column, str(node_d["source"]), None, None, None, line)
    if "source" in node_d:
        raise ctx.fail(parent, column, "source must be one of {known}",
                       known=", ".join(SOURCE_FACTS))
    raise ctx.fail(parent, column, "column {column} needs 'from', 'header', 'source', 'value', "
                   "'lookup' or codes with a key", column=column)


def _split(ctx: _Ctx, node: dict[str, Any], parent: LocatedDict, column: str,
           spec: FieldSpec, header: dict[str, FieldSpec]) -> tuple[str | None, str | None]:
    """`split: pref | city | town | lg_code` of a text field holding a one-piece address, and
    `check_lg_code: <header field>`."""
    if "split" not in node:
        if "check_lg_code" in node:
            raise ctx.fail(parent, column, "check_lg_code is for a column with split:")
        return None, None
    part = str(node["split"])
    if part not in ADDRESS_PARTS:
        raise ctx.fail(parent, column, "split must be one of {known}",
                       known=", ".join(ADDRESS_PARTS))
    if spec.type != "text":
        raise ctx.fail(parent, column, "split: needs a text field; {name} is {type}",
                       name=spec.name, type=spec.type)
    check = node.get("check_lg_code")
    if check is not None and str(check) not in header:
        raise ctx.fail(parent, column, "check_lg_code names unknown header field '{name}'",
                       "Name the header field that holds the 団体コード.", name=str(check))
    return part, (str(check) if check is not None else None)


def _codes(ctx: _Ctx, node: dict[str, Any], parent: LocatedDict, column: str,
           fields: dict[str, FieldSpec], base: Path) -> CodeTable | None:
    """`codes: codes/sex.csv`, or `codes: {table: codes/zokugara.csv, key: [sex, zokugara]}`."""
    raw = node.get("codes")
    if not raw:
        return None
    if not isinstance(raw, dict):
        return load_code_table(base / str(raw), ctx.problems)
    table = ctx.mapping(raw, "codes", parent)
    ctx.only_keys(table, CODES_KEYS, f"codes of column {column}")
    path = base / str(ctx.require(table, "table", f"codes of column {column}"))
    key = ctx.names(table, "key")
    if not key:
        return load_code_table(path, ctx.problems)
    for name in key:
        if name not in fields:
            raise ctx.fail(table, "key", "the code key of column {column} names unknown field "
                           "'{name}'", "Key fields are data fields declared under fields:.",
                           column=column, name=name)
    if len(set(key)) != len(key):
        raise ctx.fail(table, "key", "the code key of column {column} names a field twice",
                       column=column)
    return load_composite_code_table(path, key)


def _supplied(ctx: _Ctx, node: dict[str, Any], key: str, column: str,
              spec: ColumnSpec | None) -> str:
    """A constant or default: a standard value, checked against the column it fills so that
    a mistake stops the loading instead of rejecting every row."""
    value = node[key]
    if value is None or isinstance(value, bool | list | dict):
        raise ctx.fail(node, key, "{key} of column {column} must be a single value",
                       key=key, column=column)
    text = value.isoformat() if isinstance(value, date) else str(value)
    if spec is not None and not _fits(text, spec):
        raise ctx.fail(node, key, "{key} '{constant}' of column {column} is not a valid "
                       "{dtype} value for it", "It is a standard value, written as the column "
                       "holds it: a code of the column's code table, digits, a date "
                       "YYYY-MM-DD, within the column's length and range.",
                       key=key, constant=text, column=column, dtype=spec.dtype)
    return text


def _fits(text: str, spec: ColumnSpec) -> bool:
    """Whether the column would accept a supplied value (so it never rejects every row)."""
    if spec.dtype == "code" and spec.codes is not None and text not in spec.codes:
        return False
    if spec.dtype == "digits" and not text.isdigit():
        return False
    if spec.dtype in ("int", "flag") and not re.fullmatch(r"-?[0-9]+", text):
        return False
    if spec.dtype == "flag" and text not in ("0", "1"):
        return False
    number = None
    if spec.dtype in ("int", "decimal"):
        try:
            number = Decimal(text)
        except InvalidOperation:
            return False
    if spec.dtype == "date":
        try:
            date.fromisoformat(text)
        except ValueError:
            return False
    if spec.dtype == "partial_date" and not _PARTIAL_DATE.fullmatch(text):
        return False
    if (spec.length and char_length(text) != spec.length) or \
            (spec.max_length and char_length(text) > spec.max_length):
        return False
    low = spec.minimum is not None and number is not None and number < Decimal(str(spec.minimum))
    high = spec.maximum is not None and number is not None and number > Decimal(str(spec.maximum))
    return not (low or high)


def _load_child_column(ctx: _Ctx, column: str, node: dict[str, Any], parent: LocatedDict,
                       children: dict[str, Any], kana: str | None, codes: CodeTable | None,
                       line: int, default: str | None) -> ColumnMapping:
    record, name = str(node["from"]).split(".", 1)
    child = children[record]
    if name not in child.fields:
        raise ctx.fail(parent, column, "column {column} takes unknown field '{name}' of record "
                       "type {record}", column=column, name=name, record=record)
    where_node = node.get("where") or {}
    if not isinstance(where_node, dict):
        raise ctx.fail(parent, column, "'where' must map child fields to values")
    where = tuple((str(k), _as_values(v)) for k, v in where_node.items())
    for key, _ in where:
        if key not in child.fields:
            raise ctx.fail(parent, column, "'where' of column {column} names unknown field "
                           "'{name}' of record type {record}", column=column, name=key,
                           record=record)
    numeric = child.fields[name].type in NUMERIC_FIELD_TYPES
    aggregate = str(node.get("aggregate", "sum" if numeric else "only"))
    if aggregate not in AGGREGATES:
        raise ctx.fail(parent, column, "aggregate must be one of {known}",
                       known=", ".join(AGGREGATES))
    if aggregate == "sum" and not numeric:
        raise ctx.fail(parent, column, "aggregate sum needs a numeric field; {name} is {type}",
                       name=name, type=child.fields[name].type)
    return ColumnMapping(column, "child", name, kana, codes, line, record, where, aggregate,
                         default=default)
