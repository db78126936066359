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
"""

from __future__ import annotations

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
                 }, required=("from", "match"))
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

    @property
    def layouts(self) -> list[str]:
        """The layouts the export reads for it, `through`'s first."""
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


def load_write_back(ctx: _Ctx, data: LocatedDict, target: Schema, fields: dict[str, Any],
                    fed: set[str], encoding: str, base: Path) -> dict[str, WriteBack]:
    if not data.get("write_back"):
        return {}
    node = ctx.mapping(data["write_back"], "write_back", data)
    out = {}
    for name, raw in node.items():
        name = str(name)
        with ctx.attempt(node, name):
            item = ctx.mapping(raw, name, node)
            ctx.only_keys(item, WRITE_BACK, "a write_back field")
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
