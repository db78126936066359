"""A mapping from a copybook's layout: the fields of each record type at their byte offsets,
with the field types the copybook states (text, digits, zoned, packed, binary, decimal), a
record-type code taken from the VALUE of each record's first item, the trailer's record count,
and a companion schema so that the mapping runs as it is.

What stays by hand, because a copybook does not say it: which numbers are dates (和暦 or
YYYYMMDD: a copybook calls them PIC 9(7) / 9(8)), the code tables, half-width kana readings,
and which standard column each field fills.
"""

from __future__ import annotations

import re
from pathlib import Path

from migrate.author.copybook.layout import Item, Record
from migrate.author.sniff.draft import DTYPES, PII, quoted, safe_name, schema_text
from migrate.errors import UsageError

_HEADER = re.compile(r"HEAD|HDR|HEADER|^H-")
_TRAILER = re.compile(r"TRAIL|TRL|TRAILER|END|^T-")
_COUNT = re.compile(r"COUNT|CNT|KENSU|KENSUU")


def field_name(cobol: str, taken: set[str]) -> str:
    """ATENA-NO → atena_no (unique among `taken`, a safe identifier)."""
    name = re.sub(r"[^a-z0-9_]", "_", cobol.lower().replace("-", "_")).strip("_") or "field"
    if not name[0].isalpha():
        name = "f_" + name
    name = name[:60]
    base, n = name, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def _roles(records: list[Record]) -> dict[str, Record]:
    """header / data / trailer / child:<code> → record, by the records' names."""
    roles: dict[str, Record] = {}
    for record in records:
        if _HEADER.search(record.name) and "header" not in roles:
            roles["header"] = record
        elif _TRAILER.search(record.name) and "trailer" not in roles:
            roles["trailer"] = record
        elif "data" not in roles:
            roles["data"] = record
        else:
            roles[f"child:{record.name}"] = record
    return roles


def _code_item(record: Record) -> Item | None:
    first = next((i for i in record.items if i.type != "filler" or i.value), None)
    return first if first is not None and first.value is not None else None


def mapping_texts(records: list[Record], copybook: Path, out: Path, encoding: str,
                  newline: str) -> tuple[str, str]:
    """The mapping YAML and its companion schema YAML for the copybook's records."""
    if not records:
        raise UsageError("{file} holds no record layout (no 01 level)", {"file": copybook})
    roles = _roles(records) if len(records) > 1 else {"data": records[0]}
    codes = {role: _code_item(record) for role, record in roles.items()}
    typed = len(roles) > 1 and all(codes.values()) and len(
        {(c.offset, c.length) for c in codes.values() if c}) == 1
    length = max(r.length for r in roles.values()) if typed else roles["data"].length
    name = safe_name(copybook)
    lines = [
        f"# Mapping written by migrate layout from-copybook from {copybook.name}.",
        "# Automatic: the byte offsets and lengths, the types the copybook states, the record",
        "# types (from each record's first VALUE), the trailer's count. By hand: dates (PIC 9(7)",
        "# 和暦, 9(8) YYYYMMDD: set type wareki / ymd), code tables, kana: fullwidth, and the",
        "# standard columns (target:, columns:).",
        f"mapping: copybook/{name}",
        "version: 1",
        f"title: {{ja: {quoted(copybook.name + ' から作成')}, "
        f"en: {quoted('From the copybook ' + copybook.name)}}}",
        f"target: {out.with_name(out.stem + '.schema.yaml').name}",
        "source:",
        "  format: fixed",
        f"  encoding: {encoding}",
        f"  record_length: {length}",
        f"  newline: {newline}",
    ]
    notes = [n for r in roles.values() for n in r.notes]
    for record in records:
        if record not in roles.values():
            notes.append(f"record {record.name} not declared (only one data record type "
                         "without VALUE codes)")
    skip = None
    if typed:
        code = codes["data"]
        assert code is not None
        skip = (code.offset, code.length)
        parts = [f"{role}: {quoted(str(codes[role].value))}" for role in  # type: ignore[union-attr]
                 ("header", "data", "trailer") if role in roles]
        lines.append(f"  record_type: {{offset: {code.offset}, length: {code.length}, "
                     + ", ".join(parts) + "}")
    elif len(records) > 1:
        notes.append("the records have no common record-type code (a VALUE on their first "
                     "item): only the data record is declared")
    columns = ["  src_record: {source: record_number}"]
    schema: list[tuple[str, str, str | None, str]] = [("src_record", "int", None,
                                                       "Source record number")]
    if typed and "header" in roles:
        lines.append("header:")
        _fields(roles["header"], skip, lines, columns, schema, "  ", "header")
    if typed and "trailer" in roles:
        count = next((i for i in roles["trailer"].items if _COUNT.search(i.name)
                      and i.type in ("digits", "zoned", "packed", "binary")), None)
        if count is not None:
            lines += ["trailer:", f"  count: {{offset: {count.offset}, length: {count.length}, "
                                  f"type: {count.type}}}  # {count.path} PIC {count.picture}"]
        notes.append(f"trailer {roles['trailer'].name}: only its record count is declared; a "
                     "control total goes under trailer.control_totals by hand")
    lines.append("fields:")
    _fields(roles["data"], skip, lines, columns, schema, "  ", "field")
    children = [(role[6:], r) for role, r in roles.items() if role.startswith("child:")]
    if typed and children:
        lines.append("records:")
        taken: set[str] = set()
        for cobol, record in children:
            record_name = field_name(cobol, taken)
            code = codes[f"child:{cobol}"]
            assert code is not None
            lines += [f"  {record_name}:", f"    code: {quoted(str(code.value))}",
                      "    belongs_to: previous", "    fields:"]
            _fields(record, skip, lines, columns, schema, "      ", "child", record_name)
    lines.append("columns:")
    lines += columns
    if notes:
        lines.append("# Notes:")
        lines += [f"# - {note}" for note in notes]
    return "\n".join(lines) + "\n", schema_text(name, copybook.name, schema)


def _fields(record: Record, skip: tuple[int, int] | None, lines: list[str], columns: list[str],
            schema: list[tuple[str, str, str | None, str]], indent: str, kind: str,
            child: str = "") -> None:
    taken: set[str] = set()
    # a child's numbers are summed per parent; with none, its first field is taken once
    first_child_column = not any(i.type in ("zoned", "packed", "decimal", "binary")
                                 for i in record.items)
    for item in record.items:
        if item.type == "filler" or (skip and (item.offset, item.length) == skip):
            continue
        name = field_name(item.name, taken)
        usage = {"packed": " COMP-3", "binary": " COMP"}.get(item.type, "")
        comment = f"  # {item.path} PIC {item.picture}{usage}" + "".join(
            f"; {n}" for n in item.notes)
        scale = f", scale: {item.scale}" if item.scale else ""
        lines.append(f"{indent}{name}: {{offset: {item.offset}, length: {item.length}, "
                     f"type: {item.type}{scale}}}" + comment)
        dtype = DTYPES[item.type]
        if dtype == "int" and item.scale:
            dtype = "decimal"
        column = name if kind == "field" else f"{kind}_{name}" if kind == "header" \
            else f"{child}_{name}"
        if kind == "header":
            columns.append(f"  {column}: {{header: {name}}}")
        elif kind == "child":
            numeric = item.type in ("zoned", "packed", "decimal", "binary")
            aggregate = "sum" if numeric else "only" if first_child_column else "count"
            columns.append(f"  {column}: {{from: {child}.{name}, aggregate: {aggregate}}}")
            first_child_column = False
            if aggregate == "count":
                dtype = "int"
        else:
            columns.append(f"  {column}: {name}")
        schema.append((column, dtype, PII.get(dtype), f"{item.path} PIC {item.picture}"))
