"""Join Parquet parts written by workers into one file without re-encoding a page.

Each worker encodes its chunk as a standalone Parquet file (same schema, same writer options).
The joined file is the parts' pages laid end to end under one new footer: the first part's
FileMetaData with every part's row groups, their absolute file offsets shifted to where the
part's pages now lie, and the row count summed.

Why hand-written: the footer is a Thrift compact-protocol struct, and no library we depend on
lets Python rewrite its offsets (pyarrow's FileMetaData is read-only but for append_row_groups
and set_file_path, which shift nothing). So this module holds a small generic compact-protocol
codec: a struct parses into an ordered list of (field id, type, value) and writes back to the
same bytes, and the join edits only the fields it must (field ids from parquet.thrift).

Left as written: older pyarrow (15; not 26) also writes a copy of each ColumnChunk after its pages
(ColumnChunk.file_offset points at it); the copy is page bytes to us, so its offsets stay the
part's. Readers use the footer, not the copy; the footer's file_offset is shifted to it.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Any, BinaryIO

MAGIC = b"PAR1"
ENCRYPTED_MAGIC = b"PARE"

# Compact-protocol type ids (thrift doc/specs/thrift-compact-protocol.md).
STOP, TRUE, FALSE, I8, I16, I32, I64, DOUBLE, BINARY, LIST, SET, MAP, STRUCT, UUID = range(14)

Field = tuple[int, int, Any]
"""(field id, compact type, value): bool for a TRUE/FALSE field; int for I8-I64 and a container's
bool element (its raw byte); bytes for DOUBLE (8 bytes LE), BINARY, UUID; (element type, items)
for LIST/SET; (key type, value type, [(key, value)]) for MAP; list[Field] for STRUCT."""

# parquet.thrift field ids
FMD_SCHEMA, FMD_NUM_ROWS, FMD_ROW_GROUPS, FMD_ENCRYPTION, FMD_SIGNING_KEY = 2, 3, 4, 8, 9
RG_COLUMNS, RG_FILE_OFFSET, RG_ORDINAL = 1, 5, 7
CC_FILE_PATH, CC_FILE_OFFSET, CC_META_DATA, CC_OFFSET_INDEX, CC_COLUMN_INDEX = 1, 2, 3, 4, 6
CC_CRYPTO, CC_ENCRYPTED_META = 8, 9  # ColumnCryptoMetaData, encrypted_column_metadata
CMD_OFFSETS = (9, 10, 11, 14)  # data_page, index_page, dictionary_page, bloom_filter offsets


class _Reader:
    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.buf):
            raise ValueError("truncated thrift data")
        self.pos += n
        return self.buf[self.pos - n : self.pos]

    def byte(self) -> int:
        self.pos += 1
        return self.buf[self.pos - 1]  # past the end: IndexError, parse_struct's ValueError

    def varint(self) -> int:
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if b < 0x80:
                return result
            shift += 7
            if shift > 63:
                raise ValueError("varint too long")

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def value(self, kind: int) -> Any:
        if kind in (TRUE, FALSE):  # a container element: one byte
            return self.byte()
        if kind == I8:
            b = self.byte()
            return b - 256 if b >= 128 else b
        if kind in (I16, I32, I64):
            return self.zigzag()
        if kind == DOUBLE:
            return self.take(8)
        if kind == BINARY:
            return self.take(self.varint())
        if kind == UUID:
            return self.take(16)
        if kind in (LIST, SET):
            header = self.byte()
            size = header >> 4 if header >> 4 != 15 else self.varint()
            element = header & 0x0F
            return element, [self.value(element) for _ in range(size)]
        if kind == MAP:
            size = self.varint()
            if size == 0:
                return 0, 0, []
            types = self.byte()
            key, val = types >> 4, types & 0x0F
            return key, val, [(self.value(key), self.value(val)) for _ in range(size)]
        if kind == STRUCT:
            return self.struct()
        raise ValueError(f"unknown thrift compact type {kind}")

    def struct(self) -> list[Field]:
        fields: list[Field] = []
        last = 0
        while (header := self.byte()) != STOP:
            kind, delta = header & 0x0F, header >> 4
            fid = last + delta if delta else self.zigzag()
            fields.append((fid, kind, kind == TRUE if kind in (TRUE, FALSE) else self.value(kind)))
            last = fid
        return fields


def _varint(out: bytearray, n: int) -> None:
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)


def _write(out: bytearray, kind: int, value: Any) -> None:
    if kind in (TRUE, FALSE, I8):  # container bool element, or i8
        out.append(value & 0xFF)
    elif kind in (I16, I32, I64):
        _varint(out, ((value << 1) ^ (value >> 63)) & 0xFFFFFFFFFFFFFFFF)
    elif kind in (DOUBLE, UUID):
        out += value
    elif kind == BINARY:
        _varint(out, len(value))
        out += value
    elif kind in (LIST, SET):
        element, items = value
        if len(items) < 15:
            out.append(len(items) << 4 | element)
        else:
            out.append(0xF0 | element)
            _varint(out, len(items))
        for item in items:
            _write(out, element, item)
    elif kind == MAP:
        key, val, pairs = value
        _varint(out, len(pairs))
        if pairs:
            out.append(key << 4 | val)
        for k, v in pairs:
            _write(out, key, k)
            _write(out, val, v)
    elif kind == STRUCT:
        _write_struct(out, value)
    else:
        raise ValueError(f"unknown thrift compact type {kind}")


def _write_struct(out: bytearray, fields: list[Field]) -> None:
    last = 0
    for fid, kind, value in fields:
        if kind in (TRUE, FALSE):
            kind = TRUE if value else FALSE
        if 0 < fid - last <= 15:
            out.append((fid - last) << 4 | kind)
        else:
            out.append(kind)
            _write(out, I16, fid)
        if kind not in (TRUE, FALSE):
            _write(out, kind, value)
        last = fid
    out.append(STOP)


def parse_struct(data: bytes | memoryview) -> list[Field]:
    """A compact-protocol struct (e.g. a Parquet footer) as an ordered list of fields."""
    reader = _Reader(bytes(data))
    try:
        fields = reader.struct()
    except (IndexError, RecursionError) as exc:
        raise ValueError("truncated or malformed thrift struct") from exc
    if reader.pos != len(reader.buf):
        raise ValueError("trailing bytes after thrift struct")
    return fields


def dump_struct(fields: list[Field]) -> bytes:
    """The compact-protocol bytes of a struct read by parse_struct."""
    out = bytearray()
    _write_struct(out, fields)
    return bytes(out)


def footer_start(data: bytes | memoryview) -> int:
    """Where a Parquet file's footer (its FileMetaData) begins; checks the magic at both ends."""
    if len(data) >= 4 and ENCRYPTED_MAGIC in (bytes(data[:4]), bytes(data[-4:])):
        raise ValueError("encrypted Parquet files are not supported")
    if len(data) < 12 or bytes(data[:4]) != MAGIC or bytes(data[-4:]) != MAGIC:
        raise ValueError("not a Parquet file (no PAR1 magic at both ends)")
    start = len(data) - 8 - int.from_bytes(data[-8:-4], "little")
    if start < 4:
        raise ValueError("not a Parquet file (footer length out of range)")
    return start


def _get(fields: list[Field], fid: int) -> Any:
    return next((value for f, _, value in fields if f == fid), None)


def _shifted(fields: list[Field], ids: Iterable[int], by: int, *, keep_zero: bool = False
             ) -> list[Field]:
    ids = set(ids)
    out: list[Field] = []
    for fid, kind, value in fields:
        if fid in ids:
            if kind != I64:
                raise ValueError(f"offset field {fid} is not an i64")
            if not (keep_zero and value == 0):
                value += by
        out.append((fid, kind, value))
    return out


def _shift_column(chunk: list[Field], by: int) -> list[Field]:
    present = {fid for fid, _, _ in chunk}
    if present & {CC_CRYPTO, CC_ENCRYPTED_META}:
        raise ValueError("encrypted Parquet files are not supported")
    if present & {CC_OFFSET_INDEX, CC_COLUMN_INDEX}:
        raise ValueError("page index not supported")
    if CC_FILE_PATH in present:
        raise ValueError("column chunks in another file (file_path) are not supported")
    # file_offset 0 means "no ColumnMetaData outside the footer" (parquet.thrift): stays 0.
    chunk = _shifted(chunk, [CC_FILE_OFFSET], by, keep_zero=True)
    return [(fid, kind, _shifted(value, CMD_OFFSETS, by) if fid == CC_META_DATA else value)
            for fid, kind, value in chunk]


def _shift_row_group(group: list[Field], by: int) -> list[Field]:
    out: list[Field] = []
    for fid, kind, value in _shifted(group, [RG_FILE_OFFSET], by):
        if fid == RG_COLUMNS:
            element, chunks = value
            value = (element, [_shift_column(chunk, by) for chunk in chunks])
        out.append((fid, kind, value))
    return out


def _footer(data: bytes | memoryview, start: int) -> list[Field]:
    meta = parse_struct(memoryview(data)[start:-8])
    if _get(meta, FMD_ENCRYPTION) is not None or _get(meta, FMD_SIGNING_KEY) is not None:
        raise ValueError("encrypted Parquet files are not supported")
    kinds = {fid: kind for fid, kind, _ in meta}
    if (kinds.get(FMD_SCHEMA), kinds.get(FMD_NUM_ROWS), kinds.get(FMD_ROW_GROUPS)) != (
            LIST, I64, LIST) or _get(meta, FMD_ROW_GROUPS)[0] != STRUCT:
        raise ValueError("not a Parquet footer (no schema, num_rows or row groups)")
    return meta


class ParquetJoiner:
    """Joins Parquet parts into one file written to `out`, part by part: `add` writes a part's
    pages at once and keeps its footer, `finish` writes the joined footer.

    out must be at the start of the file (offsets count the bytes written here). Parts without
    rows are skipped; if none has rows the output is a valid empty file with the first part's
    schema. After an error `out` holds partial bytes: write to a temporary file.
    """

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.parts = 0
        self.rows = 0
        self._template: list[Field] | None = None
        self._schema = b""
        self._groups: list[list[Field]] = []
        self._written = 0

    def add(self, data: bytes | memoryview) -> None:
        start = footer_start(data)
        meta = _footer(data, start)
        part_schema = dump_struct([(FMD_SCHEMA, LIST, _get(meta, FMD_SCHEMA))])
        if self._template is None:
            self._template, self._schema = meta, part_schema
        elif part_schema != self._schema:
            raise ValueError("Parquet parts have different schemas")
        self.parts += 1
        if self._written == 0:
            self.out.write(MAGIC)
            self._written = len(MAGIC)
        # By where this part's byte 4 lands, less 4; done (refusals) even if the part is empty.
        by = self._written - len(MAGIC)
        shifted = [_shift_row_group(g, by) for g in _get(meta, FMD_ROW_GROUPS)[1]]
        part_rows = _get(meta, FMD_NUM_ROWS)
        if part_rows == 0:
            return
        self._groups += shifted
        self.out.write(memoryview(data)[len(MAGIC) : start])
        self._written += start - len(MAGIC)
        self.rows += part_rows

    def finish(self) -> int:
        """Write the joined footer; returns the file's row count."""
        template, groups = self._template, self._groups
        if template is None:
            raise ValueError("no Parquet parts to join")
        if len(groups) > 2**15 and any(_get(g, RG_ORDINAL) is not None for g in groups):
            raise ValueError("too many row groups for the i16 RowGroup.ordinal")
        for ordinal, group in enumerate(groups):
            group[:] = [(f, k, ordinal if f == RG_ORDINAL else v) for f, k, v in group]
        replace = {FMD_NUM_ROWS: self.rows, FMD_ROW_GROUPS: (STRUCT, groups)}
        footer = dump_struct([(f, k, replace.get(f, v)) for f, k, v in template])
        self.out.write(footer)
        self.out.write(struct.pack("<I", len(footer)))
        self.out.write(MAGIC)
        return self.rows


def join_parquet(parts: Iterable[bytes | memoryview], out: BinaryIO) -> int:
    """Write the parts' row groups as one Parquet file to out; returns its row count (see
    ParquetJoiner: each part's pages are written as it comes, only the footers are kept)."""
    joiner = ParquetJoiner(out)
    for data in parts:
        joiner.add(data)
    return joiner.finish()
