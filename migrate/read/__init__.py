"""Read: byte-exact framing of a legacy file into chunks of records (`fixed`: fixed-width
records; `delimited`: CSV/TSV lines laid into synthetic fixed-width rows).
May import only `layouts`, `errors` and `i18n`; never `validate`, `sinks`, `run` or `cli`.

Open the right reader for a mapping's source: fixed-width records or delimited lines.

Both readers hand the later stages the same thing — chunks of records as an (n, width) byte
matrix plus kinds and record numbers — so decoding, mapping, validation and reconciliation do
not know which kind of file they came from. A delimited line becomes a synthetic fixed-width row:
each field's cell is copied into its slot (see `FieldSpec`), and the chunk remembers each
cell's real offset in the file for the rejects.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from migrate.errors import InputFormatError
from migrate.layouts import FieldSpec, Mapping
from migrate.read.fixed import FixedWidthReader, kind_of_code, unreadable


def open_reader(path: Path, mapping: Mapping, chunk_bytes: int) -> Any:
    """A FixedWidthReader or a DelimitedReader for `path`; framing errors surface here."""
    _check_readable(Path(path))
    source = mapping.source
    if not source.delimited:
        return FixedWidthReader(path, source, chunk_bytes)
    from migrate.read.delimited import DelimitedReader, Slot

    by_offset = {spec.offset: spec for spec in _delimited_fields(mapping)}
    slots, named = [], {}
    rt = source.record_types
    for offset in slot_offsets(mapping):
        if rt is not None and offset == 0:
            slots.append(Slot(rt.column or 0, 0, rt.length))
            continue
        spec = by_offset[offset]
        if spec.column is None:  # by header name: its column is known once line 1 is read
            named[len(slots)] = spec
        slots.append(Slot(spec.column or 0, spec.offset, spec.length))
    record_type = None
    if rt is not None:
        record_type = (0, {c.encode("ascii"): k for c, k in kind_of_code(source).items()})
    reader = DelimitedReader(path, delimiter=source.delimiter, quote=source.quote,
                             newline=source.newline, header_line=source.header_line,
                             eof_marker=source.eof_marker, slots=slots,
                             width=source.record_length, record_type=record_type,
                             encoding=source.encoding, chunk_bytes=chunk_bytes)
    reader.use_columns({i: _column_index(spec, reader.header_names, path)
                        for i, spec in named.items()})
    return reader


def _check_readable(path: Path) -> None:
    """An input this user cannot open (permissions, a share gone away) is an exit-2 error that
    names the cause, not an internal error: tried once here, before either reader opens it."""
    if not path.is_file():
        return  # the reader says that the file does not exist
    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except OSError as error:
        raise unreadable(path, error) from error


def slot_offsets(mapping: Mapping) -> list[int]:
    """Delimited sources: the synthetic offsets of the reader's slots, in slot order (the
    record-type slot first, then every data and trailer field)."""
    offsets = [0] if mapping.source.record_types else []
    return offsets + sorted({spec.offset for spec in _delimited_fields(mapping)})


def _delimited_fields(mapping: Mapping) -> list[FieldSpec]:
    trailer = mapping.trailer
    return [*mapping.fields.values(), *(trailer.all_fields().values() if trailer else ())]


def _column_index(spec: FieldSpec, names: list[str] | None, path: Path) -> int:
    """The column of a field given by its header-line name."""
    assert names is not None  # the loader insists on header_line for fields by name
    if spec.column_name not in names:
        # Line 1's cells are not shown: when the header line is missing, line 1 is a
        # resident's record, and its cells are personal data.
        raise InputFormatError(
            "the header line has no column named '{name}' (field {field})",
            {"name": spec.column_name, "field": spec.name}, file=path, record=1, offset=0,
            hint="Line 1 has {count} cells and none of them is '{name}'. If the file has no "
                 "header line, set source.header_line: false and give each field's column: "
                 "(0-based position); otherwise fix the name in the mapping.",
            hint_params={"count": len(names), "name": spec.column_name})
    return names.index(spec.column_name)
