"""`migrate preview`: a few records decoded field by field, beside each field's byte offset, its
raw bytes in hex and its decode status — the quickest way to see that an offset is off by one
(a text field that starts with the second byte of a kanji, digits that end in a space, a gap
that holds data).

Personal values are masked as everywhere else (`migrate.pii`): a field is personal when a
column it feeds is declared personal in the schema, and a data field that feeds no column is
treated as personal too (an unmapped name field is still a name). Masking covers the hex as
well (a name's bytes are the name); padding bytes stay visible, because they are what shows a
boundary. `unmask=True` shows everything.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from migrate.errors import UsageError
from migrate.layouts import FieldSpec, Mapping
from migrate.pii import mask
from migrate.read import open_reader
from migrate.read.fixed import CHILD, DATA, HEADER, TRAILER, RecordChunk, kind_names
from migrate.transform.mapper import ChunkMapper, decode_field

PREVIEW_CHUNK_BYTES = 1 << 20
SHOWN_BYTES = 16  # a longer field shows its first 12 and last 4 bytes in hex


@dataclass(frozen=True)
class FieldView:
    """One field (or an undeclared gap) of one record, as the screen shows it."""

    name: str  # the field's name; "" for a gap
    type: str  # the field type; "gap" for bytes no field covers
    offset: int  # first byte in the record (0-based, as the mapping writes it)
    file_offset: int  # first byte in the file
    length: int
    hex: str
    value: str | None  # decoded (masked unless unmask); None: no value
    status: str  # "ok", or the reason code that would reject the record
    warning: str | None
    columns: tuple[str, ...]  # the standard columns the field feeds
    masked: bool


@dataclass(frozen=True)
class RecordView:
    """One record: its number, kind (header, data, trailer, a child type, unknown), its fields."""

    number: int
    kind: str
    file_offset: int
    fields: tuple[FieldView, ...]


def preview(mapping: Mapping, path: Path, start: int = 1, count: int = 20,
            unmask: bool = False) -> list[RecordView]:
    """Records start … start + count − 1 of `path`, decoded with `mapping`."""
    if start < 1 or count < 1:
        raise UsageError("--record and -n count from 1")
    reader = open_reader(Path(path), mapping, PREVIEW_CHUNK_BYTES)
    locate = ChunkMapper(mapping, {})
    names = kind_names(mapping.source)
    views: list[RecordView] = []
    for chunk, row in _rows(reader, start, count):
        kind = int(chunk.kinds[row])
        specs, record = _specs_of(mapping, kind)
        record_bytes = chunk.records[row]
        rows = np.array([row])
        fields = []
        for spec in specs:
            file_offset = int(locate.offsets(chunk, rows, spec)[0])
            fields.append(_field_view(mapping, spec, record_bytes, file_offset, record, kind,
                                      unmask))
        if not mapping.source.delimited:
            base = int(chunk.byte_offsets()[row])
            fields.extend(_record_type(mapping, record_bytes, base))
            fields.extend(_gaps(mapping, specs, record_bytes, base, unmask))
        fields.sort(key=lambda f: (f.offset, f.name))
        views.append(RecordView(int(chunk.record_numbers[row]), names.get(kind, "unknown"),
                                int(chunk.byte_offsets()[row]), tuple(fields)))
    if not views:
        raise UsageError("the file has no record {record}", {"record": start},
                         hint="Give a record number from 1 to the number of records.")
    return views


def _rows(reader: object, start: int, count: int) -> Iterator[tuple[RecordChunk, int]]:
    """(chunk, row) of the wanted records, reading only the chunks that hold them."""
    end = start + count
    for first, n, *where in reader.plan():  # type: ignore[attr-defined]
        if first + n <= start:
            continue
        if first >= end:
            return
        chunk = reader.read_chunk(first, n, *where)  # type: ignore[attr-defined]
        for row in range(max(start - first, 0), min(end - first, n)):
            yield chunk, row


def _specs_of(mapping: Mapping, kind: int) -> tuple[list[FieldSpec], str | None]:
    """The fields declared for a record kind, and the child record's name for a child."""
    if kind == HEADER:
        return list(mapping.header_fields.values()), None
    if kind == TRAILER:
        trailer = mapping.trailer
        if trailer is None:
            return [], None
        return [*([trailer.count] if trailer.count else []),
                *trailer.control_totals.values()], None
    if kind == DATA:
        return list(mapping.fields.values()), None
    if kind >= CHILD and mapping.source.record_types:
        _, name = mapping.source.record_types.children[kind - CHILD]
        return list(mapping.children[name].fields.values()), name
    return [], None


def _columns_of(mapping: Mapping, name: str, record: str | None) -> tuple[str, ...]:
    return tuple(cm.column for cm in mapping.columns
                 if cm.kind in ("field", "child") and cm.source == name and cm.record == record)


def _field_view(mapping: Mapping, spec: FieldSpec, record_bytes: np.ndarray, file_offset: int,
                record: str | None, kind: int, unmask: bool) -> FieldView:
    cells = record_bytes[spec.offset:spec.end].reshape(1, -1)
    result = decode_field(spec, cells, mapping.source)
    value = result.values[0]
    status = result.errors[0] or "ok"
    columns = _columns_of(mapping, spec.name, record) if kind in (DATA,) or kind >= CHILD \
        else ()
    pii = None
    if kind == DATA or kind >= CHILD:
        pii = mapping.pii_of_field(spec.name, record) or (None if columns else "name")
    text = None if value is None else str(value)
    if status == "ok" and text is not None:
        status = _code_status(mapping, spec.name, record, text)
    masked = pii is not None and not unmask
    raw = cells.tobytes()
    return FieldView(spec.name, spec.type, spec.offset, file_offset, spec.length,
                     _hex(raw, mapping.source.encoding, masked),
                     mask(text, pii) if masked else text, status, result.warnings[0], columns,
                     masked)


def _code_status(mapping: Mapping, name: str, record: str | None, value: str) -> str:
    """unknown_code when a code table the field goes through does not list the value."""
    for cm in mapping.columns:
        if cm.source == name and cm.record == record and cm.codes is not None \
                and cm.kind in ("field", "child") and value not in cm.codes.mapping:
            return "unknown_code"
    return "ok"


def _record_type(mapping: Mapping, record_bytes: np.ndarray, base: int) -> list[FieldView]:
    """The record-type code (レコード区分) as a row of its own."""
    rt = mapping.source.record_types
    if rt is None:
        return []
    raw = record_bytes[rt.offset:rt.offset + rt.length].tobytes()
    return [FieldView("record_type", "code", rt.offset, base + rt.offset, rt.length,
                      _hex(raw, mapping.source.encoding, False),
                      raw.decode("ascii", "replace"), "ok", None, (), False)]


def _gaps(mapping: Mapping, specs: list[FieldSpec], record_bytes: np.ndarray, base: int,
          unmask: bool) -> list[FieldView]:
    """The byte ranges no field of this record kind covers (the record type and fillers
    included): data in a gap is the usual sign of a field that starts too late."""
    covered = np.zeros(len(record_bytes), bool)
    rt = mapping.source.record_types
    if rt is not None:
        covered[rt.offset:rt.offset + rt.length] = True
    for spec in specs:
        covered[spec.offset:spec.end] = True
    gaps = []
    position = 0
    while position < len(covered):
        if covered[position]:
            position += 1
            continue
        end = position
        while end < len(covered) and not covered[end]:
            end += 1
        raw = record_bytes[position:end].tobytes()
        blank = raw.strip(b" \x00") == b""
        gaps.append(FieldView("", "gap", position, base + position, end - position,
                              _hex(raw, mapping.source.encoding, not unmask and not blank),
                              None, "ok" if blank else "data_in_gap", None, (),
                              not unmask and not blank))
        position = end
    return gaps


def _hex(raw: bytes, encoding: str, masked: bool) -> str:
    """Bytes as hex pairs; masked: every byte but padding (spaces, NUL, the full-width space)
    shown as **, so that the boundaries stay visible and the value does not."""
    pairs = [f"{b:02X}" for b in raw]
    if masked:
        wide_space = "\u3000".encode(encoding, "ignore")
        keep = np.zeros(len(raw), bool)
        for i, byte in enumerate(raw):
            if byte in (0x20, 0x00):
                keep[i] = True
        if wide_space:
            at = raw.find(wide_space)
            while at >= 0:
                keep[at:at + len(wide_space)] = True
                at = raw.find(wide_space, at + len(wide_space))
        pairs = [p if k else "**" for p, k in zip(pairs, keep, strict=True)]
    if len(pairs) > SHOWN_BYTES:
        pairs = [*pairs[:12], "…", *pairs[-4:]]
    return " ".join(pairs)
