"""Legacy → standard mappings (mappings/<vendor>/<file>.yaml): the source description, the
child records and how each standard column is produced. Checked against the target layout
at load: unknown columns, required columns left unmapped, codes the target does not allow.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from migrate.errors import LayoutError, MigrateError, UsageError
from migrate.layouts.bundled import bundled_dir
from migrate.layouts.columns import COLUMN, ColumnMapping, load_column_mapping
from migrate.layouts.loading import MAPPING_ID, _as_values, _Ctx, _read_yaml
from migrate.layouts.schema import Schema, load_schema
from migrate.layouts.shapes import (
    CODES,
    POSITIVE,
    TEXT,
    TITLE,
    AnyOf,
    Named,
    Obj,
    Value,
)
from migrate.layouts.source import (
    DELIMITED_FIELD,
    FIXED_FIELD,
    NUMERIC_FIELD_TYPES,
    SOURCE,
    FieldSpec,
    FigureSpec,
    SourceSpec,
    TrailerSpec,
    _load_field,
    _load_fields,
    _load_source,
    _Slots,
    ascii_code,
)
from migrate.layouts.writeback import WRITE_BACKS, WriteBack, load_write_back
from migrate.layouts.yamlpos import LocatedDict

# The keys of a mapping file (shapes.py: the loaders' unknown-key check and the JSON Schema).
_ANY_FIELD = AnyOf(options=(FIXED_FIELD, DELIMITED_FIELD))
CHILD_RECORD = Obj("A record type belonging to the data record before it.", {
    "code": Value(kinds=("string", "integer")), "belongs_to": Value(enum=("previous",)),
    "key": Named("Child field → parent field that must be equal.", item=TEXT),
    "fields": Named(item=FIXED_FIELD)}, required=("code", "fields"))
_FIGURE_KEYS = {
    "count": Value("What it counts: data, or a child record type."),
    "sum": Value("The numeric field it adds up (record.field for a child record's)."),
    "where": Named("Only the records whose field holds this value (or one of these).",
                   item=CODES)}
FIGURE = AnyOf("A trailer field stating a figure of its block.", options=(
    Obj(keys={**FIXED_FIELD.keys, **_FIGURE_KEYS}, required=("offset", "length", "type")),
    Obj(keys={**DELIMITED_FIELD.keys, **_FIGURE_KEYS}, required=("length", "type"))))
TRAILER = Obj("The trailer record's count, control totals, figures and other fields.", {
    "count": _ANY_FIELD, "control_totals": Named(item=_ANY_FIELD),
    "figures": Named("Trailer fields checked against their block.", item=FIGURE),
    "fields": Named("Other trailer fields (expect: checks a constant).", item=_ANY_FIELD)})
MAPPING = Obj("A legacy → standard mapping (migrate).", {
    "mapping": Value("The mapping id, e.g. vendor_a/juki."),
    "version": POSITIVE,
    "title": TITLE,
    "target": Value("The standard layout: a bundled id (juki/v1) or a path."),
    "source": SOURCE,
    "header": Named("Fields of the header record.", item=FIXED_FIELD),
    "trailer": TRAILER,
    "fields": Named("Fields of the data record.", item=_ANY_FIELD),
    "records": Named("Child record types (複数レコード).", item=CHILD_RECORD),
    "columns": Named("Standard column → how it is produced.",
                     item=AnyOf(options=(Value("A field name."), COLUMN))),
    "write_back": WRITE_BACKS,
}, required=("mapping", "target", "source", "fields", "columns"))


@dataclass(frozen=True)
class ChildRecord:
    """A record type that belongs to the data (parent) record before it, e.g. one income record
    per income category after a taxpayer record; its values reach the parent's row through
    column mappings with `from: record.field`, `where` and `aggregate`."""

    name: str
    code: str
    fields: dict[str, FieldSpec]
    key: tuple[tuple[str, str], ...] = ()  # (child field, parent field) that must be equal
    line: int = 0


@dataclass(frozen=True)
class Mapping:
    """A legacy source described against a target standard layout."""

    id: str
    version: int
    title_ja: str
    title_en: str
    target: Schema
    source: SourceSpec
    header_fields: dict[str, FieldSpec]
    trailer: TrailerSpec | None
    fields: dict[str, FieldSpec]
    columns: tuple[ColumnMapping, ...]
    path: Path
    children: dict[str, ChildRecord] = field(default_factory=dict)
    write_back: dict[str, WriteBack] = field(default_factory=dict)  # export --format fixed

    def field_spec(self, name: str) -> FieldSpec:
        """A data field by name, or a child record's field as `record.field`."""
        if "." in name and name.split(".", 1)[0] in self.children:
            record, child_field = name.split(".", 1)
            return self.children[record].fields[child_field]
        return self.fields[name]

    def pii_of_field(self, field_name: str, record: str | None = None) -> str | None:
        """A field is personal data when a column it feeds is (declared once, in the schema)."""
        for cm in self.columns:
            fed = cm.fed_by if record is None else \
                ((cm.source,) if cm.kind == "child" and cm.record == record else ())
            if field_name in fed:
                pii = self.target.column(cm.column).pii
                if pii:
                    return pii
        return None

def find_mapping(ref: str | Path) -> Path:
    """A mapping by path, or by id (vendor_a/juki) in the bundled mappings folder."""
    as_path = Path(ref)
    if as_path.is_file():
        return as_path
    bundled = bundled_dir("mappings") / f"{ref}.yaml"
    if bundled.is_file():
        return bundled
    known = ", ".join(list_bundled_mappings()) or "-"
    raise UsageError("unknown mapping '{ref}'", {"ref": str(ref)},
                     hint="Give a path to a mapping YAML file or one of the bundled ids: {known}.",
                     hint_params={"known": known})


def list_bundled_mappings() -> list[str]:
    root = bundled_dir("mappings")
    return sorted(str(p.relative_to(root).with_suffix("")) for p in root.rglob("*.yaml"))

def _load_children(ctx: _Ctx, data: LocatedDict, source: SourceSpec
                   ) -> dict[str, ChildRecord]:
    if not data.get("records"):
        return {}
    node = ctx.mapping(data["records"], "records", data)
    if source.delimited or source.record_types is None:
        raise ctx.fail(data, "records", "child record types need a fixed-width source with "
                       "source.record_type")
    rt = source.record_types
    taken = {code for code, _ in rt.code_roles()}
    children = {}
    for name, raw in node.items():
        with ctx.attempt(node, str(name)):
            children[str(name)] = _load_child(ctx, str(name), raw, node, source, taken)
    return children


def _load_child(ctx: _Ctx, name: str, raw: Any, node: LocatedDict, source: SourceSpec,
                taken: set[str | None]) -> ChildRecord:
    rt = source.record_types
    assert rt is not None
    child = ctx.mapping(raw, str(name), node)
    what = f"record type {name}"
    ctx.only_keys(child, CHILD_RECORD, what)
    code = ascii_code(ctx, child, "code", str(ctx.require(child, "code", what)))
    if len(code.encode("ascii", "replace")) != rt.length:
        raise ctx.fail(child, "code", "record type code '{code}' is not {n} byte(s) long",
                       code=code, n=rt.length)
    if code in taken:
        raise ctx.fail(child, "code", "record type code '{code}' is used twice", code=code)
    taken.add(code)
    if str(child.get("belongs_to", "previous")) != "previous":
        raise ctx.fail(child, "belongs_to", "belongs_to must be 'previous': a child record "
                       "belongs to the nearest data record before it",
                       "If the file joins by key only, sort it by that key first.")
    fields = _load_fields(ctx, ctx.require(child, "fields", what), "fields", child, source)
    key = tuple((str(k), str(v)) for k, v in
                ctx.mapping(child.get("key") or LocatedDict(), "key", child).items())
    return ChildRecord(str(name), code, fields, key, child.line)


def _check_against_target(ctx: _Ctx, data: LocatedDict, columns: list[ColumnMapping],
                          target: Schema) -> None:
    cols_node = data["columns"]
    names = set(target.column_names)
    for cm in columns:
        if cm.column not in names:
            error = ctx.fail(cols_node, cm.column,
                             "column '{column}' is not in the target layout {target}",
                             "Columns of {target}: {known}.", column=cm.column,
                             target=target.id, known=", ".join(target.column_names))
            error.rule = "column-not-in-schema"
            ctx.report(error)
            continue
        spec = target.column(cm.column)
        if cm.kind == "record_number" and spec.dtype != "int":
            ctx.report(ctx.fail(cols_node, cm.column, "column {column} takes the record number, "
                                "but its dtype in {target} is {dtype}",
                                "A record number is a whole number: give the column dtype: int.",
                                column=cm.column, target=target.id, dtype=spec.dtype))
        if cm.kind == "file_name" and spec.dtype != "str":
            ctx.report(ctx.fail(cols_node, cm.column, "column {column} takes the input file's "
                                "name, but its dtype in {target} is {dtype}", "A file name is "
                                "text: give the column dtype: str.", column=cm.column,
                                target=target.id, dtype=spec.dtype))
        if cm.codes and spec.codes is not None:
            bad = sorted({v for v in cm.codes.mapping.values() if v and v not in spec.codes})
            if bad:
                first = min(line for src, line in cm.codes.lines.items()
                            if cm.codes.mapping[src] in bad) if cm.codes.lines else None
                ctx.report(LayoutError(
                    "code table maps to {codes}, which {target} does not allow for {column}",
                    {"codes": ", ".join(bad), "target": target.id, "column": cm.column},
                    file=cm.codes.path, line=first, col=1 if first else None,
                    rule="code-not-allowed", hint="Allowed codes are listed in {table}.",
                    hint_params={"table": spec.code_table}))
    mapped = {cm.column for cm in columns}
    missing = [c.name for c in target.columns if c.required and c.name not in mapped]
    if missing:
        error = ctx.fail(data, "columns", "required column(s) of {target} not mapped: {missing}",
                         "Map each required column from a field, the header, the record number, "
                         "another record (lookup) or a constant (value:).",
                         target=target.id, missing=", ".join(missing))
        error.rule = "required-unmapped"
        ctx.report(error)


def load_mapping(ref: str | Path, problems: list[MigrateError] | None = None) -> Mapping:
    """Load and check a mapping by id or path, together with its target schema. With
    `problems`, every problem found is noted there and the loading goes on as far as it can
    (it still raises when no Mapping can be made)."""
    path = find_mapping(ref)
    ctx = _Ctx(path, problems)
    data = _read_yaml(path, ctx)
    ctx.only_keys(data, MAPPING, "a mapping")
    base = path.parent
    target = None
    with ctx.attempt(data, "target"):
        target = load_schema(str(ctx.require(data, "target", "the mapping")), relative_to=base,
                             problems=problems)
    source = _load_source(ctx, ctx.mapping(ctx.require(data, "source", "the mapping"),
                                           "source", data), base)
    slots = _Slots(source.record_length) if source.delimited else None
    if slots is not None and data.get("header"):
        raise ctx.fail(data, "header", "a delimited source has no header record fields",
                       "Use source.header_line: true for a line of column names.")
    header = _load_fields(ctx, data.get("header") or LocatedDict(), "header", data, source)
    fields: dict[str, FieldSpec] = {}
    with ctx.attempt(data, "fields"):
        fields = _load_fields(ctx, ctx.require(data, "fields", "the mapping"), "fields", data,
                              source, slots)
    children: dict[str, ChildRecord] = {}
    with ctx.attempt(data, "records"):
        children = _load_children(ctx, data, source)
    if children and source.record_types:
        source = replace(source, record_types=replace(
            source.record_types, children=tuple((c.code, c.name) for c in children.values())))
    trailer = None
    with ctx.attempt(data, "trailer"):
        trailer = _load_trailer(ctx, data, source, fields, children, slots)
    with ctx.attempt(data, "header"):
        _check_md_years(ctx, data, header, [fields, header, *(c.fields for c in children.values()),
                                            trailer.all_fields() if trailer else {}])
    if (header or trailer) and source.record_types is None:
        ctx.report(ctx.fail(data, "source", "header/trailer fields need source.record_type"))
    if slots is not None:  # the synthetic row: record-type slot + every field's slot
        source = replace(source, record_length=slots.width)
    raw_columns = ctx.mapping(ctx.require(data, "columns", "the mapping"), "columns", data)
    known = {"fields": fields, "header": header, "children": children}
    by_name = {c.name: c for c in target.columns} if target is not None else {}
    columns = []
    for c, v in raw_columns.items():
        with ctx.attempt(raw_columns, str(c)):
            columns.append(load_column_mapping(ctx, str(c), v, raw_columns, known, base,
                                               by_name.get(str(c))))
    if target is not None:
        _check_against_target(ctx, data, columns, target)
    for child in children.values():
        if not any(cm.kind == "child" and cm.record == child.name and cm.aggregate != "count"
                   for cm in columns):
            ctx.report(ctx.fail(data["records"], child.name,
                                "no column takes the values of record type {record}",
                                "Map its fields with from: {record}.field (and where:), or its "
                                "records would be counted but their values lost.",
                                record=child.name))
    write_back: dict[str, WriteBack] = {}
    if target is not None:
        with ctx.attempt(data, "write_back"):
            write_back = load_write_back(ctx, data, target, fields,
                                         {name for cm in columns for name in cm.fed_by},
                                         source, base, children, tuple(columns),
                                         load_mapping)
    mapping_id = ctx.identifier(data, "mapping", ctx.require(data, "mapping", "the mapping"),
                                "mapping id", MAPPING_ID)
    if target is None:  # collecting, and the target could not be loaded: noted already
        assert problems
        raise problems[-1]
    title_ja, title_en = ctx.titles(data, mapping_id)
    version = ctx.integer(data, "version", "the mapping", minimum=1) if "version" in data else 1
    return Mapping(mapping_id, version, title_ja, title_en, target, source, header, trailer, fields,
                   tuple(columns), path, children, write_back)


def _check_md_years(ctx: _Ctx, data: LocatedDict, header: dict[str, FieldSpec],
                    groups: list[dict[str, FieldSpec]]) -> None:
    """An md field's `year_from: header.<field>` names another header field."""
    for group in groups:
        for spec in group.values():
            if not spec.year_from or not spec.year_from.startswith("header."):
                continue
            name = spec.year_from.removeprefix("header.")
            source = header.get(name)
            if source is None or source is spec or source.type == "md":
                raise ctx.fail(data, None, "field {field} takes its year from header field "
                               "'{name}', which the header does not declare (or is itself an "
                               "md field)", field=spec.name, name=name)


def _load_trailer(ctx: _Ctx, data: LocatedDict, source: SourceSpec, fields: dict[str, FieldSpec],
                  children: dict[str, ChildRecord], slots: _Slots | None) -> TrailerSpec | None:
    if not data.get("trailer"):
        return None
    tnode = ctx.mapping(data["trailer"], "trailer", data)
    ctx.only_keys(tnode, TRAILER, "trailer")
    count = (_load_field(ctx, "count", tnode["count"], tnode, source, slots)
             if tnode.get("count") else None)
    totals = _load_fields(ctx, tnode.get("control_totals") or LocatedDict(),
                          "control_totals", tnode, source, slots)
    for name in totals:
        spec = _summed_field(name, fields, children)
        if spec is None:
            raise ctx.fail(tnode, "control_totals",
                           "control total '{name}' names no data field", name=name)
        if spec.type not in NUMERIC_FIELD_TYPES:
            raise ctx.fail(tnode, "control_totals",
                           "control total '{name}' must sum a numeric field", name=name)
    figures = _load_figures(ctx, tnode, source, fields, children, slots)
    plain = _load_fields(ctx, tnode.get("fields") or LocatedDict(), "fields", tnode, source,
                         slots)
    trailer = TrailerSpec(count, totals, figures, plain)
    names = [f.name for f in trailer.all_figures()] + list(plain)
    for name in names:
        if names.count(name) > 1:
            raise ctx.fail(tnode, None, "trailer field name '{name}' is used twice", name=name)
    return trailer


def _summed_field(name: str, fields: dict[str, FieldSpec],
                  children: dict[str, ChildRecord]) -> FieldSpec | None:
    """A data field, or a child record's field written `record.field`."""
    record, _, child_field = name.partition(".")
    if child_field and record in children:
        return children[record].fields.get(child_field)
    return fields.get(name)


def _load_figures(ctx: _Ctx, tnode: LocatedDict, source: SourceSpec,
                  fields: dict[str, FieldSpec], children: dict[str, ChildRecord],
                  slots: _Slots | None) -> tuple[FigureSpec, ...]:
    """`trailer.figures`: each a trailer field with `count: data` (or a child record type) or
    `sum: field`, and optionally `where: {field: value or [values]}`."""
    node = ctx.mapping(tnode.get("figures") or LocatedDict(), "figures", tnode)
    figures = []
    for raw_name, raw in node.items():
        name = str(raw_name)
        spec = _load_field(ctx, name, raw, node, source, slots, tuple(_FIGURE_KEYS))
        item = ctx.mapping(raw, name, node)
        if ("count" in item) == ("sum" in item):
            raise ctx.fail(item, None, "trailer figure {name} needs either 'count' or 'sum'",
                           "count: data counts the data records, sum: <field> adds up a "
                           "numeric field.", name=name)
        if spec.type not in NUMERIC_FIELD_TYPES:
            raise ctx.fail(item, "type", "trailer figure {name} must be a numeric field "
                           "(digits, zoned, packed, decimal)", name=name)
        if "count" in item:
            kind, of = "count", str(item["count"])
            if of != "data" and of not in children:
                raise ctx.fail(item, "count", "count: '{of}' is neither data nor a child record "
                               "type", "Known: data{known}.", of=of,
                               known="".join(f", {c}" for c in children))
            record_fields = fields if of == "data" else children[of].fields
        else:
            kind, of = "sum", str(item["sum"])
            summed = _summed_field(of, fields, children)
            if summed is None or summed.type not in NUMERIC_FIELD_TYPES:
                raise ctx.fail(item, "sum", "sum: '{of}' names no numeric data field", of=of)
            record, _, child_field = of.partition(".")
            record_fields = children[record].fields if child_field and record in children \
                else fields
        where_node = item.get("where") or {}
        if not isinstance(where_node, dict):
            raise ctx.fail(item, "where", "'where' must map fields to values")
        where = tuple((str(k), _as_values(v)) for k, v in where_node.items())
        for key, _ in where:
            if key not in record_fields:
                raise ctx.fail(item, "where", "'where' of trailer figure {name} names unknown "
                               "field '{field}'", name=name, field=key)
        figures.append(FigureSpec(name, spec, kind, of, where))
    return tuple(figures)
