"""How a legacy file is framed and where its fields sit: the `source:` block, `fields:`,
`header:` and `trailer:` of a mapping, loaded and checked (byte ranges inside the record, field
types, encodings, era tables).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from migrate.layouts.encodings import supported_encoding
from migrate.layouts.eras import DEFAULT_ERAS, TWO_DIGIT_ERAS, Era, EraTable, can_mark_unknown
from migrate.layouts.loading import _Ctx
from migrate.layouts.shapes import (
    CODE,
    CODES,
    FLAG,
    POSITIVE,
    TEXT,
    WHOLE,
    AnyOf,
    ListOf,
    Obj,
    Switch,
    Value,
)
from migrate.layouts.tables import load_gaiji_table
from migrate.layouts.yamlpos import LocatedDict

FIELD_TYPES = ("text", "digits", "zoned", "packed", "decimal", "binary", "wareki", "ymd", "ym",
               "md")
DELIMITED_TYPES = ("text", "digits", "zoned", "decimal", "wareki", "ymd", "ym", "md")
MD_YEAR_RULES = ("next", "previous")
AGGREGATES = ("sum", "count", "only")
#: Character repertoires `source.strict_chars` can declare (migrate.transform.repertoire).
STRICT_CHARS = ("jis_x0208", "jis_x0213", "mj")
NUMERIC_FIELD_TYPES = ("digits", "zoned", "packed", "decimal", "binary")
BINARY_LENGTHS = (2, 4, 8)  # COBOL COMP / BINARY: halfword, fullword, doubleword
STRIPS = ("both", "full", "half", "none")

# The keys of each block (shapes.py: the loaders' unknown-key check and the JSON Schema).
_FIELD_COMMON = {
    "length": Value("Bytes the field takes.", ("integer",), minimum=1),
    "type": Value("How the bytes are decoded.", enum=FIELD_TYPES),
    "scale": Value("Digits after the decimal point.", ("integer",), minimum=0, maximum=18),
    "strip": Value("Which spaces to strip.", enum=STRIPS),
    "lenient_calendar": FLAG,
    "expect": Value("The value every record must hold here (a constant code).",
                    ("string", "integer")),
    "year_from": Value("md (MMDD) fields: header.<field> or run_date."),
    "year_rule": Value("With year_from: run_date: the next or the previous such day.",
                       enum=("next", "previous")),
    "signed": Value("zoned: S9(n), a positive value's sign is overpunched too.", ("boolean",)),
}
FIXED_FIELD = Obj("A byte range of the record.", {
    "offset": Value("First byte, counted from 0.", ("integer",), minimum=0), **_FIELD_COMMON},
    required=("offset", "length", "type"))
DELIMITED_FIELD = Obj("A cell of a delimited record.", {
    "column": Value("Position of the cell, counted from 0.", ("integer",), minimum=0),
    "name": Value("The cell's name in the header line."), **_FIELD_COMMON},
    required=("length", "type"))
#: The roles a record-type code can have, in the order they come in a file (any may repeat).
ROLES = ("header", "data", "trailer", "end", "ignore")
_RECORD_TYPE = {"length": POSITIVE, **{role: CODES for role in ROLES}}
FIXED_RECORD_TYPE = Obj("Where the record-type code sits.", {"offset": WHOLE, **_RECORD_TYPE},
                        required=("offset", "length", "data"))
DELIMITED_RECORD_TYPE = Obj("The cell that holds the record-type code.",
                            {"column": WHOLE, **_RECORD_TYPE}, required=("column", "data"))
ERA = Obj("One era.", {"code": CODE, "name": TEXT, "first": TEXT, "last": TEXT},
          required=("code", "first"))
_SOURCE_COMMON = {
    "format": Value("fixed (固定長) or delimited (CSV/TSV).", enum=("fixed", "delimited")),
    "encoding": Value("cp932, shift_jis, shift_jis_2004, euc_jp, euc_jis_2004 or utf-8."),
    "newline": Value("What ends a record.", enum=("crlf", "lf", "none")),
    "eof_marker": Value("A byte ending the file, e.g. 0x1a.", ("integer",), minimum=0,
                        maximum=255),
    "eras": AnyOf("The era table.", (Value(enum=("default", "two_digit")), ListOf(item=ERA))),
    "unknown_date_parts": CODES,
    "gaiji": Value("The 外字 table (CSV), relative to the mapping."),
    "strict_chars": Value("A repertoire decoded text must keep to.", enum=STRICT_CHARS),
}
SOURCE = Switch("How the legacy file is framed and encoded.", key="format", default="fixed",
                cases={
    "fixed": Obj(keys={**_SOURCE_COMMON, "record_type": FIXED_RECORD_TYPE,
                       "record_length": POSITIVE}, required=("record_length",)),
    "delimited": Obj(keys={**_SOURCE_COMMON, "record_type": DELIMITED_RECORD_TYPE,
                           "delimiter": TEXT, "quote": TEXT, "header_line": FLAG}),
})

# Rows are held as (records × record length) byte matrices: bound the width a mapping can ask
# for (legacy records are a few kB; a delimited cell of 1 MB is already no legacy value).
MAX_FIELD_BYTES = 1 << 20
MAX_RECORD_BYTES = 1 << 24
MAX_PACKED_BYTES = 9  # 17 digits: fits int64 exactly
MAX_ZONED_DIGITS = 18

@dataclass(frozen=True)
class FieldSpec:
    """A byte range of a fixed-width record and how to decode it.

    In a delimited source the field is a cell (`column` index or header `column_name`) and
    `offset` is its slot in the synthetic fixed-width row the reader builds, `length` the
    most bytes the cell may hold."""

    name: str
    offset: int
    length: int
    type: str
    scale: int = 0
    strip: str = "both"
    lenient_calendar: bool = False
    line: int = 0
    column: int | None = None
    column_name: str | None = None
    col: int = 0  # the column of `line` where the field is declared
    expect: str | None = None  # the value every record must hold here (a constant code)
    # type md (MMDD): where the year comes from: "header.<field>" or "run_date" (with rule)
    year_from: str | None = None
    year_rule: str | None = None
    signed: bool = False  # zoned S9(n): a positive value's sign is overpunched too (written so)

    @property
    def end(self) -> int:
        return self.offset + self.length


@dataclass(frozen=True)
class RecordTypes:
    """Where the record-type code sits and what each code means: its role (header, data,
    trailer, end or ignore) or a child record type. `data`, `header`, `trailer` are the first
    code of their role (what a generator writes); `roles` lists every declared code."""

    offset: int
    length: int
    data: str
    header: str | None = None
    trailer: str | None = None
    column: int | None = None  # delimited sources: the cell that holds the code
    children: tuple[tuple[str, str], ...] = ()  # (code, record name) of child record types
    roles: tuple[tuple[str, str], ...] = ()  # (code, role) of every declared code

    def code_roles(self) -> tuple[tuple[str, str], ...]:
        """(code, role) of every code of a role (not the child record types)."""
        if self.roles:
            return self.roles
        return tuple((code, role) for role, code in
                     (("data", self.data), ("header", self.header), ("trailer", self.trailer))
                     if code is not None)

    def has_role(self, role: str) -> bool:
        return any(r == role for _, r in self.code_roles())


@dataclass(frozen=True)
class SourceSpec:
    """How the legacy file is framed and encoded."""

    format: str
    encoding: str
    record_length: int
    newline: bytes
    eof_marker: int | None
    record_types: RecordTypes | None
    eras: EraTable
    unknown_date_parts: tuple[str, ...]
    gaiji: dict[str, str]
    gaiji_file: Path | None
    delimiter: bytes = b""
    quote: bytes | None = None
    header_line: bool = False
    strict_chars: str | None = None  # a repertoire (STRICT_CHARS) decoded text must keep to

    @property
    def delimited(self) -> bool:
        return self.format == "delimited"

    @property
    def stride(self) -> int:
        """Bytes per record on disk, newline included."""
        return self.record_length + len(self.newline)


@dataclass(frozen=True)
class FigureSpec:
    """One figure a trailer states about its block of records, checked against what was read:
    `count` of data records (or of a child record type), or `sum` of a numeric field, each
    optionally only over the records `where` fields have given values."""

    name: str
    spec: FieldSpec         # where the trailer holds the figure
    kind: str               # count | sum
    of: str                 # count: "data" or a child record name; sum: field or record.field
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()
    legacy: str | None = None  # invariant name of `count` / `control_totals` (kept as it was)

    @property
    def record(self) -> str | None:
        """The child record type the figure is about (None: the data records)."""
        if self.kind == "count":
            return None if self.of == "data" else self.of
        return self.of.partition(".")[0] if "." in self.of else None


@dataclass(frozen=True)
class TrailerSpec:
    """Trailer fields: the record count, control totals of data fields, the trailer figures
    (`count`/`sum` with `where`) and plain fields (checked against `expect`)."""

    count: FieldSpec | None
    control_totals: dict[str, FieldSpec]
    figures: tuple[FigureSpec, ...] = ()
    fields: dict[str, FieldSpec] = field(default_factory=dict)

    def all_figures(self) -> tuple[FigureSpec, ...]:
        """`count` and `control_totals` as figures (their invariant names kept), then
        `figures:`."""
        legacy = []
        if self.count is not None:
            legacy.append(FigureSpec("count", self.count, "count", "data",
                                     legacy="trailer_count"))
        legacy += [FigureSpec(name, spec, "sum", name, legacy=f"control_total_source:{name}")
                   for name, spec in self.control_totals.items()]
        return (*legacy, *self.figures)

    def all_fields(self) -> dict[str, FieldSpec]:
        """Every field of the trailer record, by figure or field name."""
        return {**{f.name: f.spec for f in self.all_figures()}, **self.fields}

class _Slots:
    """Hands out slots of the synthetic fixed-width row a delimited source is read into."""

    def __init__(self, start: int = 0):
        self.width = start

    def take(self, length: int) -> int:
        offset, self.width = self.width, self.width + length
        return offset


def _load_field(ctx: _Ctx, name: str, node: Any, parent: LocatedDict, source: SourceSpec,
                slots: _Slots | None = None, extra: tuple[str, ...] = ()) -> FieldSpec:
    """One field; in a delimited source (`slots` given) a cell by `column` or header `name`.
    `extra`: further keys the caller reads (a trailer figure's count/sum/where)."""
    node = ctx.mapping(node, name, parent)
    what = f"field {name}"
    column = column_name = None
    if slots is not None:
        ctx.only_keys(node, (*DELIMITED_FIELD.names, *extra), what)
        if ("column" in node) == ("name" in node):
            raise ctx.fail(node, None, "field {name} needs either 'column' (0-based position) or "
                           "'name' (the header line's name)", name=name)
        if "column" in node:
            column = ctx.integer(node, "column", what)
        else:
            if not source.header_line:
                raise ctx.fail(node, "name", "field {name} is found by header name, but the "
                               "source has no header line", "Set source.header_line: true or "
                               "use column: with the 0-based position.", name=name)
            column_name = str(node["name"])
        length = ctx.integer(node, "length", what, minimum=1)
        offset = slots.take(length)
    else:
        ctx.only_keys(node, (*FIXED_FIELD.names, *extra), what)
        offset = ctx.integer(node, "offset", what)
        length = ctx.integer(node, "length", what, minimum=1)
    if length > MAX_FIELD_BYTES:
        raise ctx.fail(node, "length", "field {name} is {length} bytes long, more than the "
                       "{max} bytes a field may have", "Lengths are in bytes; check the layout "
                       "document.", name=name, length=f"{length:,}", max=f"{MAX_FIELD_BYTES:,}")
    ftype = str(ctx.require(node, "type", what))
    allowed = DELIMITED_TYPES if slots is not None else FIELD_TYPES
    if ftype not in allowed:
        error = ctx.fail(node, "type", "unknown field type '{type}'", "Known types: {known}.",
                         type=ftype, known=", ".join(allowed))
        error.rule = "unknown-type"
        ctx.report(error)
        ftype = "text"  # collecting: the field's other checks still run
    if slots is None and offset + length > source.record_length:
        ctx.report(ctx.fail(node, "offset",
                       "field {name} (bytes {start}–{end}) reaches past the {size}-byte record",
                       "Offsets and lengths are in bytes; offsets count from 0. Check the layout "
                       "document.",
                       name=name, start=offset, end=offset + length - 1,
                       size=source.record_length))
    if ftype == "packed" and length > MAX_PACKED_BYTES:
        raise ctx.fail(node, "length", "packed field {name} is longer than {max} bytes",
                       name=name, max=MAX_PACKED_BYTES)
    if ftype == "binary" and length not in BINARY_LENGTHS:
        raise ctx.fail(node, "length", "binary field {name} must be 2, 4 or 8 bytes long",
                       "A COBOL COMP / BINARY field is a halfword (PIC 9(1)–9(4)), a fullword "
                       "(9(5)–9(9)) or a doubleword (9(10)–9(18)).", name=name)
    if ftype in ("zoned", "decimal") and length > MAX_ZONED_DIGITS + (ftype == "decimal") * 2:
        raise ctx.fail(node, "length", "zoned field {name} is longer than {max} digits",
                       name=name, max=MAX_ZONED_DIGITS)
    era_width = source.eras.code_width
    if ftype == "wareki" and length != era_width + 6:
        raise ctx.fail(node, "length", "a wareki field must be {n} bytes long (era code + YYMMDD)",
                       n=era_width + 6)
    if ftype == "ymd" and length != 8:
        raise ctx.fail(node, "length", "a ymd field must be 8 bytes long (YYYYMMDD)")
    if ftype == "ym" and length != 6:
        raise ctx.fail(node, "length", "a ym field must be 6 bytes long (YYYYMM)")
    if ftype == "md" and length != 4:
        raise ctx.fail(node, "length", "an md field must be 4 bytes long (MMDD)")
    year_from, year_rule = _md_year(ctx, node, name, ftype)
    strip = str(node.get("strip", "both"))
    if strip not in STRIPS:
        raise ctx.fail(node, "strip", "strip must be one of both, full, half, none")
    scale = node.get("scale", 0)
    if not isinstance(scale, int) or isinstance(scale, bool) or not 0 <= scale <= 18:
        raise ctx.fail(node, "scale", "scale must be a whole number from 0 to 18")
    expect = node.get("expect")
    if expect is not None and (not isinstance(expect, str | int) or isinstance(expect, bool)):
        raise ctx.fail(node, "expect", "expect must be the value as text, e.g. expect: \"91\"")
    signed = node.get("signed", False)
    if not isinstance(signed, bool) or (signed and ftype != "zoned"):
        raise ctx.fail(node, "signed", "signed is true or false, and only for a zoned field")
    return FieldSpec(name, offset, length, ftype, scale, strip,
                     bool(node.get("lenient_calendar", False)), node.line, column, column_name,
                     node.col, None if expect is None else str(expect), year_from, year_rule,
                     signed)


def _md_year(ctx: _Ctx, node: LocatedDict, name: str, ftype: str
             ) -> tuple[str | None, str | None]:
    """An md (MMDD) field's year: `year_from: header.<field>`, or `year_from: run_date` with
    `year_rule: next | previous`. (The header field is checked once the header is loaded.)"""
    year_from, year_rule = node.get("year_from"), node.get("year_rule")
    if ftype != "md":
        if year_from is not None or year_rule is not None:
            raise ctx.fail(node, "year_from" if year_from is not None else "year_rule",
                           "year_from and year_rule are for md (MMDD) fields")
        return None, None
    if year_from is None:
        raise ctx.fail(node, None, "md field {name} needs year_from: the year of an MMDD date",
                       "Use year_from: header.<field> (a year or date in the header), or "
                       "year_from: run_date with year_rule: next (the first such day on or "
                       "after the run date) or previous (the last one on or before it).",
                       name=name)
    year_from = str(year_from)
    if year_from == "run_date":
        if year_rule not in MD_YEAR_RULES:
            raise ctx.fail(node, "year_rule" if year_rule is not None else "year_from",
                           "year_from: run_date needs year_rule: next or previous")
        return year_from, str(year_rule)
    if not year_from.startswith("header.") or year_rule is not None:
        raise ctx.fail(node, "year_from", "year_from must be header.<field> or run_date "
                       "(year_rule only with run_date)")
    return year_from, None


def _load_fields(ctx: _Ctx, node: Any, key: str, parent: LocatedDict,
                 source: SourceSpec, slots: _Slots | None = None) -> dict[str, FieldSpec]:
    node = ctx.mapping(node, key, parent)
    fields = {}
    for name, value in node.items():
        with ctx.attempt(node, str(name)):
            fields[str(name)] = _load_field(ctx, str(name), value, node, source, slots)
    return fields

def _load_eras(ctx: _Ctx, node: Any, parent: LocatedDict) -> EraTable:
    if node is None or node == "default":
        return DEFAULT_ERAS
    if node == "two_digit":
        return TWO_DIGIT_ERAS
    if not isinstance(node, list):
        raise ctx.fail(parent, "eras", "'eras' is 'default', 'two_digit' or a list of {code, name, "
                       "first, last}")
    eras = []
    for item in node:
        item = ctx.mapping(item, "eras", parent)
        ctx.only_keys(item, ERA, "an era")
        first, last = item.get("first"), item.get("last")
        if not isinstance(first, date) or (last is not None and not isinstance(last, date)):
            raise ctx.fail(item, None, "era first/last must be dates like 1989-01-08")
        eras.append(Era(str(ctx.require(item, "code", "an era")),
                        str(item.get("name", "")), first, last))
    try:
        return EraTable(tuple(eras))
    except ValueError as exc:
        raise ctx.fail(parent, "eras", "the era table is not usable: {reason}",
                       reason=str(exc)) from None


def _load_source(ctx: _Ctx, node: LocatedDict, base: Path) -> SourceSpec:
    fmt = str(node.get("format", "fixed"))
    if fmt not in ("fixed", "delimited"):
        raise ctx.fail(node, "format", "source format '{fmt}' is not supported",
                       "Use format: fixed or format: delimited.", fmt=fmt)
    delimited = fmt == "delimited"
    ctx.only_keys(node, SOURCE.pick(fmt), "source")
    encoding = str(node.get("encoding", "cp932"))
    try:
        encoding = supported_encoding(encoding)
    except (LookupError, ValueError):
        error = ctx.fail(node, "encoding", "encoding '{enc}' cannot be used",
                         "Use one of: cp932, shift_jis, shift_jis_2004, euc_jp, euc_jis_2004, "
                         "utf-8.", enc=encoding)
        error.rule = "unknown-encoding"
        ctx.report(error)
        encoding = "cp932"  # collecting: the rest of the mapping is still checked
    newline_name = str(node.get("newline", "crlf"))
    newlines = {"crlf": b"\r\n", "lf": b"\n", "none": b""}
    if newline_name not in newlines or (delimited and newline_name == "none"):
        raise ctx.fail(node, "newline", "newline must be crlf, lf or none"
                       if not delimited else "newline must be crlf or lf")
    eof = node.get("eof_marker")
    if eof is not None and (not isinstance(eof, int) or isinstance(eof, bool)
                            or not 0 <= eof <= 0xFF):
        raise ctx.fail(node, "eof_marker", "eof_marker must be one byte value from 0 to 255",
                       "Write it as a number, e.g. eof_marker: 0x1a for the MS-DOS EOF byte.")
    record_types = _load_record_types(ctx, node, delimited)
    delimiter, quote = b"", None
    if delimited:
        delimiter = _single_byte(ctx, node, "delimiter", ",")
        quote = _single_byte(ctx, node, "quote", '"') if node.get("quote", '"') else None
        if delimiter == quote or delimiter in b"\r\n":
            raise ctx.fail(node, "delimiter", "the delimiter cannot be the quote or a newline")
        record_length = record_types.length if record_types else 0
    else:
        record_length = ctx.integer(node, "record_length", "source", minimum=1)
        if record_length > MAX_RECORD_BYTES:
            raise ctx.fail(node, "record_length", "record_length {length} is more than the "
                           "{max} bytes a record may have", "Lengths are in bytes; check the "
                           "layout document.", length=f"{record_length:,}",
                           max=f"{MAX_RECORD_BYTES:,}")
    gaiji_file = base / str(node["gaiji"]) if node.get("gaiji") else None
    unknown = ctx.names(node, "unknown_date_parts") or ("00",)
    for part in unknown:
        if not can_mark_unknown(part):
            raise ctx.fail(node, "unknown_date_parts", "'{part}' cannot mark an unknown month "
                           "or day: use two digits that are not a real month or day, such as "
                           "00 or 99", part=part)
    return SourceSpec(
        format=fmt, encoding=encoding, record_length=record_length,
        newline=newlines[newline_name], eof_marker=eof,
        record_types=record_types, eras=_load_eras(ctx, node.get("eras"), node),
        unknown_date_parts=unknown,
        gaiji=_gaiji(ctx, node, gaiji_file, encoding), gaiji_file=gaiji_file,
        delimiter=delimiter, quote=quote, header_line=bool(node.get("header_line", False)),
        strict_chars=_strict_chars(ctx, node))


def _strict_chars(ctx: _Ctx, node: LocatedDict) -> str | None:
    value = node.get("strict_chars")
    if value is not None and value not in STRICT_CHARS:
        raise ctx.fail(node, "strict_chars", "strict_chars must be one of {known}",
                       known=", ".join(STRICT_CHARS))
    return value


def _gaiji(ctx: _Ctx, node: LocatedDict, path: Path | None, encoding: str) -> dict[str, str]:
    if path is None:
        return {}
    with ctx.attempt(node, "gaiji"):
        return load_gaiji_table(path, encoding, ctx.problems)
    return {}


def _single_byte(ctx: _Ctx, node: LocatedDict, key: str, default: str) -> bytes:
    value = str(node.get(key, default)).encode("ascii", "replace")
    if len(value) != 1 or value[0] >= 0x40:
        raise ctx.fail(node, key, "{name} must be one ASCII character below '@' such as , or "
                       "a tab (bytes from 0x40 up can be the second byte of a double-byte "
                       "character)", name=key)
    return value


def ascii_code(ctx: _Ctx, node: LocatedDict, key: str, code: str) -> str:
    """A record-type code is compared byte for byte: printable ASCII only."""
    if not code.isascii() or not code.isprintable():
        raise ctx.fail(node, key, "record type code '{code}' is not printable ASCII",
                       "Record types are codes such as 1, 2, 9 or D, T.", code=code)
    return code


def _load_record_types(ctx: _Ctx, node: LocatedDict, delimited: bool) -> RecordTypes | None:
    """`record_type`: where the code sits, and the code (or list of codes) of each role."""
    if "record_type" not in node:
        return None
    rt = ctx.mapping(node["record_type"], "record_type", node)
    ctx.only_keys(rt, DELIMITED_RECORD_TYPE if delimited else FIXED_RECORD_TYPE, "record_type")
    ctx.require(rt, "data", "record_type")
    roles: list[tuple[str, str]] = []
    for role in ROLES:
        for code in ctx.names(rt, role):
            ascii_code(ctx, rt, role, code)
            if any(code == taken for taken, _ in roles):
                raise ctx.fail(rt, role, "record type code '{code}' is used twice", code=code)
            roles.append((code, role))
    first = {role: next((c for c, r in roles if r == role), None) for role in ROLES}
    if delimited:
        column = ctx.integer(rt, "column", "record_type")
        width = max((len(c) for c, _ in roles), default=1)
        return RecordTypes(0, width, str(first["data"]), first["header"], first["trailer"],
                           column=column, roles=tuple(roles))
    rt_offset = ctx.integer(rt, "offset", "record_type")
    rt_length = ctx.integer(rt, "length", "record_type", minimum=1)
    for code, role in roles:
        if len(code.encode("ascii", "replace")) != rt_length:
            raise ctx.fail(rt, role, "record type code '{code}' is not {n} byte(s) long",
                           code=code, n=rt_length)
    return RecordTypes(rt_offset, rt_length, str(first["data"]), first["header"],
                       first["trailer"], roles=tuple(roles))
