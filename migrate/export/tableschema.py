"""A Frictionless Table Schema generated from a standard layout: explicit types, so a zero-padded
id (dtype digits) is a string with a pattern and never inferred as an integer.

dtype → Table Schema: str/digits/code/partial_date → string (digits: pattern ^[0-9]+$, code: enum
of its code table, partial_date: YYYY[-MM[-DD]]), int → integer, decimal → number, date → date
(ISO), flag → integer 0/1. length / max_length / required / min / max become constraints (a
text's length as a pattern, since an IVS counts as one character); the
primary key and the references to layouts that travel in the same package become primaryKey and
foreignKeys (a reference with `unless` cannot be said in Table Schema: it stays in the layout).
"""

from __future__ import annotations

from typing import Any

from migrate.layouts import ColumnSpec, Schema
from migrate.layouts.characters import SELECTORS

TYPES = {"str": "string", "digits": "string", "code": "string", "partial_date": "string",
         "int": "integer", "decimal": "number", "date": "date", "flag": "integer"}
PARTIAL_DATE = r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"


def text_length_pattern(low: int, high: int) -> str:
    """A text of `low` to `high` characters as the layout counts them (migrate.layouts.
    characters): each character may carry one variation selector (an IVS), written as the
    characters themselves so that any regular-expression dialect reads the class."""
    return f"^(?:[^{SELECTORS}][{SELECTORS}]?){{{low},{high}}}$"


def field_of(spec: ColumnSpec) -> dict[str, Any]:
    """The Table Schema field of one column."""
    constraints: dict[str, Any] = {}
    if spec.required:
        constraints["required"] = True
    if spec.dtype == "str" and (spec.length or spec.max_length):
        # minLength/maxLength count code points: an IVS name at its limit would fail them
        constraints["pattern"] = text_length_pattern(spec.length or 0,
                                                     spec.length or spec.max_length)
    elif spec.length:
        constraints["minLength"] = constraints["maxLength"] = spec.length
    elif spec.max_length:
        constraints["maxLength"] = spec.max_length
    if spec.dtype == "digits":
        constraints["pattern"] = "^[0-9]+$"
    if spec.dtype == "partial_date":
        constraints["pattern"] = PARTIAL_DATE
    if spec.dtype == "code" and spec.codes is not None:
        constraints["enum"] = list(spec.codes)
    if spec.dtype == "flag":
        constraints["enum"] = [0, 1]
    if spec.minimum is not None:
        constraints["minimum"] = spec.minimum
    if spec.maximum is not None:
        constraints["maximum"] = spec.maximum
    field: dict[str, Any] = {"name": spec.name, "type": TYPES[spec.dtype], "title": spec.ja,
                             "description": spec.en}
    if spec.dtype == "date":
        field["format"] = "default"
    if constraints:
        field["constraints"] = constraints
    if spec.pii:
        field["pii"] = spec.pii
    return field


def table_schema(schema: Schema, resource_of: dict[str, str]) -> dict[str, Any]:
    """The Table Schema of a layout; `resource_of` maps the layout ids in the package to their
    resource names (for foreignKeys)."""
    descriptor: dict[str, Any] = {
        "fields": [field_of(spec) for spec in schema.columns],
        "missingValues": [""],
    }
    if schema.primary_key:
        descriptor["primaryKey"] = list(schema.primary_key)
    foreign = []
    for spec in schema.columns:
        ref = spec.references
        if ref is None or ref.unless or ref.layout not in resource_of:
            continue
        foreign.append({"fields": list(ref.columns),
                        "reference": {"resource": resource_of[ref.layout],
                                      "fields": list(ref.target_columns)}})
    if foreign:
        descriptor["foreignKeys"] = foreign
    return descriptor
