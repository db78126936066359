"""`lookup:` in a column mapping: a value taken from another record of the same file, e.g. the
household head's name (世帯主氏名) from the record with the same 世帯番号 whose 続柄 is 世帯主.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from migrate.layouts.loading import _as_values, _Ctx
from migrate.layouts.source import FieldSpec
from migrate.layouts.yamlpos import LocatedDict

#: Keys of `lookup:`.
LOOKUP_KEYS = ("match", "where", "take")


@dataclass(frozen=True)
class Lookup:
    """`lookup: {match: setai_no, where: {zokugara: "01"}, take: shimei}`: the value of field
    `take` on the one record of the file (this one included) whose `match` fields equal this
    record's and whose `where` fields hold the given vendor values."""

    match: tuple[str, ...]
    where: tuple[tuple[str, tuple[str, ...]], ...]
    take: str


def load_lookup(ctx: _Ctx, node: dict[str, Any], parent: LocatedDict, column: str,
                fields: dict[str, FieldSpec]) -> Lookup:
    """`lookup: {match: setai_no, where: {zokugara: "01"}, take: shimei}`; every name is a
    data field, `where` values are compared with the decoded field as text."""
    what = f"lookup of column {column}"
    raw = ctx.mapping(node["lookup"], "lookup", parent)
    ctx.only_keys(raw, LOOKUP_KEYS, what)
    ctx.require(raw, "match", what)
    match = ctx.names(raw, "match")
    take = str(ctx.require(raw, "take", what))
    where_node = ctx.mapping(raw.get("where") or LocatedDict(), "where", raw)
    where = tuple((str(k), _as_values(v)) for k, v in where_node.items())
    if not where:
        raise ctx.fail(raw, None, "the {what} needs where: to say which record holds the value",
                       "For example where: {{zokugara: \"01\"}} for the household head.",
                       what=what)
    for name in (*match, *(k for k, _ in where), take):
        if name not in fields:
            raise ctx.fail(raw, None, "the {what} names unknown field '{name}'",
                           "Lookups read data fields declared under fields:.", what=what,
                           name=name)
    if set(match) & {k for k, _ in where}:
        raise ctx.fail(raw, "where", "the {what} matches and filters on the same field",
                       what=what)
    return Lookup(match, where, take)
