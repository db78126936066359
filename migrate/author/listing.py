"""`migrate list`: the bundled mappings and standard layouts with their titles, so a user can
see which ids `--mapping` and `target:` accept without opening the folders."""

from __future__ import annotations

from dataclasses import dataclass

from migrate.layouts import list_bundled_mappings, load_mapping, load_schema
from migrate.layouts.bundled import bundled_dir


@dataclass(frozen=True)
class Entry:
    """One bundled file: its id, its titles, and (mappings) its target layout and format."""

    kind: str  # mapping | schema
    id: str
    title_ja: str
    title_en: str
    target: str = ""  # mapping: the standard layout it produces
    format: str = ""  # mapping: fixed | delimited
    encoding: str = ""
    record_length: int = 0  # fixed-width mapping: bytes per record
    columns: int = 0  # schema: number of columns


def bundled_entries() -> list[Entry]:
    """Every bundled mapping, then every bundled schema, sorted by id."""
    entries = []
    for ref in list_bundled_mappings():
        mapping = load_mapping(ref)
        source = mapping.source
        entries.append(Entry("mapping", ref, mapping.title_ja, mapping.title_en,
                             target=mapping.target.id, format=source.format,
                             encoding=source.encoding,
                             record_length=0 if source.delimited else source.record_length))
    root = bundled_dir("schemas")
    for path in sorted(root.rglob("v*.yaml")):
        schema = load_schema(path)
        entries.append(Entry("schema", schema.id, schema.title_ja, schema.title_en,
                             columns=len(schema.columns)))
    return entries
