"""The framing records of a chunk: which header, trailer, end and ignored records it holds,
what each trailer states, and which header/trailer fields differ from their `expect`.

Computed per chunk in the worker (like the rest of the mapping); the run puts the chunks
together in order (migrate.reconcile.framing) to check the order of the records and each
block's figures against its trailer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from migrate.layouts import FieldSpec, Mapping
from migrate.pii import show_bytes
from migrate.read.fixed import END, HEADER, IGNORE, TRAILER, RecordChunk
from migrate.transform.mapper import decode_field

FRAMING_KINDS = (HEADER, TRAILER, END, IGNORE)


@dataclass
class ChunkFraming:
    """What the run needs of one chunk's framing records (small: a few per file)."""

    records: list[int] = field(default_factory=list)   # record numbers of framing records
    kinds: list[int] = field(default_factory=list)     # their kinds (HEADER, TRAILER, …)
    codes: list[str] = field(default_factory=list)     # their record-type codes
    # trailer record number → {figure or field name: (value as int/str or None, reason)}
    trailers: dict[int, dict[str, tuple[Any, str | None]]] = field(default_factory=dict)
    # (record, kind, field, value as shown, expected) of header/trailer fields that differ
    unexpected: list[tuple[int, int, str, str, str]] = field(default_factory=list)


def chunk_framing(mapping: Mapping, chunk: RecordChunk,
                  header: dict[str, Any] | None = None) -> ChunkFraming:
    """The chunk's framing records, its trailers' values and its header/trailer `expect`
    mismatches (`header`: the run's header values, where an md field takes its year)."""
    out = ChunkFraming()
    rt = mapping.source.record_types
    if rt is None and not mapping.source.header_line:
        return out
    idx = np.flatnonzero(np.isin(chunk.kinds, FRAMING_KINDS))
    numbers = chunk.record_numbers
    for i in idx.tolist():
        record, kind = int(numbers[i]), int(chunk.kinds[i])
        out.records.append(record)
        out.kinds.append(kind)
        code = chunk.records[i, rt.offset:rt.offset + rt.length].tobytes() if rt else b""
        out.codes.append(code.decode("ascii", "replace").strip())
        if mapping.source.delimited and kind == HEADER:
            continue  # a line of column names, or a header line without fields
        specs: dict[str, FieldSpec] = {}
        if kind == HEADER:
            specs = mapping.header_fields
        elif kind == TRAILER and mapping.trailer is not None:
            specs = mapping.trailer.all_fields()
        row = chunk.records[i:i + 1]
        values = {}
        for name, spec in specs.items():
            result = decode_field(spec, row[:, spec.offset:spec.end], mapping.source, header)
            value, error = result.values[0], result.errors[0]
            values[name] = (value, error)
            if spec.expect is not None and (error is not None or str(value) != spec.expect):
                shown = show_bytes(row[0, spec.offset:spec.end].tobytes(),
                                   mapping.source.encoding)
                out.unexpected.append((record, kind, name, shown, spec.expect))
        if kind == TRAILER:
            out.trailers[record] = values
    return out
