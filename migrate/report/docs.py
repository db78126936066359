"""`migrate docs SCHEMA|MAPPING`: a data dictionary as one self-contained page, for a manager
or a vendor who should not have to read YAML.

For a standard layout: every column with its Japanese and English names, type, length or
precision, whether it is required, personal data, its code table with every value and meaning,
checks, min/max and references; the primary key, row rules and group checks.
For a mapping: the source's framing, then the byte layout of each record type drawn as a ruler
(offsets and lengths are bytes), each field beside the standard column it feeds; then the
target layout's dictionary as above. Built from the loaded declarations (never the raw YAML), so
the page says what migrate will do. Inline CSS and SVG only, like report.html.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, PackageLoader, StrictUndefined

from migrate.errors import UsageError
from migrate.i18n import language, t
from migrate.layouts import (
    ColumnSpec,
    FieldSpec,
    Mapping,
    RecordTypes,
    Schema,
    find_mapping,
    find_schema,
    load_mapping,
    load_schema,
)
from migrate.layouts.tables import read_csv_table
from migrate.sinks.atomic import write_text_atomic

RULER_WIDTH = 1000  # px for a whole record in the overview ruler
RULER_TICK = 10  # bytes between ticks; labels every 5 ticks


def load_subject(ref: str) -> Schema | Mapping:
    """A schema or a mapping, by bundled id or path: a file says which by its first key
    (`layout:` or `mapping:`); an id is looked up among the schemas, then the mappings."""
    path = Path(ref)
    if path.is_file():
        try:
            with path.open("rb") as handle:
                first = yaml.safe_load(handle.read(1 << 20))
        except (OSError, yaml.YAMLError):
            first = None
        if isinstance(first, dict) and "layout" in first:
            return load_schema(path)
        return load_mapping(path)
    try:
        return load_schema(find_schema(ref))
    except UsageError:
        pass
    try:
        find_mapping(ref)
    except UsageError:
        raise UsageError("unknown schema or mapping '{ref}'", {"ref": ref},
                         hint="Give a bundled id such as juki/v1 or vendor_a/juki, or a path to "
                              "a schema or mapping YAML file.") from None
    return load_mapping(ref)


def _name(item: Any, lang: str) -> str:
    return (item.title_ja if lang == "ja" else item.title_en) or item.id


def _codes(spec: ColumnSpec, lang: str) -> list[dict[str, str]]:
    if spec.code_table is None:
        return [{"code": code, "meaning": ""} for code in spec.codes or ()]
    rows = read_csv_table(spec.code_table, ("code",))
    label = "label_ja" if lang == "ja" else "label_en"
    return [{"code": row["code"], "meaning": row.get(label) or row.get("label_ja") or ""}
            for row in rows]


def _size(spec: ColumnSpec) -> str:
    if spec.dtype == "decimal":
        return f"{spec.precision or 18},{spec.scale}"
    if spec.length:
        return str(spec.length)
    if spec.max_length:
        return t("≤ {n}", n=spec.max_length)
    return ""


def _checks(spec: ColumnSpec) -> list[str]:
    found = [check.name + ("" if check.severity == "error" else f" ({t('warning')})")
             for check in spec.checks]
    if spec.minimum is not None:
        found.append(t("min {n}", n=f"{spec.minimum:g}"))
    if spec.maximum is not None:
        found.append(t("max {n}", n=f"{spec.maximum:g}"))
    return found


def schema_facts(schema: Schema, lang: str) -> dict[str, Any]:
    """What the schema part of the page shows."""
    columns = []
    for position, spec in enumerate(schema.columns, start=1):
        ref = spec.references
        columns.append({
            "position": position, "name": spec.name, "ja": spec.ja, "en": spec.en,
            "dtype": spec.dtype, "size": _size(spec), "required": spec.required,
            "key": spec.name in schema.primary_key, "pii": spec.pii or "",
            "codes": _codes(spec, lang) if spec.dtype == "code" else [],
            "checks": _checks(spec),
            "references": ref.describe() if ref else "",
            "unless": ", ".join(f"{k} = {'|'.join(v)}" for k, v in ref.unless.items())
            if ref else ""})
    rules = [{"name": r.name, "text": (r.ja if lang == "ja" else r.en) or r.name}
             for r in (*schema.rules, *schema.group_checks)]
    return {"id": schema.id, "title": _name(schema, lang), "path": str(schema.path),
            "primary_key": list(schema.primary_key), "columns": columns, "rules": rules}


def _feeds(mapping: Mapping, record: str | None) -> dict[str, list[str]]:
    """field → the standard columns it feeds (a child record's fields as `record.field`)."""
    feeds: dict[str, list[str]] = {}
    for cm in mapping.columns:
        if cm.source is None or cm.kind not in ("field", "child", "header"):
            continue
        if (cm.kind == "child") != (record is not None) or (record and cm.record != record):
            continue
        name = cm.source.split(".", 1)[-1] if record else cm.source
        feeds.setdefault(f"header:{name}" if cm.kind == "header" else name, []).append(
            cm.column)
    return feeds


def _ruler(fields: dict[str, FieldSpec], length: int, feeds: dict[str, list[str]],
           schema: Schema, lang: str, delimited: bool,
           type_code: RecordTypes | None = None) -> dict[str, Any]:
    """The fields of one record type in byte order, fillers (and the record-type code)
    included, with their geometry."""
    scale = RULER_WIDTH / max(length, 1)
    rows: list[dict[str, Any]] = []
    at = 0
    specs = sorted(fields.values(), key=lambda f: f.offset)
    if type_code is not None and not delimited:
        specs = sorted([*specs, FieldSpec("", type_code.offset, type_code.length, "")],
                       key=lambda f: f.offset)
    for spec in specs:
        if spec.offset > at and not delimited:
            rows.append({"filler": True, "offset": at, "end": spec.offset,
                         "length": spec.offset - at, "label": t("filler")})
        if not spec.name:  # the record-type code
            rows.append({"filler": True, "offset": spec.offset, "end": spec.end,
                         "length": spec.length, "label": t("record type code")})
            at = max(at, spec.end)
            continue
        columns = [schema.column(c) for c in feeds.get(spec.name, ())
                   if c in schema.column_names]
        rows.append({"filler": False, "name": spec.name, "offset": spec.offset,
                     "end": spec.end, "length": spec.length, "type": spec.type,
                     "cell": spec.column_name or ("" if spec.column is None
                                                  else str(spec.column + 1)),
                     "columns": [{"name": c.name, "label": c.ja if lang == "ja" else c.en}
                                 for c in columns]})
        at = max(at, spec.end)
    if at < length and not delimited:
        rows.append({"filler": True, "offset": at, "end": length, "length": length - at,
                     "label": t("filler")})
    for row in rows:
        row["x"] = round(row["offset"] * scale, 2)
        row["width"] = max(round(row["length"] * scale, 2), 1)
    ticks = [{"byte": b, "x": round(b * scale, 2), "label": b % (RULER_TICK * 5) == 0}
             for b in range(0, length + 1, RULER_TICK)]
    return {"rows": rows, "ticks": ticks, "length": length, "width": RULER_WIDTH}


def mapping_facts(mapping: Mapping, lang: str) -> dict[str, Any]:
    """What the mapping part of the page shows: framing and one ruler per record type."""
    source = mapping.source
    length = source.record_length
    types = source.record_types
    records = [{"kind": t("data record"), "code": source.record_types.data
                if source.record_types else "",
                "ruler": _ruler(mapping.fields, length, _feeds(mapping, None),
                                mapping.target, lang, source.delimited, types)}]
    for child in mapping.children.values():
        records.append({"kind": t("child record {name}", name=child.name), "code": child.code,
                        "ruler": _ruler(child.fields, length, _feeds(mapping, child.name),
                                        mapping.target, lang, source.delimited, types)})
    if mapping.header_fields:
        records.append({"kind": t("header record"), "code": source.record_types.header
                        if source.record_types else "",
                        "ruler": _ruler(mapping.header_fields, length,
                                        {k.split(":", 1)[1]: v for k, v in
                                         _feeds(mapping, None).items()
                                         if k.startswith("header:")},
                                        mapping.target, lang, source.delimited, types)})
    if mapping.trailer is not None:
        trailer = dict(mapping.trailer.control_totals)
        if mapping.trailer.count is not None:
            trailer["count"] = mapping.trailer.count
        records.append({"kind": t("trailer record"), "code": source.record_types.trailer
                        if source.record_types else "",
                        "ruler": _ruler(trailer, length, {}, mapping.target, lang,
                                        source.delimited, types)})
    newline = {b"\r\n": "CRLF", b"\n": "LF", b"": t("none")}.get(source.newline, "")
    return {"id": mapping.id, "version": mapping.version, "title": _name(mapping, lang),
            "path": str(mapping.path), "format": source.format, "encoding": source.encoding,
            "record_length": length, "newline": newline, "delimited": source.delimited,
            "records": records}


def _labels(lang: str) -> dict[str, str]:
    """The page's words in the reader's language."""
    return {
        "dictionary": t("Data dictionary", lang),
        "layout": t("Standard layout", lang),
        "mapping": t("Mapping", lang),
        "source": t("Source file", lang),
        "format": t("format", lang),
        "encoding": t("encoding", lang),
        "record_length": t("record length (bytes)", lang),
        "newline": t("line end", lang),
        "columns": t("Columns", lang),
        "name": t("column", lang),
        "ja": t("Japanese name", lang),
        "en": t("English name", lang),
        "dtype": t("type", lang),
        "size": t("length", lang),
        "required": t("required", lang),
        "key": t("primary key", lang),
        "pii": t("personal data", lang),
        "codes": t("code values", lang),
        "checks": t("checks", lang),
        "references": t("references", lang),
        "unless": t("except when", lang),
        "rules": t("Row rules", lang),
        "layout_of": t("Byte layout", lang),
        "offset": t("offset", lang),
        "end": t("end", lang),
        "bytes": t("bytes", lang),
        "field": t("field", lang),
        "cell": t("cell", lang),
        "feeds": t("standard column", lang),
        "yes": t("yes", lang),
        "generated": t("Made by migrate docs from", lang),
        "ruler_note": t("Offsets and lengths are bytes, counted from 0.", lang),
        "cells": t("Cells of each line", lang),
        "cells_note": t("A cell is found by its number (from 1) or by its name in the header "
                        "line.", lang),
        "colon": t(": ", lang),
    }


def render_docs(subject: Schema | Mapping) -> str:
    """The page of a schema or a mapping, in the user's language (migrate.i18n.language)."""
    lang = language()
    env = Environment(loader=PackageLoader("migrate.report", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    schema = subject.target if isinstance(subject, Mapping) else subject
    mapping = mapping_facts(subject, lang) if isinstance(subject, Mapping) else None
    return env.get_template("docs.html.j2").render(
        lang=lang, L=_labels(lang), schema=schema_facts(schema, lang), mapping=mapping)


def write_docs(ref: str, out: Path | None) -> Path:
    """Write the page of SCHEMA|MAPPING to `out` (default: <id>.html in the current folder)."""
    subject = load_subject(ref)
    path = out or Path(subject.id.replace("/", "_") + ".html")
    if path.is_dir():
        raise UsageError("{path} is a folder", {"path": path},
                         hint="Give the name of the HTML file to write with --out.")
    write_text_atomic(path, render_docs(subject))
    return path
