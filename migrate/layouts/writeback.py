"""`write_back:` of a mapping: data fields that feed no column of the mapping's layout but that
another standard layout holds (zeimu's 氏名 is juki/v1's shimei of the person with the same
宛名番号). Only `migrate export --format fixed` reads them: it writes such a field from that
layout's column when the export's source holds that layout, instead of leaving it blank.

    write_back:
      shimei: {from: juki/v1.shimei, match: {atena_no: atena_no}}
      setai_nushi_name:                       # two steps: 国保世帯 → its head → the head's name
        from: juki/v1.shimei
        through: {layout: kokuho_setai/v1, match: {kokuho_setai_no: kokuho_setai_no}}
        match: {setai_nushi_atena: atena_no}
        missing: "〓"                          # written for a character the encoding lacks

`match` pairs a column of the mapping's layout (of `through`'s layout when given) with a column
of the `from` layout; `through.match` pairs a column of the mapping's layout with one of the
`through` layout.

A child record's field that equals another of its fields by rule, in the records of one `where`
group, is written from the column that other field feeds:

    write_back:
      income.shunyu: {same_as: amount, where: {category: "06"}}  # 利子: 収入金額 = 所得金額

A child record type whose records another mapping of the same file keeps one row each (zeimu's
income records in zeimu_shotoku/v1, by vendor_a/zeimu_shotoku) is written from those rows, each
after its parent in the order of `src_record`, instead of being rebuilt from the parent's columns
(which hold sums per `where` group):

    write_back:
      income: {records: zeimu_shotoku.yaml, match: {tax_year: tax_year, atena_no: atena_no}}

`match` pairs columns of the mapping's layout with columns of the other mapping's layout: a
record must match the parent it follows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migrate.layouts.loading import _Ctx
from migrate.layouts.schema import Schema, load_schema
from migrate.layouts.shapes import Named, Obj, Value
from migrate.layouts.yamlpos import LocatedDict

_PAIRS = Named("Column of this side → column of that layout with the same value.",
               item=Value())
WRITE_BACK = Obj("A field no column keeps, written by migrate export --format fixed from a "
                 "column of another layout in the same export.", {
                     "from": Value("layout.column, e.g. juki/v1.shimei"),
                     "match": _PAIRS,
                     "through": (THROUGH := Obj(
                         "A layout between this one and `from`.",
                         {"layout": Value("A layout id, e.g. kokuho_setai/v1."),
                          "match": _PAIRS}, required=("layout", "match"))),
                     "missing": Value("The character written for one the file's encoding "
                                      "lacks (e.g. 〓); without it such a name stops the "
                                      "export."),
                     "same_as": Value("record.field only: the field of the same child record "
                                      "it equals (in the records `where` selects)."),
                     "where": Named("record.field only: the child records it holds in.",
                                    item=Value()),
                     "records": Value("A child record type only: the mapping (of the same "
                                      "file) whose layout keeps one row per record of this "
                                      "type; the records are written from those rows."),
                 })
WRITE_BACKS = Named("Fields no column keeps, written back from another layout by migrate "
                    "export --format fixed.", item=WRITE_BACK)

Pairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class WriteBack:
    """One field written back from `layout.column`, matched by `match` (through `through`)."""

    field: str
    layout: str
    column: str
    match: Pairs
    through: tuple[str, Pairs] | None = None
    missing: str | None = None
    same_as: str | None = None  # a child field: written from the column this field feeds
    where: Pairs = ()  # … in the child records of this `where` group
    records: Any = None  # a child record type: the Mapping whose rows are its records

    @property
    def layouts(self) -> list[str]:
        """The layouts the export reads for it, `through`'s first."""
        if self.same_as:
            return []
        return [*([self.through[0]] if self.through else []), self.layout]


def _pairs(ctx: _Ctx, node: LocatedDict, key: str, here: Schema, there: Schema) -> Pairs:
    pairs = ctx.mapping(ctx.require(node, key, "a write_back field"), key, node)
    out = []
    for mine, theirs in pairs.items():
        for column, schema in ((str(mine), here), (str(theirs), there)):
            if column not in schema.column_names:
                raise ctx.fail(pairs, str(mine), "{layout} has no column {column}",
                               layout=schema.id, column=column)
        out.append((str(mine), str(theirs)))
    if not out:
        raise ctx.fail(node, key, "'{key}' is missing in {what}", key=key,
                       what="a write_back field")
    return tuple(out)


def _layout(ctx: _Ctx, node: LocatedDict, key: str, ref: str, base: Path) -> Schema:
    try:
        return load_schema(ref, relative_to=base)
    except Exception:
        raise ctx.fail(node, key, "unknown layout '{layout}'", layout=ref) from None


def _child_field(ctx: _Ctx, node: LocatedDict, name: str, item: LocatedDict,
                 children: dict[str, Any], columns: tuple[Any, ...]) -> WriteBack:
    """`record.field: {same_as: field, where: {…}}`: the where group must keep `same_as` in a
    column and not keep this field."""
    record, _, child_field = name.partition(".")
    child = children.get(record)
    if child is None or child_field not in child.fields:
        raise ctx.fail(node, name, "write_back names {field}, which is not a data field",
                       field=name)
    same = str(ctx.require(item, "same_as", "a write_back child field"))
    where_node = ctx.mapping(ctx.require(item, "where", "a write_back child field"), "where",
                             item)
    where = tuple((str(k), str(v)) for k, v in where_node.items())
    for field_name in (same, *(k for k, _ in where)):
        if field_name not in child.fields:
            raise ctx.fail(item, "same_as", "write_back names {field}, which is not a data "
                           "field", field=f"{record}.{field_name}")
    group = [cm for cm in columns if cm.kind == "child" and cm.record == record
             and tuple((k, v[0]) for k, v in cm.where if len(v) == 1) == where]
    if child_field in {cm.source for cm in group}:
        raise ctx.fail(node, name, "the field {field} feeds a column; it is written back from "
                       "that column", field=name)
    if same not in {cm.source for cm in group}:
        raise ctx.fail(item, "same_as", "no column keeps {field} of the records where selects",
                       field=f"{record}.{same}")
    if child.fields[same].type != child.fields[child_field].type:
        raise ctx.fail(item, "same_as", "{field} and {other} are not of the same type",
                       field=name, other=f"{record}.{same}")
    return WriteBack(name, "", "", (), same_as=same, where=where)


def _child_records(ctx: _Ctx, name: str, item: LocatedDict, target: Schema, source: Any,
                   child: Any, base: Path, load_mapping: Callable[[Path | str], Any]
                   ) -> WriteBack:
    """`record: {records: other mapping, match: {…}}`: the other mapping reads this record type
    as its data records, with the same bytes for every field of the record."""
    for key in ("from", "through", "missing", "same_as", "where"):
        if key in item:
            raise ctx.fail(item, key, "'{key}' is not for a child record type written from "
                           "another mapping's rows", key=key)
    ref = str(ctx.require(item, "records", "a write_back record type"))
    path = base / ref
    try:
        other = load_mapping(path if path.is_file() else ref)
    except Exception:
        raise ctx.fail(item, "records", "unknown mapping '{ref}'", ref=ref) from None
    rt = other.source.record_types
    if (other.source.format != source.format or other.source.encoding != source.encoding
            or other.source.stride != source.stride or rt is None or rt.data != child.code
            or other.children):
        raise ctx.fail(item, "records", "{mapping} does not read the records {record} of this "
                       "file as its data records", "Its source must have the same encoding and "
                       "record length, no child records, and record_type data: \"{code}\".",
                       mapping=other.id, record=name, code=child.code)
    for field_name, spec in child.fields.items():
        theirs = other.fields.get(field_name)
        if theirs is None or (theirs.offset, theirs.length, theirs.type) != (
                spec.offset, spec.length, spec.type):
            raise ctx.fail(item, "records", "{mapping} does not read the field {field} where "
                           "this mapping does", mapping=other.id, field=f"{name}.{field_name}")
    match = _pairs(ctx, item, "match", target, other.target)
    return WriteBack(name, other.target.id, "", match, records=other)


def load_write_back(ctx: _Ctx, data: LocatedDict, target: Schema, fields: dict[str, Any],
                    fed: set[str], file_source: Any, base: Path, children: dict[str, Any],
                    columns: tuple[Any, ...], load_mapping: Callable[[Path | str], Any]
                    ) -> dict[str, WriteBack]:
    """The mapping's `write_back:` (`load_mapping` loads the mapping a `records` names: the
    mapping loader passes itself, since it imports this module)."""
    encoding = file_source.encoding
    if not data.get("write_back"):
        return {}
    node = ctx.mapping(data["write_back"], "write_back", data)
    out = {}
    for name, raw in node.items():
        name = str(name)
        with ctx.attempt(node, name):
            item = ctx.mapping(raw, name, node)
            ctx.only_keys(item, WRITE_BACK, "a write_back field")
            if "." in name:
                out[name] = _child_field(ctx, node, name, item, children, columns)
                continue
            if name in children and "records" in item:
                out[name] = _child_records(ctx, name, item, target, file_source,
                                           children[name], base, load_mapping)
                continue
            if "records" in item:
                raise ctx.fail(item, "records", "'{key}' is for a child record type", key="records")
            for key in ("same_as", "where"):
                if key in item:
                    raise ctx.fail(item, key, "'{key}' is for a child record's field "
                                   "(record.field)", key=key)
            if name not in fields:
                raise ctx.fail(node, name, "write_back names {field}, which is not a data field",
                               field=name)
            if name in fed:
                raise ctx.fail(node, name, "the field {field} feeds a column; it is written "
                               "back from that column", field=name)
            ref = str(ctx.require(item, "from", "a write_back field"))
            layout_id, _, column = ref.rpartition(".")
            source = _layout(ctx, item, "from", layout_id, base)
            if column not in source.column_names:
                raise ctx.fail(item, "from", "{layout} has no column {column}",
                               layout=source.id, column=column)
            through = None
            here = target
            if item.get("through") is not None:
                step = ctx.mapping(item["through"], "through", item)
                ctx.only_keys(step, THROUGH, "write_back.through")
                middle = _layout(ctx, step, "layout",
                                 str(ctx.require(step, "layout", "write_back.through")), base)
                through = (middle.id, _pairs(ctx, step, "match", target, middle))
                here = middle
            missing = item.get("missing")
            if missing is not None:
                missing = str(missing)
                try:
                    missing.encode(encoding)
                except UnicodeEncodeError:
                    raise ctx.fail(item, "missing", "{char} cannot be written in {encoding}",
                                   char=missing, encoding=encoding) from None
            out[name] = WriteBack(name, source.id, column, _pairs(ctx, item, "match", here,
                                                                  source), through, missing)
    return out
