"""The JSON Schema of each YAML kind (mapping, schema, plan, batch), generated from the declarations
the loaders check keys against (layouts.shapes), so an editor (VS Code's YAML extension via
`# yaml-language-server: $schema=…`) completes and flags exactly the keys `migrate run` accepts.
The generated files ship in schemas/; a test proves they are current.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from migrate.layouts.batch import BATCH
from migrate.layouts.mapping import MAPPING
from migrate.layouts.plan import PLAN
from migrate.layouts.schema import SCHEMA
from migrate.layouts.shapes import AnyOf, ListOf, Named, Obj, Shape, Switch, Value

KINDS: dict[str, Obj] = {"mapping": MAPPING, "schema": SCHEMA, "plan": PLAN, "batch": BATCH}
SHIPPED = Path(__file__).resolve().parent / "schemas"
DRAFT = "http://json-schema.org/draft-07/schema#"


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema (draft 7, what the YAML extension reads) of one YAML kind."""
    schema = {"$schema": DRAFT, "$id": f"migrate-{kind}.schema.json",
              "title": f"migrate {kind}", **_shape(KINDS[kind])}
    return schema


def json_schema_text(kind: str) -> str:
    return json.dumps(json_schema(kind), ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def shipped_path(kind: str) -> Path:
    return SHIPPED / f"{kind}.schema.json"


def _shape(shape: Shape) -> dict[str, Any]:
    out: dict[str, Any] = {"description": shape.about} if shape.about else {}
    if isinstance(shape, Value):
        out["type"] = list(shape.kinds) if len(shape.kinds) > 1 else shape.kinds[0]
        if shape.enum:
            out["enum"] = list(shape.enum)
        if shape.minimum is not None:
            out["minimum"] = shape.minimum
        if shape.maximum is not None:
            out["maximum"] = shape.maximum
    elif isinstance(shape, Obj):
        out.update(type="object", properties={k: _shape(v) for k, v in shape.keys.items()})
        if shape.required:
            out["required"] = list(shape.required)
        out["additionalProperties"] = shape.open
    elif isinstance(shape, Named):
        out.update(type="object", additionalProperties=_shape(shape.item))
    elif isinstance(shape, ListOf):
        array = {"type": "array", "items": _shape(shape.item)}
        out.update({"anyOf": [_shape(shape.item), array]} if shape.single else array)
    elif isinstance(shape, AnyOf):
        out["anyOf"] = [_shape(option) for option in shape.options]
    elif isinstance(shape, Switch):
        out.update(_switch(shape))
    return out


def _switch(shape: Switch) -> dict[str, Any]:
    """if key == case then its Obj, else …, down to the default case."""
    result: dict[str, Any] = _shape(shape.cases[shape.default])
    for value, case in reversed([(v, c) for v, c in shape.cases.items()
                                 if v != shape.default]):
        result = {"if": {"properties": {shape.key: {"const": value}}, "required": [shape.key]},
                  "then": _shape(case), "else": result}
    return result
